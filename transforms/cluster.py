"""ClusterStories and BuildStories: group articles about the same event, then build one story record each.

ClusterStories, step by step (the logic is in ``core.clustering``):

1. ``CorpusStats``: one pass counts, per term and per entity key, the
   articles that contain it (combined per bundle, then merged).
2. ``StoryFeatures``: each article's TF-IDF vector, weighted entities, date.
3. ``BlockKeys`` / ``GroupBlocks``: candidate pairs share a block (a rare top
   term, paired within adjacent time buckets only, or a rare entity);
   oversized blocks are skipped, and keys no other article holds are not
   emitted. No all-pairs comparison.
4. ``ScoreBlocks`` / ``DistinctEdges``: the pairs of each block are scored
   where the block is grouped (each article's features travel once per block
   key, not once per pair, packed as a few byte strings by
   ``core.blockscore``, which scores a whole block with numpy); a pair found
   in several blocks is kept once.
5. ``Components``: union-find over scored edges (a small, global step).
6. ``GroupComponents`` / ``AverageLink``: each component's edges, and once per
   member its order and earlier story (edges carry ids and scores only), then
   average-link clustering; each story's id derives from its earliest member
   (``core.stories.story_id_for``).
7. ``AssignStories``: every article gets its story id; an article with no
   edge is a story of its own.

With ``priors`` (state records of earlier runs' articles that still have
text), those articles take part in the statistics, blocking and scoring, but
their stories are fixed: a new article joins at most one earlier story (and
takes its id) or forms a new one; earlier stories never merge or split.
Earlier articles are not output again.
"""

from __future__ import annotations

from collections import Counter

import apache_beam as beam
from apache_beam.metrics import Metrics

from core.blockscore import pack_entry, score_block
from core.clustering import (
    ClusterConfig,
    average_link,
    block_keys,
    connected_components,
    content_tokens,
    empty_features,
    entity_keys,
    story_features,
    story_node,
)
from core.state import as_prior, is_prior, is_replaced
from core.stories import build_story, story_id_for, story_member, story_partition
from transforms.common import NAMESPACE, ListPerWindow


class CorpusStatsFn(beam.CombineFn):
    """Articles in; ``{"n", "df", "edf"}``: article count and document frequencies of terms and entities."""

    def create_accumulator(self):
        return {"n": 0, "df": Counter(), "edf": Counter()}

    def add_input(self, acc, article):
        acc["n"] += 1
        acc["df"].update(set(content_tokens(article)))
        acc["edf"].update(entity_keys(article))
        return acc

    def merge_accumulators(self, accumulators):
        merged = self.create_accumulator()
        for acc in accumulators:
            merged["n"] += acc["n"]
            merged["df"].update(acc["df"])
            merged["edf"].update(acc["edf"])
        return merged

    def extract_output(self, acc):
        return {"n": acc["n"], "df": dict(acc["df"]), "edf": dict(acc["edf"])}


class StoryFeaturesFn(beam.DoFn):
    """Article dict in; ``(article id, story features)`` out.

    Should computing an article's features fail (a bug, not bad input: the
    article passed validation upstream), the job goes on: the article gets
    empty features, so it joins no block and forms a story of its own, and the
    failure is counted (``story_features_failed``, in the manifest's counters).
    """

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.failed = Metrics.counter(NAMESPACE, "story_features_failed")

    def process(self, article: dict, stats: dict):
        try:
            features = story_features(article, stats["df"], stats["edf"], stats["n"], self.config)
        except Exception:  # noqa: BLE001 - one article's features must not stop the job
            self.failed.inc()
            features = empty_features(article)
        yield article["id"], features


def _block_entries(keyed, stats: dict, config: ClusterConfig):
    """``(id, features)`` in; ``(block key, packed entry)`` for each block the article joins out.

    The entry (``core.blockscore.pack_entry``) holds only what scoring reads, as a few byte strings: order and
    earlier story reach average-link by another path, once per article rather than once per block.
    """
    _, features = keyed
    keys = block_keys(features, stats["df"], stats["edf"], config)
    if keys:
        entry = pack_entry(features, config)
        for key in keys:
            yield key, entry


class ScoreBlockFn(beam.DoFn):
    """``(block key, [packed entries])`` in; the block's scored edges ``(id_a, id_b, score)`` out."""

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.scored = Metrics.counter(NAMESPACE, "story_pairs_scored")
        self.skipped = Metrics.counter(NAMESPACE, "story_blocks_skipped")

    def process(self, keyed):
        key, members = keyed
        edges, scored, skipped = score_block(key, list(members), self.config)
        self.scored.inc(scored)
        self.skipped.inc(skipped)
        yield from edges


def _component_roots(edges: list[tuple]) -> list[tuple[str, str]]:
    return sorted(connected_components([(a, b) for a, b, *_ in edges]).items())


def _key_by_component(edge: tuple, roots: dict) -> tuple[str, tuple]:
    return roots[edge[0]], edge


def _node_by_component(keyed, roots: dict):
    """``(id, features)`` in; ``(component, node)`` out for an article with at least one edge."""
    article_id, features = keyed
    if article_id in roots:
        yield roots[article_id], story_node(features)


def _cluster_component(keyed, threshold: float):
    """``(component, {"edges": [edges], "nodes": [nodes]})`` in; ``(article_id, story_id)`` for each article of
    the component out."""
    _, grouped = keyed
    order, fixed = {}, {}
    for article_id, article_order, story in grouped["nodes"]:
        order[article_id] = article_order
        if story is not None:
            fixed[article_id] = story
    for members in average_link(list(grouped["edges"]), threshold, fixed):
        earlier = sorted({fixed[m] for m in members if m in fixed})
        story_id = earlier[0] if earlier else story_id_for(min(members, key=lambda m: order[m]))
        for member in members:
            if member not in fixed:
                yield member, story_id


