"""Story records from clustered articles (plain functions)."""

from __future__ import annotations

import hashlib
from collections import Counter

from core.dates import iso_sort_key
from core.dedup import survivor_order
from core.state import REPLACED, light_entities

TOP_ENTITIES = 10


def story_id_for(earliest_article_id: str) -> str:
    """A story's id derives from its earliest member, so it survives re-runs that add members."""
    return hashlib.sha256(f"story\x1f{earliest_article_id}".encode()).hexdigest()[:20]


def story_member(article: dict) -> dict:
    """An article (or state record) in; only what ``build_story`` reads out, so stories group small records."""
    return {
        "id": article["id"],
        "source_id": article["source_id"],
        "published": article.get("published"),
        "published_date": article.get("published_date"),
        "title": article["title"],
        "entities": light_entities(article),
        **({REPLACED: True} if article.get(REPLACED) else {}),
    }


def build_story(story_id: str, members: list[dict]) -> dict:
    """One story dict (``schemas.Story``) from its member articles."""
    ordered = sorted(members, key=survivor_order)
    dated = [a["published"] for a in ordered if a.get("published")]
    representative = ordered[0]
    counts: Counter = Counter()
    info: dict[str, dict] = {}
    for article in ordered:
        for ent in {e["key"]: e for e in article.get("entities") or []}.values():
            counts[ent["key"]] += 1
            info.setdefault(ent["key"], ent)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ENTITIES]
    return {
        "schema_version": "1",
        "story_id": story_id,
        "title": representative["title"],
        "first_published": min(dated, key=iso_sort_key) if dated else None,
        "last_published": max(dated, key=iso_sort_key) if dated else None,
        "size": len(ordered),
        "article_ids": [a["id"] for a in ordered],
        "source_ids": [a["source_id"] for a in ordered],
        "representative_id": representative["id"],
        "top_entities": [
            {
                "key": key,
                "canonical": info[key]["canonical"],
                "label": info[key]["label"],
                "kb_id": info[key].get("kb_id"),
                "count": n,
            }
            for key, n in top
        ],
    }


def story_partition(story: dict) -> str:
    """Stories are partitioned by their first publication date (UTC)."""
    first = story.get("first_published")
    return first[:10] if first else "unknown"
