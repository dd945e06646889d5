"""Charts drawn on the server as SVG: no script, no library, nothing fetched. An indicator's values
over time, one chart per region and unit: results are filled dots joined by a solid line, targets
are hollow diamonds on a dashed bar spanning the target's period, each labelled with its comparator
(≥ at least, ≤ at most, ≈ about). The table of values under the chart says the same in text."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 20, 56

COMPARATOR_SIGN = {"at_least": "≥", "at_most": "≤", "about": "≈", "exact": ""}


@dataclass(frozen=True)
class Point:
    start: dt.date
    end: dt.date
    value: Decimal
    kind: str  # "actual" or "target"
    comparator: str
    label: str  # the period as written
    anchor: str  # the id of the row of the table of values

    @property
    def middle(self) -> float:
        return (self.start.toordinal() + self.end.toordinal() + 1) / 2


def fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, tick = [], start
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 10))
    return ticks


def tick_text(value: float) -> str:
    return f"{value:,.10f}".rstrip("0").rstrip(".")


def time_chart(points: list[Point], *, title: str, unit: str, chart_id: str) -> SafeString:
    """The SVG of one series of points (one indicator, region and unit)."""
    if not points:
        return mark_safe("")
    # the words of the chart, in the page's language (outside the f-strings, where makemessages finds them)
    description = _("Results are filled dots on a solid line; targets are hollow diamonds on a dashed bar over "
                    "their period. The table below lists every value.")
    result_word, target_word = _("Result"), _("Target")
    comparators = _("≥ at least · ≤ at most · ≈ about")
    values = [float(p.value) for p in points]
    low, high = min(0.0, *values), max(0.0, *values)
    ticks = nice_ticks(low, high)
    y_low, y_high = ticks[0], ticks[-1]
    first_year = min(p.start for p in points).year
    last_year = max(p.end for p in points).year
    x_low = dt.date(first_year, 1, 1).toordinal()
    x_high = dt.date(last_year + 1, 1, 1).toordinal()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return LEFT + (day - x_low) / (x_high - x_low) * plot_w

    def y(value: float) -> float:
        return TOP + (y_high - value) / (y_high - y_low) * plot_h

    out = [f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    # the value axis: grid lines and labels
    for t in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{tick_text(t)}</text>')
    out.append(f'<text class="axis-unit" x="{LEFT - 6}" y="{TOP - 6}" text-anchor="end">{escape(unit)}</text>')
    # the time axis: one label per year
    years = list(range(first_year, last_year + 1))
    every = max(1, math.ceil(len(years) / 10))
    for year in years[::every]:
        start, end = dt.date(year, 1, 1).toordinal(), dt.date(year + 1, 1, 1).toordinal()
        out.append(f'<line class="year" x1="{x(start):.1f}" x2="{x(start):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
        out.append(f'<text class="tick" x="{x((start + end) / 2):.1f}" y="{TOP + plot_h + 18}" '
                   f'text-anchor="middle">{year}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')

    taken: list[tuple[float, float]] = []  # labels already placed, so that none overlaps another

    def label_y(cx: float, cy: float, below: bool) -> float:
        ly = cy + 16 if below else cy - 8
        while any(abs(cx - tx) < 40 and abs(ly - ty) < 13 for tx, ty in taken):
            ly += 13 if below else -13
        taken.append((cx, ly))
        return ly

    results = sorted((p for p in points if p.kind == "actual"), key=lambda p: p.middle)
    targets = [p for p in points if p.kind == "target"]
    if len(results) > 1:
        path = " ".join(f"{x(p.middle):.1f},{y(float(p.value)):.1f}" for p in results)
        out.append(f'<polyline class="result-line" points="{path}"/>')
    for p in targets:
        cx, cy = x(p.middle), y(float(p.value))
        x0, x1 = x(p.start.toordinal()), x(p.end.toordinal() + 1)
        sign = COMPARATOR_SIGN.get(p.comparator, "")
        text = f"{target_word} {p.label}: {sign}{fmt(p.value)} {unit}"
        out.append(f'<a href="#{p.anchor}" class="point target" data-kind="target" data-comparator="{p.comparator}">'
                   f'<title>{escape(text)}</title>'
                   f'<line class="target-bar" x1="{x0:.1f}" x2="{x1:.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>'
                   f'<path class="target-mark" d="M{cx:.1f},{cy - 7:.1f} l7,7 l-7,7 l-7,-7 z"/>'
                   f'<text class="point-label target-label" x="{cx + 9:.1f}" y="{label_y(cx, cy, False):.1f}">{escape(sign + fmt(p.value))}</text></a>')
    for p in results:
        cx, cy = x(p.middle), y(float(p.value))
        sign = COMPARATOR_SIGN.get(p.comparator, "")
        text = f"{result_word} {p.label}: {sign}{fmt(p.value)} {unit}"
        out.append(f'<a href="#{p.anchor}" class="point result" data-kind="actual" data-comparator="{p.comparator}">'
                   f'<title>{escape(text)}</title>'
                   f'<circle class="result-mark" cx="{cx:.1f}" cy="{cy:.1f}" r="5"/>'
                   f'<text class="point-label result-label" x="{cx + 8:.1f}" y="{label_y(cx, cy, True):.1f}">{escape(sign + fmt(p.value))}</text></a>')
    # the legend
    ly = HEIGHT - 14
    out.append(f'<g class="legend"><circle class="result-mark" cx="{LEFT + 6}" cy="{ly - 4}" r="5"/>'
               f'<text x="{LEFT + 16}" y="{ly}">{escape(result_word)}</text>'
               f'<path class="target-mark" d="M{LEFT + 126},{ly - 11} l7,7 l-7,7 l-7,-7 z"/>'
               f'<line class="target-bar" x1="{LEFT + 110}" x2="{LEFT + 142}" y1="{ly - 4}" y2="{ly - 4}"/>'
               f'<text x="{LEFT + 150}" y="{ly}">{escape(target_word)}</text>'
               f'<text x="{LEFT + 230}" y="{ly}">{escape(comparators)}</text></g>')
    out.append("</svg>")
    return mark_safe("".join(out))
