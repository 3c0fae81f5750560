"""MarkReplaced: state records and this run's articles in; state records marked ``_replaced`` where this run
re-derives them."""

from __future__ import annotations

import apache_beam as beam

from core.state import REPLACED, in_range


def _mark(keyed, since: str | None, until: str | None):
    _, grouped = keyed
    again = bool(list(grouped["new"]))
    for record in grouped["state"]:
        yield {**record, REPLACED: True} if again or in_range(record, since, until) else record


class MarkReplaced(beam.PTransform):
    """``(state records, new articles)`` in; every state record out, marked ``_replaced`` when its partition is
    inside ``[since, until]`` (a ranged run replaces it) or this run reads the same article again (same id).

    Replaced records are not earlier articles for this run: they take no part in
    deduplication or clustering, leave their stories and are dropped from the next state.
    """

    def __init__(self, since: str | None, until: str | None):
        super().__init__()
        self.since, self.until = since, until

    def expand(self, inputs):
        state, articles = inputs
        return (
            {
                "state": state | "KeyStateById" >> beam.Map(lambda r: (r["id"], r)),
                "new": articles | "KeyNewById" >> beam.Map(lambda a: (a["id"], None)),
            }
            | "JoinById" >> beam.CoGroupByKey()
            | "Mark" >> beam.FlatMap(_mark, self.since, self.until)
        )
