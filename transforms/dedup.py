"""DeduplicateArticles: normalised articles in, one survivor per group of copies out.

Exact copies share a ``content_hash`` (the hash of the dedup-key
normalisation of the text, so whitespace, case, quote and dash styles do not
matter). Near copies are found with MinHash LSH over word shingles and
confirmed by exact Jaccard similarity and matching figures
(``core.minhash``). The survivor of a group is the earliest published copy,
then the one with the smallest ``source_id``; it lists every copy under
``duplicates`` with the reason and similarity.

With ``priors`` (state records of articles committed by earlier runs, see
``core.state``), earlier articles take part too and always survive: they are
already published downstream. Their new copies come out as link records
(tagged ``links``: the copy, its reason and similarity, and the survivor's id
and story id); the earlier articles themselves are not output again. State
records without text (older than the state's retention) match exact copies
only.
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from core.balance import plan_units
from core.clustering import connected_components
from core.dedup import collapse, dedup_order
from core.minhash import (
    DedupConfig,
    band_keys,
    figures_contained,
    jaccard,
    numbers_in,
    permutations,
    shingles,
    signature,
)
from core.state import as_prior, is_prior
from transforms.common import NAMESPACE, ListPerWindow, packed, pairs_in_group, unpacked

LINKS = "links"


class CollapseExactFn(beam.DoFn):
    """``(content_hash, [packed articles])`` in; the survivor, listing the others as exact duplicates, out."""

    def __init__(self):
        self.duplicates = Metrics.counter(NAMESPACE, "duplicates_exact")

    def process(self, keyed):
        _, group = keyed
        group = [unpacked(data) for data in group]
        if len(group) > 1:
            self.duplicates.inc(len(group) - 1)
        yield collapse(group, "exact") if len(group) > 1 else group[0]


class BandKeysFn(beam.DoFn):
    """An article in; ``(LSH band key, article id)`` for each of its ``config.bands`` bands out."""

    def __init__(self, config: DedupConfig):
        self.config = config
        self.perms = None

    def setup(self):
        self.perms = permutations(self.config)

    def process(self, article: dict):
        sig = signature(shingles(article["text"], self.config.shingle_size), self.config, self.perms)
        for band in band_keys(sig, self.config):
            yield band, article["id"]


def _bucket_pairs(keyed, max_size: int):
    _, ids = keyed
    ids = list(ids)
    if len(ids) > max_size:
        Metrics.counter(NAMESPACE, "lsh_buckets_skipped").inc()
    yield from pairs_in_group(ids, max_size)


def near_dup_features(article: dict, config: DedupConfig) -> dict:
    """An article in; what confirming a candidate pair needs out: shingle hashes, figures and survivor order."""
    return {
        "id": article["id"],
        "order": list(dedup_order(article)),
        "shingles": shingles(article["text"], config.shingle_size).astype("<u4").tobytes(),
        "numbers": numbers_in(article["text"]),
    }


class CandidateFeaturesFn(beam.DoFn):
    """An article and the list of candidate pairs (a side input) in; ``((id_a, id_b), features)`` for each
    distinct pair the article belongs to out, nothing for an article in none.

    Only candidates' features travel to the confirmation step (a few percent of the articles), and each pair's
    two ends meet in one ``GroupByKey``.
    """

    def __init__(self, config: DedupConfig):
        self.config = config
        self._pairs = None
        self._by_id: dict[str, list[tuple[str, str]]] = {}

    def _index(self, pairs: list) -> dict[str, list[tuple[str, str]]]:
        """Pairs by member id, built once per side-input value (blocks sharing two articles repeat a pair)."""
        if pairs is not self._pairs:
            by_id: dict[str, list[tuple[str, str]]] = {}
            for a, b in sorted({tuple(pair) for pair in pairs}):
                by_id.setdefault(a, []).append((a, b))
                by_id.setdefault(b, []).append((a, b))
            self._pairs, self._by_id = pairs, by_id
        return self._by_id

    def process(self, article: dict, pairs: list):
        mine = self._index(pairs).get(article["id"])
        if mine:
            # The shingles are hashed again here (``BandKeysFn`` hashed them for the bands): for the few articles
            # in a pair that is cheaper than carrying every article's shingles out of the exact stage.
            features = near_dup_features(article, self.config)
            for pair in mine:
                yield pair, features


def confirm_pair(pair: tuple[dict, dict], config: DedupConfig):
    """Features of a candidate pair in; ``(id_a, id_b, jaccard, order_a, order_b)`` out when it is a near
    duplicate."""
    fa, fb = pair
    sim = jaccard(np.frombuffer(fa["shingles"], "<u4"), np.frombuffer(fb["shingles"], "<u4"))
    if sim >= config.jaccard_threshold and (not config.same_figures or figures_contained(fa["numbers"], fb["numbers"])):
        yield fa["id"], fb["id"], round(sim, 4), fa["order"], fb["order"]


def _confirm_grouped(keyed, config: DedupConfig):
    """``((id_a, id_b), [features of both ends])`` in; ``confirm_pair``'s edge out when it is a near duplicate."""
    (a, b), features = keyed
    by_id = {f["id"]: f for f in features}
    if a in by_id and b in by_id:
        yield from confirm_pair((by_id[a], by_id[b]), config)


