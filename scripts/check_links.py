"""Check every internal link of the built documentation site: each `href`/`src` that stays within the
site must name a file of it, and its `#fragment` an `id` on that page. External links are not
fetched (CI has no network); 404.html (site-absolute by design) is skipped; links to the running server's own paths (/api/, /graphql/, /downloads/,
/catalog.*, /admin/) are not part of the site and are allowed.

    python scripts/check_links.py site      # exit 1 and a list when a link is broken
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

SERVER_PATHS = ("/api/", "/graphql/", "/downloads/", "/catalog.", "/admin/", "/healthz", "/readyz")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for attr in ("href", "src"):
            if attrs.get(attr) and not (tag == "link" and attr == "href" and attrs.get("rel") == "canonical"):
                self.links.append(attrs[attr])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check(site: Path) -> list[str]:
    site = site.resolve()
    pages = {p: parse(p) for p in sorted(site.rglob("*.html"))}
    broken = []
    for path, page in pages.items():
        if path == site / "404.html":   # MkDocs writes it with site-absolute links, for a server's error page
            continue
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("//", "mailto:", "data:", "javascript:")):
                continue
            if parts.path.startswith(SERVER_PATHS):
                continue
            url, fragment = urldefrag(link)
            if url.startswith("/"):
                broken.append(f"{path.relative_to(site)}: {link} (a site-absolute link breaks under /docs/)")
                continue
            target = (path.parent / unquote(url)).resolve() if url else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site) or not target.exists():
                broken.append(f"{path.relative_to(site)}: {link} (no such file)")
                continue
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {link} (no #{fragment} on that page)")
    return broken


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "site")
    if not (site / "index.html").is_file():
        print(f"{site}/index.html not found: build the site first (make docs)", file=sys.stderr)
        return 2
    broken = check(site)
    for line in broken:
        print(line)
    print(f"{len(broken)} broken internal links" if broken else f"links ok in {site}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
