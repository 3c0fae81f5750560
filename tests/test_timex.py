"""Dates named in article text (core.timex) and how story scoring uses them."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from core.clustering import ClusterConfig, content_tokens, pair_score
from core.timex import MAX_INTERVALS, days_apart, referenced_days


def _day(iso: str) -> list[int]:
    ordinal = dt.date.fromisoformat(iso).toordinal()
    return [ordinal, ordinal]


def _month(first: str, last: str) -> list[int]:
    return [dt.date.fromisoformat(first).toordinal(), dt.date.fromisoformat(last).toordinal()]


@pytest.mark.parametrize(
    "text, published, expected",
    [
        ("Jurors heard about the Jan. 14 shooting.", "2016-03-10", [_day("2016-01-14")]),
        ("It happened on December 28, police said.", "2017-01-05", [_day("2016-12-28")]),
        ("Sentencing is set for March 3.", "2017-02-01", [_day("2017-03-03")]),
        ("The attack on January 14th, 2016 left two dead.", "2016-08-01", [_day("2016-01-14")]),
        ("Born 14 January 2016 in Leeds.", "2016-08-01", [_day("2016-01-14")]),
        ("The double shooting last January outside Lolo.", "2016-04-20", [_month("2016-01-01", "2016-01-31")]),
        ("Police said in November that the case was closed.", "2017-01-10", [_month("2016-11-01", "2016-11-30")]),
        ("Figures for January 2016 were revised.", "2016-06-01", [_month("2016-01-01", "2016-01-31")]),
    ],
)
def test_referenced_days_places_dates_near_publication(text, published, expected):
    assert referenced_days(text, published) == sorted(expected + [_day(published)])


def test_referenced_days_ignores_what_is_not_a_date():
    published = "2016-05-02"
    text = "Officers may 5 times have asked. He was shot at 7:45 p.m. A 2001 case on June 3, 2001 was cited. Feb. 30."
    assert referenced_days(text, published) == [_day(published)]
    assert referenced_days("Police said on March 3 that...", None) == []


def test_referenced_days_never_raises_on_odd_text():
    published = "2016-05-02"
    odd = [
        "Sepember 5",
        "Febuary 30, 2016",
        "January 0000",
        "in Decembre",
        "Dec. 99",
        "31 Feb 2016",
        "March 2016, 0 March 0000",
        "Jun 31st",
        "\x00May 1\ufffd",
    ]
    for text in odd:
        days = referenced_days(text, published)
        assert [dt.date.fromisoformat(published).toordinal()] * 2 in days
    assert referenced_days("Sepember 5", published) == sorted([_day("2015-09-05"), _day(published)])


def test_many_named_dates_keep_the_nearest_and_the_publication_day():
    published = "2016-12-31"
    text = " ".join(f"On March {d}, 2016 something happened." for d in range(1, 29))
    days = referenced_days(text, published)
    assert len(days) == MAX_INTERVALS
    assert _day(published) in days
    assert _day("2016-03-28") in days and _day("2016-03-01") not in days


def test_days_apart_measures_the_gap_between_intervals():
    january = _month("2016-01-01", "2016-01-31")
    assert days_apart([january], [_day("2016-01-20")]) == 0
    assert days_apart([january], [_day("2016-02-10")]) == 10
    assert days_apart([_day("2016-02-10"), january], [_day("2016-06-01"), _day("2016-02-12")]) == 2
    assert days_apart([], [january]) is None


def test_a_follow_up_naming_the_event_day_is_not_damped_for_time():
    config = ClusterConfig(time_boost=0.0)  # damping alone (the boost is tested below)
    first = "A man was shot dead outside the Allgood grocery on Pope Street on Aug. 14."
    later = "A man was charged on Friday in the Aug. 14 death of a man shot outside the Allgood grocery on Pope Street."
    unrelated_later = (
        "A man was charged on Friday in the death of a man shot outside the Allgood grocery on Pope Street."
    )

    def features(text: str, date: str) -> dict:
        return {
            "date": date,
            "days": referenced_days(text, date),
            "vec": {"allgood": 0.8, "pope": 0.6},
            "ents": {},
            "rare": [],
            "persons": {},
        }

    a = features(first, "2016-08-15")
    b = features(later, "2016-12-01")
    c = features(unrelated_later, "2016-12-01")
    assert pair_score(a, b, config) == pytest.approx(0.7)
    assert pair_score(a, c, config) < 0.05


def test_dated_articles_naming_a_rare_entity_on_the_same_days_score_higher():
    config = ClusterConfig(alpha=0.3)  # identical vectors, no weighted entities: 0.3 before time is counted

    def features(date: str | None, rare: list[str]) -> dict:
        vec = {"allgood": 0.6, "pope": 0.8}
        return {"date": date, "days": referenced_days("", date), "vec": vec, "ents": {}, "rare": rare, "persons": {}}

    street = ["fac:pope street"]
    day = features("2016-08-15", street)
    assert pair_score(day, features("2016-08-15", street), config) == pytest.approx(0.6)  # × (1 + 1)
    assert pair_score(day, features("2016-08-16", street), config) == pytest.approx(
        0.3 * (1 + math.exp(-0.5)), abs=1e-6
    )
    # ten days apart: the boost has faded and the damping beyond window_days takes over
    assert pair_score(day, features("2016-08-25", street), config) == pytest.approx(
        0.3 * (1 + math.exp(-5)) / 2, abs=1e-6
    )
    assert pair_score(day, features("2016-08-15", ["org:acme"]), config) == pytest.approx(0.3)  # no shared entity
    assert pair_score(day, features(None, street), config) == pytest.approx(0.3)  # undated: text and entities alone
    assert pair_score(day, features("2016-08-15", street), ClusterConfig(alpha=0.7)) == pytest.approx(1.0)  # capped


def test_the_title_and_lead_count_more_than_the_rest():
    article = {"title": "Bali meeting", "title_derived": False, "text": "Ministers met in Bali. Later, trade talks."}
    tokens = content_tokens(article, lead_terms=3, lead_weight=2)
    assert tokens.count("bali") == 4  # title once and lead once, each counted twice
    assert tokens.count("ministers") == 2
    assert tokens.count("trade") == 1
    derived = {**article, "title_derived": True}
    assert content_tokens(derived, lead_terms=3, lead_weight=2).count("bali") == 2
