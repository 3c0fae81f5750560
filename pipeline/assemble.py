"""Assemble the newsbeam pipeline: read → normalise → dedup → enrich → cluster → validate → write."""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from core.clustering import ClusterConfig
from core.deadletter import dead_letter_sort_key
from core.entities import EntityConfig
from core.minhash import DedupConfig
from core.normalize import NormalizeConfig
from core.stories import story_partition
from transforms.cluster import BuildStories, ClusterStories
from transforms.common import DEAD_LETTER
from transforms.dedup import DeduplicateArticles
from transforms.enrich import EnrichEntities
from transforms.filter import SKIPPED, FilterDateRange
from transforms.normalize import NormalizeArticles
from transforms.read import FILES, ReadArticles
from transforms.validate import ValidateRecords
from transforms.write import WritePartitions

ARTICLES_DIR = "articles"
STORIES_DIR = "stories"
DEAD_LETTER_DIR = "dead_letter"
FILES_DIR = "_files"  # per-input-file stats for the manifest; never committed to the output
SKIPPED_DIR = "_skipped"  # articles outside --since/--until, counted for the balance; never committed


@dataclass(frozen=True)
class RunConfig:
    """Everything the pipeline graph depends on (recorded in the manifest)."""

    staging_dir: str
    max_article_bytes: int
    normalize: NormalizeConfig
    entities: EntityConfig = EntityConfig()
    dedup: DedupConfig = DedupConfig()
    cluster: ClusterConfig = ClusterConfig()
    num_shards: int = 1
    since: str | None = None  # with until: only articles published in [since, until] (UTC dates)
    until: str | None = None

    @property
    def ranged(self) -> bool:
        return self.since is not None or self.until is not None


def article_partition(article: dict) -> str:
    return article.get("published_date") or "unknown"


def _by_id(record: dict) -> str:
    return record["id"]


def _by_story_id(record: dict) -> str:
    return record["story_id"]


def _by_path(record: dict) -> str:
    return record["path"]


def build_pipeline(p: beam.Pipeline, file_specs: list[dict], config: RunConfig) -> dict:
    """Add newsbeam's stages to ``p``, reading ``file_specs`` (``{"path", "base"}`` dicts).

    Returns the main PCollections by name, for tests and for later stages.
    """
    specs = p | "ListInputs" >> beam.Create(sorted(file_specs, key=lambda s: s["path"]))
    read = specs | "ReadArticles" >> ReadArticles(config.max_article_bytes)
    normalized = read.articles | "NormalizeArticles" >> NormalizeArticles(config.normalize)
    in_range = normalized.articles
    if config.ranged:
        ranged = normalized.articles | "FilterDateRange" >> FilterDateRange(config.since, config.until)
        in_range = ranged.articles
        ranged[SKIPPED] | "WriteSkipped" >> WritePartitions(config.staging_dir, SKIPPED_DIR, lambda _: None, _by_id, 1)
    unique = in_range | "DeduplicateArticles" >> DeduplicateArticles(config.dedup)
    enriched = unique | "EnrichEntities" >> EnrichEntities(config.entities)
    clustered = enriched | "ClusterStories" >> ClusterStories(config.cluster)
    articles = clustered | "ValidateArticles" >> ValidateRecords("article")
    stories = articles.valid | "BuildStories" >> BuildStories()
    valid_stories = stories | "ValidateStories" >> ValidateRecords("story")

    dead_letters = (
        read[DEAD_LETTER],
        normalized[DEAD_LETTER],
        articles[DEAD_LETTER],
        valid_stories[DEAD_LETTER],
    ) | "CollectDeadLetters" >> beam.Flatten()

    staging, shards = config.staging_dir, config.num_shards
    articles.valid | "WriteArticles" >> WritePartitions(staging, ARTICLES_DIR, article_partition, _by_id, shards)
    valid_stories.valid | "WriteStories" >> WritePartitions(staging, STORIES_DIR, story_partition, _by_story_id, shards)
    dead_letters | "WriteDeadLetters" >> WritePartitions(
        staging, DEAD_LETTER_DIR, lambda _: None, dead_letter_sort_key, shards
    )
    read[FILES] | "WriteFileStats" >> WritePartitions(staging, FILES_DIR, lambda _: None, _by_path, 1)
    return {
        "articles": articles.valid,
        "stories": valid_stories.valid,
        "dead_letters": dead_letters,
        "files": read[FILES],
    }
