"""Records of the cross-run state (plain functions).

The state keeps, for every article committed so far, what later runs need to
recognise its copies and continue its story:

* always: ids, source, publication date, title, ``content_hash`` (exact copies
  at any distance in time), ``story_id`` and the canonical entities (to rebuild
  the story record when the story grows);
* for articles published within ``retention_days`` of the newest article in
  the state: the normalised ``text`` too, from which near-duplicate MinHash
  signatures and story features are computed. Older records keep
  ``text: null``: they still catch exact copies, but no longer near copies or
  new members of their story.

A state record is a projection of an output article, so the state can always
be rebuilt from the output.
"""

from __future__ import annotations

import datetime as dt

STATE_FORMAT = "newsbeam-state"
STATE_VERSION = 1
DEFAULT_RETENTION_DAYS = 30
STATE_SHARDS = 4  # files per state generation (records spread by a hash of the article id)

PRIOR = "_prior"  # marks a state record travelling through dedup and clustering next to new articles
REPLACED = "_replaced"  # marks a state record this run re-derives (its partition is replaced, or it is read again)

_ENTITY_FIELDS = ("key", "canonical", "label", "kb_id")


def light_entities(article: dict) -> list[dict]:
    """An article's entities reduced to what linking and story records need: key, canonical, label, kb_id."""
    return [{f: e.get(f) for f in _ENTITY_FIELDS} for e in article.get("entities") or []]


def state_record(article: dict) -> dict:
    """An output (or pipeline) article in; its state record out."""
    return {
        "id": article["id"],
        "source_id": article["source_id"],
        "source": article["source"],
        "published": article.get("published"),
        "published_date": article.get("published_date"),
        "title": article["title"],
        "title_derived": bool(article.get("title_derived")),
        "text": article.get("text"),
        "content_hash": article["content_hash"],
        "story_id": article["story_id"],
        "entities": light_entities(article),
    }


def retention_start(newest_date: str | None, retention_days: int) -> str | None:
    """The first date (``YYYY-MM-DD``) whose articles keep their text, given the newest date in the state."""
    if newest_date is None:
        return None
    return (dt.date.fromisoformat(newest_date) - dt.timedelta(days=retention_days)).isoformat()


def apply_retention(record: dict, start: str | None) -> dict:
    """Drop the text of a record published before ``start`` (and of undated records)."""
    day = record.get("published_date")
    if record.get("text") is not None and (day is None or start is None or day < start):
        record = {**record, "text": None}
    return record


EMPTY_RANGE = ("9999-12-31", "0000-01-01")  # a run that replaces no partition (a watch batch adds to them)


def partition_in_range(day: str | None, since: str | None, until: str | None) -> bool:
    """Whether a date partition (``None`` or ``unknown``: undated) is one a run over ``[since, until]`` replaces."""
    return day not in (None, "unknown") and (since or "0000-00-00") <= day <= (until or "9999-99-99")


def in_range(record: dict, since: str | None, until: str | None) -> bool:
    """Whether a record's partition is one a run over ``[since, until]`` replaces (undated: never)."""
    return partition_in_range(record.get("published_date"), since, until)


def is_replaced(record: dict) -> bool:
    return bool(record.get(REPLACED))


def as_prior(record: dict) -> dict:
    """A state record in; the same record marked as an earlier run's article, for dedup and clustering."""
    return {**record, PRIOR: True, "duplicates": []}


def is_prior(article: dict) -> bool:
    return bool(article.get(PRIOR))
