"""Assemble the newsbeam pipeline: read → normalise → dedup → enrich → cluster → validate → write.

With a state (``--state``), a ranged run also reads the state records of
earlier runs: they take part in deduplication (new copies of earlier articles
become ``duplicates/`` links) and clustering (new articles join earlier
stories), stories continued from earlier runs are rebuilt (``_story_patches``
for partitions outside the range), and the next state is staged in ``_state``.
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from core.clustering import ClusterConfig
from core.deadletter import dead_letter_sort_key
from core.entities import EntityConfig
from core.minhash import DedupConfig
from core.normalize import NormalizeConfig, with_paragraphs
from core.state import DEFAULT_RETENTION_DAYS, EMPTY_RANGE, STATE_SHARDS, is_replaced, partition_in_range
from core.stories import story_partition
from transforms.cluster import STORY_DELETES, BuildStories, ClusterStories
from transforms.common import DEAD_LETTER
from transforms.dedup import LINKS, DeduplicateArticles
from transforms.enrich import EnrichEntities, NerCost
from transforms.filter import SKIPPED, FilterDateRange
from transforms.mark_replaced import MarkReplaced
from transforms.normalize import NormalizeArticles
from transforms.read import FILES, ReadArticles
from transforms.read_state import ReadState
from transforms.update_state import UpdateState
from transforms.validate import ValidateRecords
from transforms.write import WritePartitions

ARTICLES_DIR = "articles"
STORIES_DIR = "stories"
DEAD_LETTER_DIR = "dead_letter"
FILES_DIR = "_files"  # per-input-file stats for the manifest; never committed to the output
SKIPPED_DIR = "_skipped"  # articles outside --since/--until, counted for the balance; never committed
DUPLICATES_DIR = "duplicates"  # new copies of earlier runs' articles (with --state)
STORY_PATCHES_DIR = "_story_patches"  # story upserts/deletes for partitions outside the range; applied at commit
STATE_DIR = "_state"  # the next state generation's records; moved into --state after the commit


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
    state_files: tuple[str, ...] | None = None  # the current state's files; None: the run keeps no state
    state_retention_days: int = DEFAULT_RETENTION_DAYS
    append: bool = False  # a watch batch: add to the output, replace no partition (needs a state)

    @property
    def stateful(self) -> bool:
        return self.state_files is not None

    @property
    def ranged(self) -> bool:
        return self.since is not None or self.until is not None


def article_partition(record: dict) -> str:
    """The date partition of an article or a duplicate link: its publication date, or ``unknown``."""
    return record.get("published_date") or "unknown"


def by_id(record: dict) -> str:
    return record["id"]


def by_story_id(record: dict) -> str:
    return record["story_id"]


def _by_path(record: dict) -> str:
    return record["path"]


def _by_article_id(record: dict) -> str:
    return record["article_id"]


def _partition_field(record: dict) -> str:
    return record["partition"]


def _story_patches(stories, deletes, since: str | None, until: str | None):
    """Stories and deletes in; ``(in-range stories, patch records for partitions outside the range)`` out."""

    def outside(partition: str) -> bool:
        return not partition_in_range(partition, since, until)

    in_range_stories = stories | "StoriesInRange" >> beam.Filter(lambda s: not outside(story_partition(s)))
    upserts = (
        stories
        | "StoriesOutsideRange" >> beam.Filter(lambda s: outside(story_partition(s)))
        | "Upserts"
        >> beam.Map(lambda s: {"op": "upsert", "story_id": s["story_id"], "partition": story_partition(s), "story": s})
    )
    removals = (
        deletes
        | "DeletesOutsideRange" >> beam.Filter(lambda d: outside(d["partition"]))
        | "Deletes" >> beam.Map(lambda d: {"op": "delete", **d})
    )
    return in_range_stories, (upserts, removals) | "StoryPatches" >> beam.Flatten()


def enrich_and_cluster(survivors, config: RunConfig, priors=None):
    """Deduplicated articles in; the ``ValidateRecords`` result of enriched articles with story ids out.

    The stages a batch run and a streaming run share after deduplication
    (``pipeline.streaming``); ``priors`` are earlier runs' state records.
    """
    enriched = survivors | "EnrichEntities" >> EnrichEntities(config.entities)
    clustered = enriched | "ClusterStories" >> ClusterStories(config.cluster, priors)
    return (
        clustered | "RestoreParagraphs" >> beam.Map(with_paragraphs) | "ValidateArticles" >> ValidateRecords("article")
    )


def build_pipeline(p: beam.Pipeline, file_specs: list[dict], config: RunConfig) -> dict:
    """Add newsbeam's stages to ``p``, reading ``file_specs`` (``{"path", "base"}`` dicts).

    Returns the main PCollections by name, for tests and for later stages.
    """
    specs = p | "ListInputs" >> beam.Create(sorted(file_specs, key=lambda s: s["path"]))
    read = specs | "ReadArticles" >> ReadArticles(config.max_article_bytes)
    normalized = read.articles | "NormalizeArticles" >> NormalizeArticles(config.normalize)
    selected = normalized.articles
    if config.ranged:
        ranged = normalized.articles | "FilterDateRange" >> FilterDateRange(config.since, config.until)
        selected = ranged.articles
        ranged[SKIPPED] | "WriteSkipped" >> WritePartitions(config.staging_dir, SKIPPED_DIR, lambda _: None, by_id, 1)
    # Earlier runs' articles matter to a ranged run and to a watch batch; a full run replaces everything.
    uses_state = config.stateful and (config.ranged or config.append)
    state = p | "ReadState" >> ReadState(list(config.state_files)) if uses_state else None
    since, until = EMPTY_RANGE if config.append else (config.since, config.until)  # the partitions replaced
    priors = None
    if state is not None:
        state = (state, selected) | "MarkReplaced" >> MarkReplaced(since, until)
        priors = state | "Priors" >> beam.Filter(lambda r: not is_replaced(r))
    dedup = selected | "DeduplicateArticles" >> DeduplicateArticles(
        config.dedup, priors, NerCost(config.entities), config.entities.work_unit_chars
    )
    articles = enrich_and_cluster(dedup["articles"], config, priors)
    links = dedup[LINKS] | "ValidateLinks" >> ValidateRecords("duplicate_link")
    if state is not None:
        built = articles.valid | "BuildStories" >> BuildStories(state)
        stories, deletes = built["stories"], built[STORY_DELETES]
    else:
        stories, deletes = articles.valid | "BuildStories" >> BuildStories(), None
    valid_stories = stories | "ValidateStories" >> ValidateRecords("story")

    dead_letters = (
        read[DEAD_LETTER],
        normalized[DEAD_LETTER],
        articles[DEAD_LETTER],
        links[DEAD_LETTER],
        valid_stories[DEAD_LETTER],
    ) | "CollectDeadLetters" >> beam.Flatten()

    staging, shards = config.staging_dir, config.num_shards
    articles.valid | "WriteArticles" >> WritePartitions(staging, ARTICLES_DIR, article_partition, by_id, shards)
    links.valid | "WriteLinks" >> WritePartitions(staging, DUPLICATES_DIR, article_partition, _by_article_id, shards)
    written_stories = valid_stories.valid
    if deletes is not None:
        written_stories, patches = _story_patches(valid_stories.valid, deletes, since, until)
        patches | "WriteStoryPatches" >> WritePartitions(staging, STORY_PATCHES_DIR, _partition_field, by_story_id, 1)
    written_stories | "WriteStories" >> WritePartitions(staging, STORIES_DIR, story_partition, by_story_id, shards)
    if config.stateful:
        next_state = articles.valid | "UpdateState" >> UpdateState(config.state_retention_days, state)
        next_state | "WriteState" >> WritePartitions(staging, STATE_DIR, lambda _: None, by_id, STATE_SHARDS)
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
