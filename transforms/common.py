"""Small helpers shared by the stage transforms."""

from __future__ import annotations

import apache_beam as beam
import orjson
from apache_beam.metrics import Metrics

NAMESPACE = "newsbeam"
DEAD_LETTER = "dead_letter"


def count_dead_letter(record: dict) -> None:
    """Increment the per-stage and per-reason dead-letter counters."""
    Metrics.counter(NAMESPACE, f"dead_letter.{record['stage']}").inc()
    Metrics.counter(NAMESPACE, f"dead_letter_reason.{record['reason']}").inc()


def packed(record: dict) -> bytes:
    """A JSON-shaped record (an article) in; its orjson bytes out, to cross a shuffle.

    A runner that groups decodes each value it receives into Python objects
    and encodes them again for the next stage (the FnApiRunner does, in one
    process, while it holds the whole collection). Bytes cross as they are, and
    take a fraction of a decoded dict's memory. ``unpacked`` reverses it.
    """
    return orjson.dumps(record)


def unpacked(data: bytes) -> dict:
    """``packed`` bytes in; the record out (lists where the record had tuples)."""
    return orjson.loads(data)


class ListPerWindow(beam.PTransform):
    """Elements in; one list of all elements of each window out (none for a window without elements).

    Unlike ``beam.combiners.ToList()``, this works in any windowing, so the
    stages that need a small global view (union-find over edges) also run
    per window in a streaming pipeline.
    """

    def expand(self, pcoll):
        return pcoll | "Combine" >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()


class DictPerWindow(beam.PTransform):
    """``(key, value)`` pairs with distinct keys in; one dict of each window's pairs out (none for a window
    without elements: read it with ``AsSingleton(..., default_value={})``), for a side input.

    The combine fires once per window with all of the window's pairs, like the
    other per-window global steps. An ``AsDict`` straight on ``BlockKeys``'
    element-by-element output was read too early in the streaming test
    (BundleBasedDirectRunner): a block met an article id the dict did not hold yet.
    """

    def expand(self, pcoll):
        return pcoll | "Combine" >> beam.CombineGlobally(beam.combiners.ToDictCombineFn()).without_defaults()


def pairs_in_group(ids: list[str], max_size: int) -> list[tuple[str, str]]:
    """Every ordered pair ``(a, b)``, ``a < b``, of a block; none for a block larger than ``max_size``."""
    ids = sorted(set(ids))
    if len(ids) < 2 or len(ids) > max_size:
        return []
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
