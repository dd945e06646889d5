"""The curation workflow (docs/curation.md): the quantitative statements of a source text, which of them
the fixtures capture, and candidate facts for a new text.

A *quantitative statement* is a number (digits, or Chinese numerals as indicators.numerals reads them)
followed by a unit (`UNITS`: 亿元, 万人, %, 个百分点, 户…). Against the fixtures, a statement is

- `captured`: an observation citing this source has a quote that spans it and the statement's number as
  its value (`value`, or `value_as_written` for Chinese numerals);
- `cited`: a quote of another fact (a project status, an event, an observation of another number) spans
  it, but no observation states it;
- `explained`: docs/fixtures.md lists it (source and offset) in "Statements left out", with the reason;
- `unexplained`: none of these: capture it or explain it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from indicators.numerals import CHARS, parse_chinese_numeral

#: Units of quantity as the texts write them (after an optional 万/亿 multiplier), longest first.
BASE_UNITS = sorted("""
% ％ 个百分点 百分点 元 斤 吨 人次 人 户 辆 头 只 亩 平方米 平方公里 公里 千米 米 个 家 项 所 座 条 处 件 场 次 天 倍
台 套 名 张 栋 片 批 位 千瓦时 千瓦 标准箱 架次 列 班 趟 类 款 间 层 年 个月
""".split(), key=len, reverse=True)
_UNIT = rf"(?:万亿|亿|万)?\s?(?:{'|'.join(map(re.escape, BASE_UNITS))})"
#: A number in digits (a decimal point allowed), a layout space or line break before its unit allowed.
DIGITS_STATEMENT_RE = re.compile(rf"(?P<number>\d+(?:\.\d+)?)\s{{0,2}}(?P<unit>{_UNIT})")
#: A number in Chinese numerals, which takes its 万/亿 into the number (百亿元: 百亿, 元).
NUMERAL_STATEMENT_RE = re.compile(rf"(?P<number>[{CHARS}]+)\s?(?P<unit>{'|'.join(map(re.escape, BASE_UNITS))})")
#: Units a number in Chinese numerals is read with: elsewhere (九台, 五家子, 八项规定) the characters are names.
NUMERAL_UNITS = {"元", "斤", "吨", "人", "户", "亩", "公里", "个", "座", "所", "条", "处", "件", "倍", "辆", "头", "名"}
#: Words after a Chinese numeral that make it a name or a heading, not a quantity of the city.
NOT_AFTER = ("维度",)


@dataclass(frozen=True)
class Statement:
    source: str
    offset: int  # of the number, in characters of the source text
    text: str  # number and unit as written
    number: str
    unit: str

    @property
    def end(self) -> int:
        return self.offset + len(self.text)

    def value(self) -> Decimal | None:
        try:
            return Decimal(self.number) if self.number[0].isdigit() else parse_chinese_numeral(self.number)
        except (InvalidOperation, ValueError):
            return None


def statements(text: str, source: str) -> list[Statement]:
    """Every quantitative statement of a text, in order. Not quantities: a year ("2024年"), a number that
    is part of a larger one, an ordinal (第八批), a Chinese numeral opening a quoted slogan (“两个确立”,
    “四个意识”) or naming a place (九台, 五台山), 一 as an article (一个重大课题), and a count of years in
    Chinese numerals (三年)."""
    out = []
    for m in DIGITS_STATEMENT_RE.finditer(text):
        number, unit = m["number"], m["unit"]
        if unit == "年" and (len(number) == 4 or int(float(number)) > 100):
            continue  # a year, not a count of years
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] in ".-/:"):
            continue
        out.append(Statement(source, m.start(), m.group(0), number, unit))
    for m in NUMERAL_STATEMENT_RE.finditer(text):
        number, unit = m["number"], m["unit"]
        before = text[max(0, m.start() - 4):m.start()].rstrip()
        if unit not in NUMERAL_UNITS or text[m.end():m.end() + 2] in NOT_AFTER or number == "一":
            continue  # 一个, 一条: an article ("a"), not a count
        if before and (before[-1].isdigit() or before[-1] in "第“\"'「"):
            continue
        try:
            parse_chinese_numeral(number)
        except ValueError:
            continue
        out.append(Statement(source, m.start(), m.group(0), number, unit))
    return sorted(out, key=lambda st: st.offset)


@dataclass
class Coverage:
    source: str
    captured: list[Statement]
    cited: list[Statement]
    explained: list[tuple[Statement, str]]
    unexplained: list[Statement]

    @property
    def total(self) -> int:
        return len(self.captured) + len(self.cited) + len(self.explained) + len(self.unexplained)


def left_out(doc: Path) -> dict[tuple[str, int], str]:
    """The statements docs/fixtures.md lists as left out: (source, offset) -> reason, from the rows
    `| source | offset | statement | reason |` of its section "Statements left out"."""
    text = doc.read_text(encoding="utf-8")
    start = text.find("## Statements left out")
    if start < 0:
        return {}
    out = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1].isdigit():
            out[(cells[0].strip("`"), int(cells[1]))] = cells[3]
    return out


@dataclass(frozen=True)
class Quotes:
    """The quotes of the facts, per source: observations' with the numbers they state, and the others'."""

    stating: dict[str, list[tuple[int, int, frozenset[str]]]]  # source -> (start, end, numbers as written)
    other: dict[str, list[tuple[int, int]]]

    @classmethod
    def of_fixtures(cls, fx) -> Quotes:
        """From `opendata.loader.schema.read_fixtures` (the files, before any load)."""
        stating: dict = {}
        other: dict = {}
        for o in fx.observations:
            numbers = frozenset({format(o["value"].normalize(), "f"), o.get("value_as_written") or ""} - {""})
            for src, off, quote in o["citations"]:
                stating.setdefault(src, []).append((off, off + len(quote), numbers))
        for rec in (*fx.statuses, *fx.events):
            for src, off, quote in rec["citations"]:
                other.setdefault(src, []).append((off, off + len(quote)))
        return cls(stating, other)

    @classmethod
    def of_database(cls) -> Quotes:
        """From the loaded data (live records and citations): what `data_report` reports."""
        from indicators.models import Observation
        from projects.models import Event, ProjectStatus

        stating: dict = {}
        other: dict = {}
        for o in Observation.objects.alive().prefetch_related("citations__source"):
            numbers = frozenset({format(o.value.normalize(), "f"), o.value_as_written} - {""})
            for c in o.citations.all():
                if c.deleted_at is None:
                    stating.setdefault(c.source.slug, []).append((c.offset, c.offset + len(c.quote), numbers))
        for model in (ProjectStatus, Event):
            for rec in model.objects.alive().prefetch_related("citations__source"):
                for c in rec.citations.all():
                    if c.deleted_at is None:
                        other.setdefault(c.source.slug, []).append((c.offset, c.offset + len(c.quote)))
        return cls(stating, other)


def coverage(quotes: Quotes, source: str, text: str, explanations: dict[tuple[str, int], str]) -> Coverage:
    """Which statements of one source the facts capture, cite, or docs/fixtures.md explains."""
    values = quotes.stating.get(source, [])
    others = quotes.other.get(source, [])
    result = Coverage(source, [], [], [], [])
    for st in statements(text, source):
        if st.number[0].isdigit():
            def states(nums, number=format(st.value().normalize(), "f")):
                return number in nums or st.number in nums
        else:  # 万 of 万亿: the numeral as written, its unit's multiplier read into it
            def states(nums, number=st.number):
                return any(n and not n[0].isdigit() and number.startswith(n) for n in nums)
        if any(a <= st.offset and st.offset + len(st.number) <= b and states(nums) for a, b, nums in values):
            result.captured.append(st)
        elif (st.source, st.offset) in explanations:
            result.explained.append((st, explanations[(st.source, st.offset)]))
        elif any(a <= st.offset < b for a, b, _ in values) or any(a <= st.offset < b for a, b in others):
            result.cited.append(st)
        else:
            result.unexplained.append(st)
    return result


# -- candidate facts of a new text (manage.py curation_draft) ---------------------------------------

TARGET_WORDS = ("力争", "确保", "目标", "预计", "计划", "将", "要", "争取", "今年", "全年")
CLAUSE_END = "。;；,，、\n!！?？"
YEAR_RE = re.compile(r"(20\d\d|19\d\d)年")


def _clause(text: str, start: int, end: int) -> tuple[int, str]:
    """The clause around a statement: from the punctuation before it to the punctuation after it."""
    a = start
    while a > 0 and text[a - 1] not in CLAUSE_END and start - a < 60:
        a -= 1
    b = end
    while b < len(text) and text[b] not in CLAUSE_END and b - end < 30:
        b += 1
    return a, text[a:b]


def comparator_of(clause: str, number_start: int, number_end: int) -> str:
    """The comparator the clause's words say (docs/fixtures.md): 以上 after the number, 约/接近 before it."""
    after, before = clause[number_end:number_end + 4], clause[:number_start]
    if any(w in after for w in ("以上", "多")) or any(w in before[-4:] for w in ("超过", "突破", "逾", "不低于", "超")):
        return "at_least"
    if any(w in after for w in ("以内", "以下")) or any(w in before[-5:] for w in ("控制在", "不超过")):
        return "at_most"
    if "左右" in after or any(w in before[-3:] for w in ("约", "接近", "近")):
        return "about"
    return "exact"


