"""UpdateState: earlier state records and this run's articles in; the next state generation's records out."""

from __future__ import annotations

import apache_beam as beam

from core.state import apply_retention, is_replaced, retention_start, state_record


def _newest(dates) -> str | None:
    """The latest of some ``YYYY-MM-DD`` dates (None values ignored); combinable."""
    return max((d for d in dates if d), default=None)


class UpdateState(beam.PTransform):
    """This run's articles in; the records of the next state out.

    Earlier records marked replaced (``MarkReplaced``) are dropped: this run
    re-derived them; all other earlier records are kept; each new article adds its record. Records published more
    than ``retention_days`` before the newest one lose their text.
    """

    def __init__(self, retention_days: int, earlier=None):
        super().__init__()
        self.retention_days = retention_days
        self.earlier = earlier  # the marked earlier state records; None for a full run, which carries none over

    def expand(self, articles):
        days = self.retention_days
        fresh = articles | "ToStateRecords" >> beam.Map(state_record)
        if self.earlier is None:
            records = fresh
        else:
            kept = self.earlier | "NotReplaced" >> beam.Filter(lambda r: not is_replaced(r))
            records = (kept, fresh) | "AllRecords" >> beam.Flatten()
        newest = (
            records | "Dates" >> beam.Map(lambda r: r.get("published_date")) | "Newest" >> beam.CombineGlobally(_newest)
        )
        return records | "ApplyRetention" >> beam.Map(
            lambda r, newest: apply_retention(r, retention_start(newest, days)), beam.pvalue.AsSingleton(newest)
        )
