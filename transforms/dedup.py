"""DeduplicateArticles: normalised articles in, one survivor per group of copies out."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from core.dedup import collapse
from transforms.common import NAMESPACE


class CollapseExactFn(beam.DoFn):
    """``(content_hash, [articles])`` in; the survivor, listing the others as exact duplicates, out."""

    def __init__(self):
        self.duplicates = Metrics.counter(NAMESPACE, "duplicates_exact")

    def process(self, keyed):
        _, group = keyed
        group = list(group)
        if len(group) > 1:
            self.duplicates.inc(len(group) - 1)
        yield collapse(group, "exact") if len(group) > 1 else group[0]


class DeduplicateArticles(beam.PTransform):
    """Normalised article dicts in; deduplicated article dicts out.

    Exact copies share a ``content_hash`` (the hash of the dedup-key
    normalisation of the text, so whitespace, case, quote and dash styles do
    not matter). The survivor is the earliest published copy, then the one with
    the smallest ``source_id``; it lists every copy under ``duplicates``.
    """

    def expand(self, articles):
        return (
            articles
            | "KeyByContentHash" >> beam.Map(lambda a: (a["content_hash"], a))
            | "GroupCopies" >> beam.GroupByKey()
            | "CollapseExact" >> beam.ParDo(CollapseExactFn())
        )
