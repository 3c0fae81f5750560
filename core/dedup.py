"""Collapse copies of one article into a survivor (plain functions)."""

from __future__ import annotations

from core.normalize import published_sort_key
from core.state import is_prior


def survivor_order(article: dict) -> tuple:
    """The documented survivor rule: earliest ``published``, then smallest ``source_id`` (then ``id``)."""
    return (published_sort_key(article), article["source_id"], article["id"])


def dedup_order(article: dict) -> tuple:
    """Survivor rule among copies: an article committed by an earlier run first (its id is already
    published downstream), then ``survivor_order``."""
    return (not is_prior(article), *survivor_order(article))


def collapse(group: list[dict], reason: str, similarity: dict[str, float] | None = None) -> dict:
    """Pick the survivor of a group of copies and list every other member under ``duplicates``.

    ``similarity`` maps a member's id to its similarity with the survivor
    (1.0 when absent). Duplicates already carried by members are kept, so
    chains of collapses stay linked to the final survivor.
    """
    ordered = sorted(group, key=dedup_order)
    survivor = dict(ordered[0])
    refs = list(survivor.get("duplicates") or [])
    for other in ordered[1:]:
        refs.append(
            {
                "source_id": other["source_id"],
                "article_id": other["id"],
                "source": other["source"],
                "reason": reason,
                "similarity": round((similarity or {}).get(other["id"], 1.0), 4),
                # private, dropped before output: where a link to an earlier run's article is partitioned
                "_published_date": other.get("published_date"),
                "_prior": is_prior(other),
            }
        )
        refs.extend(other.get("duplicates") or [])
    survivor["duplicates"] = sorted(refs, key=lambda r: (r["source_id"], r["article_id"]))
    return survivor