def _assign(keyed):
    article_id, grouped = keyed
    stories = list(grouped["story"])
    for article in grouped["article"]:
        if is_prior(article):
            continue
        out = dict(article)
        out["story_id"] = stories[0] if stories else story_id_for(article_id)
        yield out


class ClusterStories(beam.PTransform):
    """Deduplicated, enriched article dicts in; the same dicts with ``story_id`` set out.

    ``priors``: an optional PCollection of state records (earlier runs' articles).
    """

    def __init__(self, config: ClusterConfig | None = None, priors=None):
        super().__init__()
        self.config = config or ClusterConfig()
        self.priors = priors

    def expand(self, articles):
        config = self.config
        if self.priors is not None:
            earlier = (
                self.priors
                | "WithText" >> beam.Filter(lambda r: r.get("text") is not None)
                | "MarkPriors" >> beam.Map(as_prior)
            )
            articles = (articles, earlier) | "WithPriors" >> beam.Flatten()
        stats = beam.pvalue.AsSingleton(
            articles | "CorpusStats" >> beam.CombineGlobally(CorpusStatsFn()).without_defaults()
        )
        features = articles | "StoryFeatures" >> beam.ParDo(StoryFeaturesFn(config), stats)
        edges = (
            features
            | "BlockKeys" >> beam.FlatMap(_block_entries, stats, config)
            | "GroupBlocks" >> beam.GroupByKey()
            | "ScoreBlocks" >> beam.ParDo(ScoreBlockFn(config))
            | "DistinctEdges" >> beam.Distinct()
        )
        roots = edges | "AllEdges" >> ListPerWindow() | "Components" >> beam.FlatMap(_component_roots)
        components = beam.pvalue.AsDict(roots)
        assignment = (
            {
                "edges": edges | "KeyByComponent" >> beam.Map(_key_by_component, components),
                "nodes": features | "NodesByComponent" >> beam.FlatMap(_node_by_component, components),
            }
            | "GroupComponents" >> beam.CoGroupByKey()
            | "AverageLink" >> beam.FlatMap(_cluster_component, config.threshold)
        )
        return (
            {"article": articles | "KeyById" >> beam.Map(lambda a: (a["id"], a)), "story": assignment}
            | "JoinStories" >> beam.CoGroupByKey()
            | "AssignStories" >> beam.FlatMap(_assign)
        )


STORY_DELETES = "story_deletes"


def rebuild_story(story_id: str, new: list[dict], earlier: list[dict]) -> tuple[dict | None, str | None]:
    """Rebuild a story touched by a run: ``(story or None, partition to delete it from or None)``.

    Members are this run's articles plus the earlier ones not replaced by this
    run (``MarkReplaced``). If the story's partition changed (or it has no
    members left), its old partition must drop the old record.
    """
    kept = [r for r in earlier if not is_replaced(r)]
    members = kept + new
    story = build_story(story_id, members) if members else None
    old = story_partition(build_story(story_id, earlier)) if earlier else None
    new_partition = story_partition(story) if story else None
    return story, old if old is not None and old != new_partition else None


class BuildStoryFn(beam.DoFn):
    """``(story_id, [articles])`` in; one story dict out."""

    def __init__(self):
        self.stories = Metrics.counter(NAMESPACE, "stories_built")

    def process(self, keyed):
        story_id, members = keyed
        self.stories.inc()
        yield build_story(story_id, list(members))


class RebuildStoryFn(beam.DoFn):
    """``(story_id, {"new": [articles], "earlier": [state records]})`` in; the story and any delete out.

    Stories neither joined by this run's articles nor holding a replaced
    earlier member are unchanged and not output.
    """

    def __init__(self):
        self.stories = Metrics.counter(NAMESPACE, "stories_built")

    def process(self, keyed):
        story_id, grouped = keyed
        new, earlier = list(grouped["new"]), list(grouped["earlier"])
        if not new and not any(is_replaced(r) for r in earlier):
            return
        story, delete_from = rebuild_story(story_id, new, earlier)
        if story is not None:
            self.stories.inc()
            yield story
        if delete_from is not None:
            yield beam.pvalue.TaggedOutput(STORY_DELETES, {"story_id": story_id, "partition": delete_from})


class BuildStories(beam.PTransform):
    """Articles with ``story_id`` in; story dicts (``schemas.Story``) out.

    With ``state`` (all state records, marked by ``MarkReplaced``), stories
    continued from earlier runs are rebuilt from their earlier members too; the
    result then has ``stories`` and ``story_deletes`` (``{"story_id",
    "partition"}``: an old record to remove from a partition).
    """

    def __init__(self, state=None):
        super().__init__()
        self.state = state

    def expand(self, articles):
        keyed = articles | "KeyByStory" >> beam.Map(lambda a: (a["story_id"], story_member(a)))
        if self.state is None:
            return keyed | "GroupStories" >> beam.GroupByKey() | "BuildStory" >> beam.ParDo(BuildStoryFn())
        earlier = self.state | "KeyStateByStory" >> beam.Map(lambda r: (r["story_id"], story_member(r)))
        result = (
            {"new": keyed, "earlier": earlier}
            | "GroupStories" >> beam.CoGroupByKey()
            | "RebuildStory" >> beam.ParDo(RebuildStoryFn()).with_outputs(STORY_DELETES, main="stories")
        )
        return {"stories": result.stories, STORY_DELETES: result[STORY_DELETES]}
