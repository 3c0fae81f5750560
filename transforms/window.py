"""WindowByPublication: articles in, the same articles in event-time windows (publication date) out.

For streaming runs (``core.windowing``). Each article's timestamp becomes its
publication date shifted by the allowed lateness, and articles go into fixed
windows of whole publication days, so the downstream stages
(``DeduplicateArticles``, ``EnrichEntities``, ``ClusterStories``,
``BuildStories``) each fire once per window, with all of its articles,
whatever order they arrived in. An article arriving after its window closed
goes to the dead-letter output (stage ``window``, reason
``arrived_after_window_closed``) instead of being dropped by a grouping step.

In a batch run every element arrives at the minimum timestamp, so nothing is late.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms import window

from core import deadletter as dl
from core.windowing import WindowConfig, event_timestamp, window_end
from transforms.common import DEAD_LETTER, NAMESPACE, count_dead_letter

TOO_LATE = "arrived_after_window_closed"


class AssignEventTimeFn(beam.DoFn):
    """An article (timestamped with its arrival) in; the article at its event time, or a dead letter, out."""

    def __init__(self, config: WindowConfig):
        self.config = config
        self.undated = Metrics.counter(NAMESPACE, "articles_event_time_is_arrival")
        self.late = Metrics.counter(NAMESPACE, "articles_too_late")

    def process(self, article: dict, timestamp=beam.DoFn.TimestampParam):
        event = event_timestamp(article.get("published_date"), self.config)
        if event is None:
            self.undated.inc()
            yield window.TimestampedValue(article, timestamp)
            return
        closes = window_end(event, self.config)
        if timestamp >= closes:
            self.late.inc()
            src = article["source"]
            record = dl.dead_letter(
                src["path"],
                src["line"],
                "window",
                TOO_LATE,
                f"published {article['published_date']}, arrived at {timestamp.to_rfc3339()}: "
                f"its window closed {window.Timestamp(closes).to_rfc3339()}",
                article.get("text"),
                article.get("source_id"),
            )
            count_dead_letter(record)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
            return
        yield window.TimestampedValue(article, event)


class WindowByPublication(beam.PTransform):
    """Normalised article dicts in; ``result["articles"]`` (windowed by publication date) and dead letters out."""

    def __init__(self, config: WindowConfig | None = None):
        super().__init__()
        self.config = config or WindowConfig()

    def expand(self, articles):
        config = self.config
        timed = articles | "AssignEventTime" >> beam.ParDo(AssignEventTimeFn(config)).with_outputs(
            DEAD_LETTER, main="articles"
        )
        windowed = timed.articles | "WindowByDays" >> beam.WindowInto(
            window.FixedWindows(config.size_seconds, config.offset_seconds)
        )
        return {"articles": windowed, DEAD_LETTER: timed[DEAD_LETTER]}
