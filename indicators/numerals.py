"""Numbers written in Chinese characters (万亿, 千万, 百, 两, 三千五百万…), read as the texts write them.

A statement such as "经济总量超万亿" or "当年完成投资接近百亿元" has no digits: its observation keeps the
numeral as written (`value_as_written`: "万" before the unit 亿元, "千万", "百") beside its value, and the
rule of values in quotes (indicators.services.observation_problems) checks that the numeral appears in
the quote and reads as the value. The curation commands find such numerals in a text with `NUMERAL_RE`.
"""

from __future__ import annotations

from decimal import Decimal

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL = {"十": 10, "百": 100, "千": 1000}
BIG = {"万": 10**4, "亿": 10**8}
CHARS = "".join(DIGITS) + "".join(SMALL) + "".join(BIG)
#: A run of Chinese numeral characters (what `parse_chinese_numeral` reads).
NUMERAL_RE = f"[{CHARS}]+"


def parse_chinese_numeral(text: str) -> Decimal:
    """The value of a Chinese numeral: 万 → 10000, 千万 → 10000000, 万亿 → 10^12, 两 → 2, 十五 → 15,
    三千五百万 → 35000000, 一亿五千万 → 150000000. A unit without a digit before it counts one (百 → 100).
    Raises ValueError for anything else (digits, other characters, an empty string)."""
    if not text or any(ch not in CHARS for ch in text):
        raise ValueError(f"{text!r} is not a number written in Chinese numerals")
    total, section, number = 0, 0, None
    for ch in text:
        if ch in DIGITS:
            if number:  # 零 may stand before a digit (一百零五)
                raise ValueError(f"{text!r}: two digits in a row")
            number = DIGITS[ch]
        elif ch in SMALL:
            section += (1 if number is None else number) * SMALL[ch]
            number = None
        else:
            section += number or 0
            number = None
            if ch == "亿":
                total = (total + (section or (0 if total else 1))) * BIG[ch]
            else:
                total += (section or 1) * BIG[ch]
            section = 0
    return Decimal(total + section + (number or 0))
