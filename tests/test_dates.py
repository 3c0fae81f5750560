"""Unit tests for core.dates."""

from __future__ import annotations

import datetime as dt

import pytest

from core.dates import DateError, check_range, parse_date


@pytest.mark.parametrize(
    ("raw", "iso", "tz"),
    [
        ("2022-07-07", "2022-07-07", None),
        ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01.790000+00:00", "assumed-utc"),
        ("26-FEB-1987", "1987-02-26", None),
        # reuters-10297: SGML control references after the time
        ("27-MAR-1987 01:47:20.85&#5;&#5;&#5;RM", "1987-03-27T01:47:20.850000+00:00", "assumed-utc"),
        ("2022-07-07T10:00:00+02:00", "2022-07-07T08:00:00+00:00", "given"),
        ("2022-07-07T23:30:00-05:00", "2022-07-08T04:30:00+00:00", "given"),
        ("2022-07-07T10:00:00", "2022-07-07T10:00:00+00:00", "assumed-utc"),
        ("Thu, 07 Jul 2022 10:00:00 +0000", "2022-07-07T10:00:00+00:00", "given"),
        ("July 7, 2022", "2022-07-07", None),
        ("7 July 2022", "2022-07-07", None),
    ],
)
def test_parse_date_formats(raw, iso, tz):
    parsed = parse_date(raw)
    assert (parsed.iso, parsed.tz) == (iso, tz)
    assert parsed.date == iso[:10]


@pytest.mark.parametrize("raw", ["2022-13-45", "2022-02-30", "yesterday", "31-FOO-1987", ""])
def test_impossible_or_unknown_dates_are_invalid(raw):
    with pytest.raises(DateError) as info:
        parse_date(raw)
    assert info.value.reason == "invalid_date"


def test_range_check():
    ref = dt.date(2026, 11, 23)
    check_range(parse_date("2026-11-25"), ref, 2)
    for raw in ("2026-11-26", "1899-12-31"):
        with pytest.raises(DateError) as info:
            check_range(parse_date(raw), ref, 2)
        assert info.value.reason == "date_out_of_range"