def assign_survivors(edges: list[tuple]) -> list[tuple[str, tuple[str, float]]]:
    """Confirmed edges in; ``(member_id, (survivor_id, similarity))`` for every member of a near-duplicate group.

    The survivor is the member first by the survivor rule; a member's similarity
    is its highest confirmed Jaccard within the group.
    """
    roots = connected_components([(a, b) for a, b, *_ in edges])
    order: dict[str, list] = {}
    best: dict[str, float] = {}
    for a, b, sim, order_a, order_b in edges:
        order[a], order[b] = order_a, order_b
        best[a] = max(best.get(a, 0.0), sim)
        best[b] = max(best.get(b, 0.0), sim)
    survivor: dict[str, str] = {}
    for node in sorted(roots):
        root = roots[node]
        if root not in survivor or order[node] < order[survivor[root]]:
            survivor[root] = node
    return [(node, (survivor[roots[node]], best[node])) for node in sorted(roots)]


def _survivor(article_id: str, assignment: dict) -> str:
    return assignment.get(article_id, (article_id, 1.0))[0]


def text_cost(article: dict) -> int:
    """An article in; its share of the work after deduplication out: the length of its text."""
    return len(article["text"])


def plan_work_units(costs: list[tuple[str, int]], assignment: dict, unit_cost: int) -> dict[str, int]:
    """Every article's ``(id, cost)`` and the near-copy assignment in; ``{survivor id: work unit}`` out.

    Copies are dropped in the unit, so only survivors' costs count (``core.balance.plan_units``).
    """
    return plan_units([(key, cost) for key, cost in costs if _survivor(key, assignment) == key], unit_cost)


def _unit_key(article: dict, assignment: dict, plan: dict) -> tuple[int, bytes]:
    # The unit depends on the survivor alone, so a group of copies stays together even if the plan missed it.
    return plan.get(_survivor(article["id"], assignment), 0), packed(article)


class CollapseNearFn(beam.DoFn):
    """``(work unit, [packed articles])`` in; each survivor in the unit, listing its near copies, out."""

    def __init__(self):
        self.duplicates = Metrics.counter(NAMESPACE, "duplicates_near")

    def process(self, keyed, assignment: dict):
        _, unit = keyed
        groups: dict[str, list[dict]] = {}
        for data in unit:
            article = unpacked(data)
            groups.setdefault(_survivor(article["id"], assignment), []).append(article)
        for survivor in sorted(groups):
            group = groups[survivor]
            if len(group) == 1:
                yield group[0]
                continue
            self.duplicates.inc(len(group) - 1)
            yield collapse(group, "near", {a["id"]: assignment[a["id"]][1] for a in group})


