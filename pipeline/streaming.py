"""Assemble newsbeam's stages for a streaming run: the batch pipeline's transforms, windowed by publication date.

The source is the caller's: any PCollection of file specs (``{"path",
"base"}`` dicts) that a streaming runner can feed, e.g. paths from a storage
notification topic. Files are read and normalised as in a batch run; then
``WindowByPublication`` puts each article in its publication-date window
(``core.windowing``) and the same ``DeduplicateArticles``,
``enrich_and_cluster`` (``EnrichEntities``, ``ClusterStories``, validation)
and ``BuildStories`` as in a batch run work per window:
copies and stories are found among the articles of one window.

With ``output_dir``, each window's articles, stories and dead letters are
written there as it fires, with the batch layout
(``articles/date=<published>/part-<window start>-NNNNN.jsonl``; dead letters
are windowed by arrival time): every file appears whole (written under a
temporary name, then renamed), but there is no manifest and no replacement of
whole partitions, which are batch-run guarantees.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.transforms import window

from core.deadletter import dead_letter_sort_key
from core.stories import story_partition
from core.windowing import WindowConfig
from pipeline.assemble import (
    ARTICLES_DIR,
    DEAD_LETTER_DIR,
    STORIES_DIR,
    RunConfig,
    article_partition,
    by_id,
    by_story_id,
    enrich_and_cluster,
)
from transforms.cluster import BuildStories
from transforms.common import DEAD_LETTER
from transforms.dedup import LINKS, DeduplicateArticles
from transforms.enrich import NerCost
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.validate import ValidateRecords
from transforms.window import WindowByPublication
from transforms.write import WritePartitions


def build_streaming_stages(
    specs, config: RunConfig, windowing: WindowConfig | None = None, output_dir: str | None = None
) -> dict:
    """File specs (a possibly unbounded PCollection) in; windowed ``articles``, ``stories``, ``dead_letters`` out."""
    windowing = windowing or WindowConfig()
    read = specs | "ReadArticles" >> ReadArticles(config.max_article_bytes)
    normalized = read.articles | "NormalizeArticles" >> NormalizeArticles(config.normalize)
    windowed = normalized.articles | "WindowByPublication" >> WindowByPublication(windowing)
    dedup = windowed["articles"] | "DeduplicateArticles" >> DeduplicateArticles(
        config.dedup, None, NerCost(config.entities), config.entities.work_unit_chars
    )
    articles = enrich_and_cluster(dedup["articles"], config)
    stories = articles.valid | "BuildStories" >> BuildStories() | "ValidateStories" >> ValidateRecords("story")
    dead_letters = (
        read[DEAD_LETTER],
        normalized[DEAD_LETTER],
        windowed[DEAD_LETTER],
        articles[DEAD_LETTER],
        stories[DEAD_LETTER],
    ) | "CollectDeadLetters" >> beam.Flatten()
    # Dead letters from before windowing are still in the source's window: window them all by their timestamp.
    dead_letters = dead_letters | "WindowDeadLetters" >> beam.WindowInto(
        window.FixedWindows(windowing.size_seconds, windowing.offset_seconds)
    )
    if output_dir is not None:
        shards = config.num_shards
        articles.valid | "WriteArticles" >> WritePartitions(output_dir, ARTICLES_DIR, article_partition, by_id, shards)
        stories.valid | "WriteStories" >> WritePartitions(output_dir, STORIES_DIR, story_partition, by_story_id, shards)
        dead_letters | "WriteDeadLetters" >> WritePartitions(
            output_dir, DEAD_LETTER_DIR, lambda _: None, dead_letter_sort_key, shards
        )
    return {"articles": articles.valid, "stories": stories.valid, "dead_letters": dead_letters, LINKS: dedup[LINKS]}
