"""A source's text with every cited passage marked: the text cut at each citation's start and end,
each piece knowing the citations that cover it (passages may overlap). Offsets count characters of
the text, as the citations' offsets and `text_url`'s `#char=start,end` do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    start: int
    text: str
    citations: tuple  # the citations covering this piece, by offset
    first_of: tuple  # the citations that start here (their anchor goes on this piece)


def pieces(text: str, citations) -> list[Piece]:
    cuts = {0, len(text)}
    for c in citations:
        cuts.update((max(0, c.offset), min(len(text), c.offset + len(c.quote))))
    bounds = sorted(cuts)
    out = []
    for start, end in zip(bounds, bounds[1:]):
        if start == end:
            continue
        covering = tuple(c for c in citations if c.offset <= start and c.offset + len(c.quote) >= end)
        out.append(Piece(start, text[start:end], covering, tuple(c for c in covering if c.offset == start)))
    return out
