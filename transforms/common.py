"""Small helpers shared by the stage transforms."""

from __future__ import annotations

import pickle

import apache_beam as beam
from apache_beam.metrics import Metrics

NAMESPACE = "newsbeam"
DEAD_LETTER = "dead_letter"


def count_dead_letter(record: dict) -> None:
    """Increment the per-stage and per-reason dead-letter counters."""
    Metrics.counter(NAMESPACE, f"dead_letter.{record['stage']}").inc()
    Metrics.counter(NAMESPACE, f"dead_letter_reason.{record['reason']}").inc()


def pack(value) -> bytes:
    """A picklable value in; its pickle out (what travels through a shuffle)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes):
    """The pickle of a value in; the value out."""
    return pickle.loads(data)


def _pack_value(kv):
    return kv[0], pack(kv[1])


def _unpack_values(kv):
    return kv[0], [unpack(v) for v in kv[1]]


def _unpack_tagged(kv):
    return kv[0], {tag: [unpack(v) for v in values] for tag, values in kv[1].items()}


class GroupByKeyPacked(beam.PTransform):
    """``(key, value)`` in; ``(key, [values])`` out, like ``GroupByKey``, with the values shuffled as bytes.

    A runner that groups in memory (Beam's local FnApiRunner keeps every
    grouped value as a decoded Python object in the driver) then holds one
    compact bytes object per value instead of a tree of dicts and strings.
    """

    def expand(self, pcoll):
        return (
            pcoll
            | "Pack" >> beam.Map(_pack_value)
            | "Group" >> beam.GroupByKey()
            | "Unpack" >> beam.Map(_unpack_values)
        )


class CoGroupByKeyPacked(beam.PTransform):
    """``{tag: PCollection of (key, value)}`` in; ``(key, {tag: [values]})`` out, the values shuffled as bytes."""

    def expand(self, tagged):
        packed = {tag: pcoll | f"Pack{tag.title()}" >> beam.Map(_pack_value) for tag, pcoll in tagged.items()}
        return packed | "Group" >> beam.CoGroupByKey() | "Unpack" >> beam.Map(_unpack_tagged)


class ListPerWindow(beam.PTransform):
    """Elements in; one list of all elements of each window out (none for a window without elements).

    Unlike ``beam.combiners.ToList()``, this works in any windowing, so the
    stages that need a small global view (union-find over edges) also run
    per window in a streaming pipeline.
    """

    def expand(self, pcoll):
        return pcoll | "Combine" >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()


def _attach_features(keyed, group: str):
    """``(id, {group: [items], "features": [f]})`` in; ``(item, f)`` for every item of ``group`` out."""
    _, grouped = keyed
    features = list(grouped["features"])
    if features:
        for item in grouped[group]:
            yield item, features[0]


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
        unique = pairs | "DistinctPairs" >> beam.Distinct()
        by_left = unique | "KeyByLeft" >> beam.Map(lambda p: (p[0], p[1]))
        halves = (
            {"pairs": by_left, "features": self.features}
            | "JoinLeft" >> CoGroupByKeyPacked()
            | "KeyByRight" >> beam.FlatMap(_attach_features, "pairs")
        )
        return (
            {"halves": halves, "features": self.features}
            | "JoinRight" >> CoGroupByKeyPacked()
            | "Joined" >> beam.FlatMap(_attach_features, "halves")
        )


def pairs_in_group(ids: list[str], max_size: int) -> list[tuple[str, str]]:
    """Every ordered pair ``(a, b)``, ``a < b``, of a block; none for a block larger than ``max_size``."""
    ids = sorted(set(ids))
    if len(ids) < 2 or len(ids) > max_size:
        return []
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