def candidates(text: str, source: str, *, year: int | None) -> list[dict]:
    """A candidate fact for each quantitative statement of a new text: value, unit, comparator, quote and
    offset parsed; kind and period suggested (a year the clause names, else the document's year for a
    plan's words, the year before for a result). Every field is a suggestion for a curator to check."""
    out = []
    for st in statements(text, source):
        start, clause = _clause(text, st.offset, st.end)
        sentence_start = max(text.rfind("。", 0, st.offset), text.rfind("\n", 0, st.offset), st.offset - 120) + 1
        stop = [i for i in (text.find("。", st.end), text.find("\n", st.end)) if i >= 0]
        sentence = text[sentence_start:min(stop, default=len(text))]
        if st.number[0].isdigit():
            value, written = st.number, ""
        else:
            value, written = format(parse_chinese_numeral(st.number).normalize(), "f"), st.number
        years = [int(y) for y in YEAR_RE.findall(sentence)]  # the clause's sentence: "2024年,粮食产量…"
        planned = any(w in sentence for w in TARGET_WORDS)
        if years:
            period = str(years[-1])
        elif year is not None:
            period = str(year if planned else year - 1)
        else:
            period = None
        cand = {
            "quote": clause, "offset": start, "number_as_written": st.text, "value": value,
            "unit": st.unit.replace(" ", "").replace("\n", ""), "comparator": comparator_of(clause, st.offset - start, st.end - start),
            "kind_suggested": "target" if planned else "actual", "period_suggested": period,
            "indicator": None,  # the curator names it: grep fixtures/drafts/README.md for the code in use
        }
        if written:
            cand["value_as_written"] = written
        out.append(cand)
    return out
