"""Assemble newsbeam's stages for a streaming run: the batch pipeline's transforms, windowed by publication date.

The source is the caller's: any PCollection of file specs (``{"path",
"base"}`` dicts) that a streaming runner can feed, e.g. paths from a storage
notification topic. Files are read and normalised as in a batch run; then
``WindowByPublication`` puts each article in its publication-date window
(``core.windowing``) and the same ``DeduplicateArticles``,
``EnrichEntities``, ``ClusterStories`` and ``BuildStories`` run per window:
copies and stories are found among the articles of one window. Nothing here
writes files; the batch writer (``WritePartitions``) commits through the
driver and is not a streaming sink.
"""

from __future__ import annotations

import apache_beam as beam

from core.normalize import with_paragraphs
from core.windowing import WindowConfig
from pipeline.assemble import RunConfig
from transforms.cluster import BuildStories, ClusterStories
from transforms.common import DEAD_LETTER
from transforms.dedup import LINKS, DeduplicateArticles
from transforms.enrich import EnrichEntities
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.validate import ValidateRecords
from transforms.window import WindowByPublication


def build_streaming_stages(specs, config: RunConfig, windowing: WindowConfig | None = None) -> dict:
    """File specs (a possibly unbounded PCollection) in; windowed ``articles``, ``stories``, ``dead_letters`` out."""
    read = specs | "ReadArticles" >> ReadArticles(config.max_article_bytes)
    normalized = read.articles | "NormalizeArticles" >> NormalizeArticles(config.normalize)
    windowed = normalized.articles | "WindowByPublication" >> WindowByPublication(windowing)
    dedup = windowed["articles"] | "DeduplicateArticles" >> DeduplicateArticles(config.dedup)
    enriched = dedup["articles"] | "EnrichEntities" >> EnrichEntities(config.entities)
    clustered = enriched | "ClusterStories" >> ClusterStories(config.cluster)
    articles = (
        clustered | "RestoreParagraphs" >> beam.Map(with_paragraphs) | "ValidateArticles" >> ValidateRecords("article")
    )
    stories = articles.valid | "BuildStories" >> BuildStories() | "ValidateStories" >> ValidateRecords("story")
    dead_letters = (
        read[DEAD_LETTER],
        normalized[DEAD_LETTER],
        windowed[DEAD_LETTER],
        articles[DEAD_LETTER],
        stories[DEAD_LETTER],
    ) | "CollectDeadLetters" >> beam.Flatten()
    return {"articles": articles.valid, "stories": stories.valid, "dead_letters": dead_letters, LINKS: dedup[LINKS]}
