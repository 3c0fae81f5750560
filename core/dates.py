"""Parse publication dates into ISO-8601.

A bare calendar date stays a date (``2022-07-07``). A date with a time becomes
a UTC date-time with an explicit offset (``1987-02-26T15:01:01.790000+00:00``):
an offset given in the input is honoured and converted to UTC
(``published_tz = "given"``); a time without an offset is assumed to be UTC
(``published_tz = "assumed-utc"``). The partition key is the UTC calendar date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MIN_YEAR = 1900

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# Reuters-21578: 26-FEB-1987 15:01:01.79
_DMY_TIME = re.compile(r"^(\d{1,2})-([A-Za-z]{3,9})-(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$")
# February 26, 1987 / Feb. 26 1987
_MDY = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$")
# 26 February 1987
_DMY = re.compile(r"^(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})$")
# SGML character references and what follows them (Reuters-21578: "00:02:59.13&#5;&#5;&#5;RM")
_SGML_TAIL = re.compile(r"&#\d+;.*$", re.DOTALL)


class DateError(ValueError):
    """A date that cannot be used; ``reason`` is a dead-letter reason code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Published:
    """A parsed publication date."""

    iso: str
    date: str
    tz: str | None


def iso_sort_key(iso: str) -> str:
    """Lexically sortable UTC key for a ``published`` value; a bare date sorts at the start of its day."""
    return iso if "T" in iso else iso + "T00:00:00"


def _month(name: str) -> int:
    try:
        return MONTHS[name.lower().rstrip(".")]
    except KeyError:
        raise DateError("invalid_date", f"unknown month name {name!r}") from None


def _date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateError("invalid_date", f"impossible date {raw!r}: {exc}") from None


def _from_datetime(value: dt.datetime) -> Published:
    if value.tzinfo is None:
        tz = "assumed-utc"
        value = value.replace(tzinfo=dt.UTC)
    else:
        tz = "given"
        value = value.astimezone(dt.UTC)
    return Published(iso=value.isoformat(), date=value.date().isoformat(), tz=tz)


def parse_date(raw: str) -> Published:
    """Parse one date string; raises ``DateError`` for anything unusable."""
    text = _SGML_TAIL.sub("", raw).strip()
    if not text:
        raise DateError("invalid_date", "empty date")
    if m := _ISO_DATE.match(text):
        d = _date(int(m[1]), int(m[2]), int(m[3]), raw)
        return Published(iso=d.isoformat(), date=d.isoformat(), tz=None)
    if m := _DMY_TIME.match(text):
        d = _date(int(m[3]), _month(m[2]), int(m[1]), raw)
        if m[4] is None:
            return Published(iso=d.isoformat(), date=d.isoformat(), tz=None)
        micro = int((m[7] or "0").ljust(6, "0"))
        try:
            t = dt.time(int(m[4]), int(m[5]), int(m[6] or 0), micro)
        except ValueError as exc:
            raise DateError("invalid_date", f"impossible time in {raw!r}: {exc}") from None
        return _from_datetime(dt.datetime.combine(d, t))
    if m := _MDY.match(text):
        d = _date(int(m[3]), _month(m[1]), int(m[2]), raw)
        return Published(iso=d.isoformat(), date=d.isoformat(), tz=None)
    if m := _DMY.match(text):
        d = _date(int(m[3]), _month(m[2]), int(m[1]), raw)
        return Published(iso=d.isoformat(), date=d.isoformat(), tz=None)
    if text[:4].isdigit():  # ISO-8601 date-time, e.g. 2022-07-07T10:00:00+02:00
        try:
            return _from_datetime(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    try:  # RFC 2822, e.g. "Thu, 07 Jul 2022 10:00:00 +0000"
        return _from_datetime(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    raise DateError("invalid_date", f"unrecognised date {raw!r}")


def check_range(published: Published, reference: dt.date, tolerance_days: int) -> None:
    """Reject dates before 1900 or after ``reference + tolerance_days``."""
    day = dt.date.fromisoformat(published.date)
    if day.year < MIN_YEAR:
        raise DateError("date_out_of_range", f"date {published.iso} is before {MIN_YEAR}")
    latest = reference + dt.timedelta(days=tolerance_days)
    if day > latest:
        raise DateError(
            "date_out_of_range",
            f"date {published.iso} is after the reference date {reference.isoformat()} + {tolerance_days} day(s)",
        )