class CollapseNearDuplicates(beam.PTransform):
    """Articles in; articles with near-duplicate copies collapsed into survivors out.

    The survivors come out of a ``GroupByKey`` by work unit, each unit holding
    about ``unit_cost`` of ``cost`` (``core.balance``): the stage that follows
    (NER) then gets an even share of the work on every worker, not just an even
    number of articles. A unit keeps a survivor and its copies together.
    """

    def __init__(self, config: DedupConfig, cost: Callable[[dict], int] = text_cost, unit_cost: int = 20_000):
        super().__init__()
        self.config = config
        self.cost = cost
        self.unit_cost = unit_cost

    def expand(self, articles):
        config, cost = self.config, self.cost
        pairs = (
            articles
            | "LshBandKeys" >> beam.ParDo(BandKeysFn(config))
            | "GroupBuckets" >> beam.GroupByKey()
            | "BucketPairs" >> beam.FlatMap(_bucket_pairs, config.max_bucket_size)
            | "AllPairs" >> ListPerWindow()
        )
        edges = (
            articles
            | "CandidateFeatures"
            >> beam.ParDo(CandidateFeaturesFn(config), beam.pvalue.AsSingleton(pairs, default_value=[]))
            | "GroupPairs" >> beam.GroupByKey()
            | "ConfirmJaccard" >> beam.FlatMap(_confirm_grouped, config)
        )
        assignment = edges | "AllEdges" >> ListPerWindow() | "Survivors" >> beam.FlatMap(assign_survivors)
        plan = (
            articles
            | "WorkCosts" >> beam.Map(lambda a: (a["id"], 0 if is_prior(a) else cost(a)))
            | "AllCosts" >> ListPerWindow()
            | "PlanWorkUnits" >> beam.Map(plan_work_units, beam.pvalue.AsDict(assignment), self.unit_cost)
        )
        return (
            articles
            | "KeyByWorkUnit"
            >> beam.Map(_unit_key, beam.pvalue.AsDict(assignment), beam.pvalue.AsSingleton(plan, default_value={}))
            | "GroupNearCopies" >> beam.GroupByKey()
            | "CollapseNear" >> beam.ParDo(CollapseNearFn(), beam.pvalue.AsDict(assignment))
        )


def link_records(survivor: dict) -> list[dict]:
    """An earlier run's article that survived in; one link record per new copy it absorbed out."""
    return [
        {
            "schema_version": "1",
            "source_id": ref["source_id"],
            "article_id": ref["article_id"],
            "source": ref["source"],
            "published_date": ref["_published_date"],
            "reason": ref["reason"],
            "similarity": ref["similarity"],
            "survivor_id": survivor["id"],
            "survivor_story_id": survivor["story_id"],
        }
        for ref in survivor.get("duplicates") or []
        if not ref.get("_prior")
    ]


def public_refs(article: dict) -> dict:
    """A surviving new article in; the same with the private keys of its duplicate refs removed."""
    refs = article.get("duplicates")
    if not refs:
        return article
    return {**article, "duplicates": [{k: v for k, v in r.items() if not k.startswith("_")} for r in refs]}


class SplitPriorsFn(beam.DoFn):
    """A survivor in; a new article (main output), or link records for an earlier article's new copies (``links``).

    With ``final`` false (after the exact stage), earlier articles that still
    have text go on to the near-duplicate stage.
    """

    def __init__(self, final: bool):
        self.final = final
        self.linked = Metrics.counter(NAMESPACE, "duplicates_of_earlier_runs")

    def process(self, article: dict):
        if not is_prior(article):
            yield public_refs(article) if self.final else article
        elif not self.final and article.get("text") is not None:
            yield article
        else:
            links = link_records(article)
            self.linked.inc(len(links))
            for link in links:
                yield beam.pvalue.TaggedOutput(LINKS, link)


class DeduplicateArticles(beam.PTransform):
    """Normalised article dicts in; deduplicated article dicts out (exact copies, then near copies).

    ``result.articles``: the surviving new articles; ``result.links``: new copies
    of earlier runs' articles (only with ``priors``, a PCollection of state records).
    ``cost`` (an article's share of the next stage's work) and ``unit_cost`` size
    the work units the survivors come out in (see ``CollapseNearDuplicates``).
    """

    def __init__(
        self,
        config: DedupConfig | None = None,
        priors=None,
        cost: Callable[[dict], int] = text_cost,
        unit_cost: int = 20_000,
    ):
        super().__init__()
        self.config = config or DedupConfig()
        self.priors = priors
        self.cost, self.unit_cost = cost, unit_cost

    def expand(self, articles):
        if self.priors is not None:
            marked = self.priors | "MarkPriors" >> beam.Map(as_prior)
            articles = (articles, marked) | "WithPriors" >> beam.Flatten()
        exact = (
            articles
            | "KeyByContentHash" >> beam.Map(lambda a: (a["content_hash"], packed(a)))
            | "GroupCopies" >> beam.GroupByKey()
            | "CollapseExact" >> beam.ParDo(CollapseExactFn())
            | "SplitExact" >> beam.ParDo(SplitPriorsFn(final=False)).with_outputs(LINKS, main="articles")
        )
        near = (
            exact.articles
            | "CollapseNearDuplicates" >> CollapseNearDuplicates(self.config, self.cost, self.unit_cost)
            | "SplitNear" >> beam.ParDo(SplitPriorsFn(final=True)).with_outputs(LINKS, main="articles")
        )
        links = (exact[LINKS], near[LINKS]) | "AllLinks" >> beam.Flatten()
        return {"articles": near.articles, LINKS: links}
