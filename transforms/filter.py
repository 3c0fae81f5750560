"""FilterDateRange: keep articles published in a date range; skipped ones are counted, never lost silently."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.common import NAMESPACE

SKIPPED = "skipped"


class InRangeFn(beam.DoFn):
    """An article in; the article (in range) or a small skipped record (tagged ``skipped``) out."""

    def __init__(self, since: str | None, until: str | None):
        self.since = since or "0000-00-00"
        self.until = until or "9999-99-99"
        self.skipped = Metrics.counter(NAMESPACE, "skipped_out_of_range")

    def process(self, article: dict):
        day = article.get("published_date")
        if day is not None and self.since <= day <= self.until:
            yield article
            return
        self.skipped.inc()
        yield beam.pvalue.TaggedOutput(
            SKIPPED,
            {
                "id": article["id"],
                "source_id": article["source_id"],
                "source": article["source"],
                "published_date": day,
            },
        )


class FilterDateRange(beam.PTransform):
    """Normalised articles in; ``result.articles`` (published in ``[since, until]``) and ``result.skipped`` out.

    Undated articles are outside every range.
    """

    def __init__(self, since: str | None, until: str | None):
        super().__init__()
        self.since, self.until = since, until

    def expand(self, articles):
        return articles | "InRange" >> beam.ParDo(InRangeFn(self.since, self.until)).with_outputs(
            SKIPPED, main="articles"
        )
