"""ClusterStories and BuildStories: group articles about the same event, then build one story record each.

ClusterStories, step by step (the logic is in ``core.clustering``):

1. ``ArticleTerms``: each article's token counts, entity and person keys and
   covered days, computed in the stage that recognised its entities (fused
   after NER), so the steps below read these rather than whole articles.
   ``CorpusStats``: one pass over them counts, per term and per entity key,
   the articles that contain it (combined per bundle, then merged).
2. ``StoryFeatures``: each article's TF-IDF vector, weighted entities, date.
3. ``BlockKeys`` / ``GroupBlocks``: candidate pairs share a block (a rare top
   term, paired within adjacent time buckets only, or a rare entity);
   oversized blocks are skipped, and keys no other article holds are not
   emitted. No all-pairs comparison. Blocks group article ids only; each
   blocked article's features are packed once (a tagged output of
   ``BlockKeys``: a few byte strings, ``core.blockscore.pack_entry``) and
   reach the scorers as a side input.
4. ``ScoreBlocks``: the pairs of each block are scored where the block is
   grouped (``core.blockscore`` scores a whole block with numpy); each block's
   edges leave as one list, not one element per edge.
5. ``HeavyEdges`` / ``AllEdges`` / ``Components``: union-find over the
   edges that reach the average-link threshold (clusters can only grow along
   them, ``core.clustering.linkage_components``), a pair found in several
   blocks kept once (``DistinctEdgesFn``, combined per bundle first): a
   small, global step (on Reuters 41,829 of the 310,428 distinct edges) that
   sends each node's part on as a side input. With earlier stories, whose
   articles are tied within the connected components of all edges, every
   edge goes to this step.
6. ``EdgesByPart``: each block's edges with both ends in one part, keyed by
   the part (``core.clustering.edges_by_part``), in parallel where the
   edges are; edges between parts cannot change a cluster and are dropped.
7. ``GroupComponents`` / ``AverageLink``: each part's edges (a pair found in
   several blocks kept once), the ties of earlier stories' articles, and once
   per member its order and earlier story (``Nodes``: edges carry ids and
   scores only, and the features are not read again), then
   average-link clustering; each story's id derives from its earliest member
   (``core.stories.story_id_for``).
8. ``AssignStories``: every article gets its story id from the story ids by
   article id, a side input (so whole articles are not shuffled again); an
   article with no edge is a story of its own.

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
from threadpoolctl import threadpool_limits

from core.blockscore import pack_entry, score_block
from core.clustering import (
    ClusterConfig,
    article_terms,
    average_link,
    block_keys,
    edges_by_part,
    empty_features,
    empty_terms,
    features_from_terms,
    linkage_components,
    part_ties,
    story_node,
)
from core.state import as_prior, is_prior, is_replaced
from core.stories import build_story, story_id_for, story_member, story_partition
from transforms.common import NAMESPACE, DictPerWindow


class ArticleTermsFn(beam.DoFn):
    """Article dict in; its ``core.clustering.article_terms`` out.

    Should computing them fail (a bug, not bad input: the article passed validation upstream), the job goes
    on: the article gets empty terms, so it joins no block and forms a story of its own, and the failure is
    counted (``story_features_failed``, in the manifest's counters).
    """

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.failed = Metrics.counter(NAMESPACE, "story_features_failed")

    def process(self, article: dict):
        try:
            yield article_terms(article, self.config)
        except Exception:  # noqa: BLE001 - one article's features must not stop the job
            self.failed.inc()
            yield empty_terms(article)


class CorpusStatsFn(beam.CombineFn):
    """Article terms in; ``{"n", "df", "edf"}``: article count and document frequencies of terms and entities."""

    def create_accumulator(self):
        return {"n": 0, "df": Counter(), "edf": Counter()}

    def add_input(self, acc, terms):
        acc["n"] += 1
        acc["df"].update(terms["counts"].keys())
        acc["edf"].update(terms["entities"])
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
    """Article terms and the corpus statistics in; ``(article id, story features)`` out (empty features,
    counted, should that fail)."""

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.failed = Metrics.counter(NAMESPACE, "story_features_failed")

    def process(self, terms: dict, stats: dict):
        try:
            features = features_from_terms(terms, stats["df"], stats["edf"], stats["n"], self.config)
        except Exception:  # noqa: BLE001 - one article's features must not stop the job
            self.failed.inc()
            features = empty_features(terms)
        yield terms["id"], features


ENTRIES = "entries"


def _block_keys(keyed, stats: dict, config: ClusterConfig):
    """``(id, features)`` in; ``(block key, id)`` for each block the article joins out, and, tagged ``entries``,
    its packed block entry ``(id, entry)`` once if it joins any.

    The entry (``core.blockscore.pack_entry``) holds only what scoring reads, as a few byte strings: order and
    earlier story reach average-link by another path. It travels once per article, as a side input of
    ``ScoreBlocks``, rather than once per block: an article joins 8.8 blocks on average (Reuters), and the
    blocks' shuffle was the largest the runner held.
    """
    article_id, features = keyed
    keys = block_keys(features, stats["df"], stats["edf"], config)
    if keys:
        yield beam.pvalue.TaggedOutput(ENTRIES, (article_id, pack_entry(features, config)))
        for key in keys:
            yield key, article_id


class ScoreBlockFn(beam.DoFn):
    """``(block key, [article ids])`` and the packed entries by id (side input) in; the block's scored edges
    ``(id_a, id_b, score)`` out, as one list (none if the block has no edge).

    One element per block, not per edge: Reuters' 37,801 blocks give 422,945 edges, and each element costs
    Beam more than scoring its pair does."""

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.scored = Metrics.counter(NAMESPACE, "story_pairs_scored")
        self.skipped = Metrics.counter(NAMESPACE, "story_blocks_skipped")

    def setup(self):
        # A block's matrix product is small; with OpenBLAS's default of one thread per core, the threads of two
        # workers on two cores waited on each other and scoring took twice the CPU (README, Performance).
        # The limit holds for this worker process; spaCy's NER does its matrix work in blis, not here.
        threadpool_limits(limits=1, user_api="blas")

    def process(self, keyed, entries: dict):
        key, ids = keyed
        edges, scored, skipped = score_block(key, [entries[i] for i in ids], self.config)
        self.scored.inc(scored)
        self.skipped.inc(skipped)
        if edges:
            yield edges


class DistinctEdgesFn(beam.combiners.ToSetCombineFn):
    """Lists of edges ``(id_a, id_b, score)`` in; all distinct edges, sorted, out (Beam's set combine, fed a
    block's list at a time).

    A pair found in several blocks gets the same score in each (it depends on the two articles only), so
    equal tuples are one edge. The set is built per bundle first (the combine is lifted), so the copies do
    not travel to the global step.
    """

    def add_input(self, acc: set, edges: list[tuple]) -> set:
        acc.update(edges)
        return acc

    def extract_output(self, acc: set) -> list[tuple]:
        return sorted(acc)


ROOTS = "roots"


def _heavy(edges: list[tuple], threshold: float) -> list[tuple]:
    """A block's edges in; those that reach ``threshold`` out (the only ones components follow)."""
    return [edge for edge in edges if edge[2] >= threshold]


def _find_parts(edges: list[tuple], threshold: float, fixed: dict):
    """Distinct edges (of a window: those that reach ``threshold``, or all of them with earlier stories) and
    earlier articles' story ids in; tagged ``roots``, ``(node, part)`` for every node of a part that
    average-link clusters independently (``core.clustering.linkage_components``), and ``(part, [ties])`` for
    the parts holding several articles of one earlier story (``core.clustering.part_ties``) out.

    Parts, not connected components: on Reuters one connected component held 17,756 of the 17,883 articles
    with an edge; parts split them 1,026 ways (the largest still 11,272 articles), and ``EdgesByPart`` drops
    the 80,157 of the 310,428 edges that lie between parts.
    """
    roots = linkage_components(edges, threshold, fixed)
    ties = part_ties(roots, fixed)
    for part in sorted(ties):
        yield part, ties[part]
    for node in sorted(roots):
        yield beam.pvalue.TaggedOutput(ROOTS, (node, roots[node]))


def _edges_by_part(edges: list[tuple], roots: dict):
    """A block's edges and each node's part (side input) in; ``(part, [its edges])`` for each part the block
    has edges in out."""
    parts = edges_by_part(edges, roots)
    for part in sorted(parts):
        yield part, parts[part]


def _prior_story(keyed: tuple):
    """``(id, features)`` in; ``(id, story id)`` out for an earlier run's article."""
    story = keyed[1].get("story")
    if story is not None:
        yield keyed[0], story


def _node_by_part(node: tuple, roots: dict):
    """A node ``(id, order, story)`` and each node's part in; ``(part, node)`` out for an article in a part."""
    if node[0] in roots:
        yield roots[node[0]], node


def _cluster_part(keyed, threshold: float):
    """``(part, {"edges": [[its edges]], "ties": [[earlier stories' ties]], "nodes": [nodes]})`` in;
    ``(article_id, story_id)`` for each article of the part out."""
    _, grouped = keyed
    # Blocks share pairs: each edge once, in no particular order (``average_link`` does not depend on it). A tie
    # may pair two articles that also have an edge; both count.
    edges = list({tuple(edge) for key in ("edges", "ties") for listed in grouped[key] for edge in listed})
    order, fixed = {}, {}
    for article_id, article_order, story in grouped["nodes"]:
        order[article_id] = article_order
        if story is not None:
            fixed[article_id] = story
    for members in average_link(edges, threshold, fixed):
        earlier = sorted({fixed[m] for m in members if m in fixed})
        story_id = earlier[0] if earlier else story_id_for(min(members, key=lambda m: order[m]))
        for member in members:
            if member not in fixed:
                yield member, story_id


def _assign(article: dict, stories: dict):
    """An article and the story ids by article id (side input) in; the article with ``story_id`` out (an article
    with no edge is a story of its own; an earlier run's article is not output)."""
    if not is_prior(article):
        yield {**article, "story_id": stories.get(article["id"]) or story_id_for(article["id"])}


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
        # Per-article work happens here, in the stage that recognised the entities; the corpus-wide steps
        # read these terms rather than whole articles.
        terms = articles | "ArticleTerms" >> beam.ParDo(ArticleTermsFn(config))
        stats = beam.pvalue.AsSingleton(
            terms | "CorpusStats" >> beam.CombineGlobally(CorpusStatsFn()).without_defaults()
        )
        features = terms | "StoryFeatures" >> beam.ParDo(StoryFeaturesFn(config), stats)
        blocked = features | "BlockKeys" >> beam.FlatMap(_block_keys, stats, config).with_outputs(ENTRIES, main="keys")
        entries = blocked[ENTRIES] | "EntriesById" >> DictPerWindow()
        fixed = {}  # earlier runs' articles by id → their story id
        if self.priors is not None:
            fixed = beam.pvalue.AsSingleton(
                features | "PriorStories" >> beam.FlatMap(_prior_story) | "PriorStoriesById" >> DictPerWindow(),
                default_value={},
            )
        edges = (
            blocked.keys
            | "GroupBlocks" >> beam.GroupByKey()
            | "ScoreBlocks" >> beam.ParDo(ScoreBlockFn(config), beam.pvalue.AsSingleton(entries, default_value={}))
        )
        # Without earlier stories only the heavy edges decide the parts; the global step then holds about an
        # eighth of the edges (Reuters), and the rest go to their parts in parallel.
        linking = edges if self.priors is not None else edges | "HeavyEdges" >> beam.Map(_heavy, config.threshold)
        split = (
            linking
            | "AllEdges" >> beam.CombineGlobally(DistinctEdgesFn()).without_defaults()
            | "Components" >> beam.FlatMap(_find_parts, config.threshold, fixed).with_outputs(ROOTS, main="ties")
        )
        part_of = beam.pvalue.AsSingleton(split[ROOTS] | "RootsById" >> DictPerWindow(), default_value={})
        part_edges = edges | "EdgesByPart" >> beam.FlatMap(_edges_by_part, part_of)
        assignment = (
            {
                "edges": part_edges,
                "ties": split.ties,
                "nodes": (
                    features
                    | "Nodes" >> beam.Map(lambda keyed: story_node(keyed[1]))
                    | "NodesByComponent" >> beam.FlatMap(_node_by_part, part_of)
                ),
            }
            | "GroupComponents" >> beam.CoGroupByKey()
            | "AverageLink" >> beam.FlatMap(_cluster_part, config.threshold)
        )
        stories = beam.pvalue.AsSingleton(assignment | "StoriesById" >> DictPerWindow(), default_value={})
        return articles | "AssignStories" >> beam.FlatMap(_assign, stories)


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
