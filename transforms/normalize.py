"""NormalizeArticles: raw article dicts in, normalised article dicts out (plus dead letters)."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from core import deadletter as dl
from core.language import load_identifier
from core.normalize import NormalizeConfig, NormalizeError, normalize_article, without_paragraphs
from transforms.common import DEAD_LETTER, NAMESPACE, count_dead_letter, packed, unpacked


class NormalizeFn(beam.DoFn):
    """A packed raw article dict (``transforms.common.packed``) in; normalised article dict, or a dead letter, out."""

    def __init__(self, config: NormalizeConfig):
        self.config = config
        self.identify = None
        self.normalized = Metrics.counter(NAMESPACE, "articles_normalized")
        self.boilerplate = Metrics.counter(NAMESPACE, "boilerplate_lines_removed")
        self.non_english = Metrics.counter(NAMESPACE, "articles_non_english")

    def setup(self):
        self.identify = load_identifier()

    def process(self, data: bytes):
        raw = unpacked(data)
        src = raw["source"]
        try:
            article = normalize_article(raw, self.config, self.identify)
        except NormalizeError as exc:
            record = dl.dead_letter(
                src["path"], src["line"], "normalize", exc.reason, str(exc), raw["text"], raw["source_id"]
            )
            count_dead_letter(record)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
            return
        except Exception as exc:  # noqa: BLE001 - a bug on one article must not stop the job
            record = dl.dead_letter(
                src["path"],
                src["line"],
                "normalize",
                dl.INTERNAL_ERROR,
                f"{type(exc).__name__}: {exc}",
                raw["text"],
                raw["source_id"],
            )
            count_dead_letter(record)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
            return
        self.normalized.inc()
        self.boilerplate.inc(article["boilerplate_lines_removed"])
        if article["language"] != "en":
            self.non_english.inc()
        yield without_paragraphs(article)


class NormalizeArticles(beam.PTransform):
    """Raw article dicts in; ``result.articles`` (normalised dicts) and ``result.dead_letter`` out.

    The articles leave without ``paragraphs``, which repeat ``text``; the
    pipeline restores them (``core.normalize.with_paragraphs``) before validation.
    """

    def __init__(self, config: NormalizeConfig):
        super().__init__()
        self.config = config

    def expand(self, raw_articles):
        return (
            raw_articles
            # One JSONL file of many records is parsed by one worker; normalising them (language identification
            # above all) costs many times the parse, so the records are spread over all workers first.
            | "Pack" >> beam.Map(packed)
            | "SpreadRecords" >> beam.Reshuffle()
            | "Normalize" >> beam.ParDo(NormalizeFn(self.config)).with_outputs(DEAD_LETTER, main="articles")
        )
