"""Small helpers shared by the stage transforms."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

NAMESPACE = "newsbeam"
DEAD_LETTER = "dead_letter"


def count_dead_letter(record: dict) -> None:
    """Increment the per-stage and per-reason dead-letter counters."""
    Metrics.counter(NAMESPACE, f"dead_letter.{record['stage']}").inc()
    Metrics.counter(NAMESPACE, f"dead_letter_reason.{record['reason']}").inc()


def _emit_by_right(keyed):
    _, grouped = keyed
    features = list(grouped["features"])
    if features:
        for right in grouped["pairs"]:
            yield right, features[0]


def _emit_joined(keyed):
    _, grouped = keyed
    features = list(grouped["features"])
    if features:
        for left in grouped["halves"]:
            yield left, features[0]


def _distinct_pairs(keyed):
    yield keyed[0]


class JoinPairs(beam.PTransform):
    """Candidate pairs ``(left_id, right_id)`` in; ``(left_features, right_features)`` out.

    ``features`` is a PCollection of ``(id, features)``. Two CoGroupByKeys
    attach the features of each end, so no worker ever holds all features.
    Duplicate pairs are dropped first.
    """

    def __init__(self, features):
        super().__init__()
        self.features = features

    def expand(self, pairs):
        unique = (
            pairs
            | "KeyPair" >> beam.Map(lambda p: (p, None))
            | "GroupPair" >> beam.GroupByKey()
            | "DistinctPairs" >> beam.FlatMap(_distinct_pairs)
        )
        by_left = unique | "KeyByLeft" >> beam.Map(lambda p: (p[0], p[1]))
        halves = (
            {"pairs": by_left, "features": self.features}
            | "JoinLeft" >> beam.CoGroupByKey()
            | "KeyByRight" >> beam.FlatMap(_emit_by_right)
        )
        return (
            {"halves": halves, "features": self.features}
            | "JoinRight" >> beam.CoGroupByKey()
            | "Joined" >> beam.FlatMap(_emit_joined)
        )


def pairs_in_group(ids: list[str], max_size: int) -> list[tuple[str, str]]:
    """Every ordered pair ``(a, b)``, ``a < b``, of a block; none for a block larger than ``max_size``."""
    ids = sorted(set(ids))
    if len(ids) < 2 or len(ids) > max_size:
        return []
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
