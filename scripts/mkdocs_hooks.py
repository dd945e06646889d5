"""MkDocs hooks (mkdocs.yml): a link from a page to a file of the repository outside docs/
(`../examples/sync_client.py`) becomes the file's path as code, since the site does not hold it; every
other link is left to MkDocs' strict validation and scripts/check_links.py."""

from __future__ import annotations

import re
from pathlib import Path

LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((\.\./[^)#\s]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown, page, config, files):
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    here = (docs / page.file.src_path).parent

    def repo_file(match):
        target = (here / match.group(2)).resolve()
        if target.is_relative_to(docs) or not target.is_relative_to(root):
            return match.group(0)
        if not target.exists():
            raise ValueError(f"{page.file.src_path}: link to {match.group(2)}, which is not in the repository")
        path = target.relative_to(root).as_posix()
        text = match.group(1)
        return text if text.strip("`") == path else f"{text} (`{path}`)"

    return LINK.sub(repo_file, markdown)
