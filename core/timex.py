"""Dates an article's text refers to, as day intervals (plain functions).

News about one event keeps naming the day it happened: a report of a trial
months later says "the Jan. 14 shooting" or "last January". Story clustering
measures the time between two articles as the gap between the days each one
covers: its publication day and the days its text names, so follow-up coverage
is not treated as a different event just because it was published later.

Recognised, in English: month and day with or without a year (``Jan. 14``,
``January 14th, 2016``, ``14 January 2016``) and a month on its own after
``in``/``last``/``early``/``late``/``mid``/``since``/``until``/``by`` or with a year
(``last January``, ``January 2016``: the whole month). A date without a year
is placed in the year that puts it nearest before the publication day (up to
``FUTURE_DAYS`` after it: "sentencing is set for March 3"). Dates more than
``max_back_days`` before publication or ``FUTURE_DAYS`` after are ignored.
Weekday names ("on Sunday") are not used: they add almost nothing to the
publication day itself.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from core.dates import MIN_YEAR, MONTHS

FUTURE_DAYS = 60
MAX_INTERVALS = 16

_MONTH_NAME = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_MONTH_DAY = re.compile(rf"\b{_MONTH_NAME}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(\d{{4}})\b)?")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_NAME}\b\.?(?:,?\s+(\d{{4}})\b)?")
_ANY_MONTH = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")  # every pattern starts one
_MONTH_ONLY = re.compile(
    rf"\b(?:(?:[Ii]n|[Ll]ast|[Ee]arly|[Ll]ate|[Mm]id-?|[Ss]ince|[Uu]ntil|[Bb]y)\s+{_MONTH_NAME}\b(?!\.?\s+\d)"
    rf"|\b{_MONTH_NAME}\.?,?\s+(\d{{4}})\b)"
)


def _month_number(name: str) -> int:
    """1–12 from a month name the patterns matched; they all start with the three-letter abbreviation
    (and also match slips such as "Sepember")."""
    return MONTHS[name[:3].lower()]


def _resolve_year(month: int, day: int, published: dt.date) -> dt.date | None:
    """The occurrence of month/day nearest before ``published`` (or at most FUTURE_DAYS after it)."""
    best = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        gap = (published - candidate).days
        if -FUTURE_DAYS <= gap and (best is None or gap < (published - best).days):
            best = candidate
    return best


def _month_interval(year: int, month: int) -> tuple[int, int]:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1).toordinal(), dt.date(year, month, last).toordinal()


def referenced_days(text: str, published_date: str | None, max_back_days: int = 730) -> list[list[int]]:
    """Day intervals ``[first, last]`` (proleptic ordinals) an article covers: its publication day and the dates
    its text names. Empty for an undated article (a year-less date cannot be placed)."""
    if not published_date:
        return []
    published = dt.date.fromisoformat(published_date)
    lowest = published.toordinal() - max_back_days
    highest = published.toordinal() + FUTURE_DAYS
    found: set[tuple[int, int]] = {(published.toordinal(), published.toordinal())}

    def add_day(month_name: str, day: str, year: str) -> None:
        month, day_number = _month_number(month_name), int(day)
        if year:
            try:
                date = dt.date(int(year), month, day_number)
            except ValueError:
                return
        else:
            date = _resolve_year(month, day_number, published)
            if date is None:
                return
        found.add((date.toordinal(), date.toordinal()))

    def month_day(match: re.Match) -> str:
        add_day(*match.group(1, 2, 3))
        return " "

    def day_month(match: re.Match) -> str:
        add_day(*match.group(2, 1, 3))
        return " "

    # full dates first, and taken out so that "14 January 2016" does not also count as the whole month; a text
    # naming no month (half of Reuters') skips the three patterns
    rest = _DAY_MONTH.sub(day_month, _MONTH_DAY.sub(month_day, text)) if _ANY_MONTH.search(text) else ""
    for bare, named, year in _MONTH_ONLY.findall(rest):
        month = _month_number(bare or named)
        if year:
            if MIN_YEAR <= int(year) <= dt.MAXYEAR:
                found.add(_month_interval(int(year), month))
        else:
            # the most recent such month that has begun by the publication day
            y = published.year if month <= published.month else published.year - 1
            found.add(_month_interval(y, month))
    in_reach = [(lo, hi) for lo, hi in found if hi >= lowest and lo <= highest]
    # at most MAX_INTERVALS, the nearest to publication (the publication day itself always stays)
    day = published.toordinal()
    nearest = sorted(in_reach, key=lambda iv: (max(0, iv[0] - day, day - iv[1]), iv))
    return [list(interval) for interval in sorted(nearest[:MAX_INTERVALS])]


def days_apart(a: list[list[int]], b: list[list[int]]) -> int | None:
    """Fewest days between any interval of ``a`` and any of ``b`` (0 when they overlap); None when either is empty."""
    if not a or not b:
        return None
    return min(max(0, lo_b - hi_a, lo_a - hi_b) for lo_a, hi_a in a for lo_b, hi_b in b)
