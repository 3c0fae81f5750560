"""Same-event story clustering (plain functions).

Each article becomes a feature record: a TF-IDF vector over content words of
its title and text (the title and the lead counted ``lead_weight`` times), IDF-
weighted canonical entity keys, its publication date, the days it covers (its
publication day and the dates its text names, ``core.timex``) and its person
keys. Candidate pairs come from blocking (rare terms within a time window, rare
entities at any time), never from all pairs. A pair scores

    s = alpha × cosine(tf-idf) + (1 − alpha) × weighted Jaccard(entities)

damped by ``1 / (1 + (Δdays − window) / tau)`` when the days the two cover are
more than ``window`` days apart and they share no rare person (follow-up
coverage of an event months later names the same victims and suspects, or the
day it happened). Stories are the clusters of average-link agglomeration over
the scored candidate graph, stopped at ``threshold``; pairs that were never
candidates count as similarity 0.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass

from core.state import is_prior
from core.timex import days_apart, referenced_days

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves said says say also told
    according one two three could new last year years week day days time first like get got may might mr ms mrs
    its it's""".split()
)
_TOKEN = re.compile(r"[a-z][a-z0-9'-]+|\d+(?:[.,]\d+)?")
ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "NORP", "PRODUCT", "WORK_OF_ART", "LAW"})


@dataclass(frozen=True)
class ClusterConfig:
    """Story clustering tuning; recorded in the manifest.

    Defaults were chosen on ECB+ and the Gun Violence corpus together (one
    setting for both, not per set); see README for the scores.
    """

    alpha: float = 0.7  # weight of text similarity against entity similarity
    threshold: float = 0.15  # average-link stopping similarity
    window_days: int = 3  # no time damping within this many days
    tau_days: float = 7.0  # damping scale beyond the window
    rare_person_df: int = 20  # a person named in at most this many articles is "rare"
    block_terms: int = 8  # each article's top TF-IDF terms used as block keys ...
    block_term_max_df: int = 50  # ... among the terms in at most this many articles
    block_entity_max_df: int = 100  # entities in at most this many articles are block keys
    block_window_days: int = 7  # term blocks are per time bucket of this many days
    max_block_size: int = 100  # larger blocks are skipped (too common to discriminate)
    min_edge: float = 0.02  # scored pairs below this are dropped before clustering
    vector_terms: int = 128  # an article's TF-IDF vector keeps its top terms only (smaller, faster to compare)
    lead_terms: int = 30  # the title and this many first content words of the text (the lead) ...
    lead_weight: int = 2  # ... count this many times in the TF-IDF vector
    reference_max_days: int = 730  # dates named in a text this far before publication are ignored
    time_boost: float = 1.0  # two dated articles that share a rare entity: score × (1 + time_boost · e^(−days / ...
    time_boost_days: float = 2.0  # ... time_boost_days)), days being the gap between the days they cover ...
    rare_entity_df: int = 20  # ... and a rare entity one named in at most this many articles

    def as_dict(self) -> dict:
        return asdict(self)


def _words(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS and len(t) > 1]


def content_tokens(article: dict, lead_terms: int = 0, lead_weight: int = 1) -> list[str]:
    """Lower-cased content words and numbers of the title (when given) and the text.

    The title and the first ``lead_terms`` words of the text are repeated ``lead_weight`` times: news puts
    who, what, where and when in the headline and the first sentence, and background further down.
    """
    title = _words(article["title"]) if not article.get("title_derived") else []
    text = _words(article["text"])
    return (title + text[:lead_terms]) * lead_weight + text[lead_terms:]


def entity_keys(article: dict) -> list[str]:
    return sorted({e["key"] for e in article.get("entities") or [] if e["label"] in ENTITY_LABELS})


def person_keys(article: dict) -> list[str]:
    return sorted({e["key"] for e in article.get("entities") or [] if e["label"] == "PERSON"})


def idf(df: int, n: int) -> float:
    """Smoothed IDF, ``ln((n + 1) / (df + 1)) + 1``: a term in every article still weighs 1, so a run over
    two articles (the seeds) compares them on what they share."""
    return math.log((n + 1) / (df + 1)) + 1.0


def tfidf_weights(counts: dict[str, int], df: dict[str, int], n: int, keep: int | None = None) -> dict[str, float]:
    """Term counts (in order of first occurrence, as ``Counter`` lists them) in; the L2-normalised sublinear TF-IDF
    vector of the ``keep`` heaviest terms out, rounded for platform-independent sums."""
    vec = {w: (1 + math.log(c)) * idf(df.get(w, 0), n) for w, c in counts.items()}
    if keep is not None and len(vec) > keep:
        vec = dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: round(v / norm, 6) for w, v in sorted(vec.items()) if v > 0}


def _identity(article: dict) -> dict:
    return {
        "id": article["id"],
        "order": [article.get("published") or "~", article["source_id"], article["id"]],
        "date": article.get("published_date"),
        "story": article["story_id"] if is_prior(article) else None,  # an earlier run's story, kept as it is
    }


_IDENTITY = ("id", "order", "date", "story")


def article_terms(article: dict, config: ClusterConfig) -> dict:
    """What story features take from one article, before any corpus statistics (picklable, JSON-friendly):
    its identity, the counts of its lead-weighted content tokens, its entity and person keys and the days it
    covers. Computed where the article is (after entity recognition), so the corpus-wide step reads this
    rather than the whole article."""
    return {
        **_identity(article),
        "counts": dict(Counter(content_tokens(article, config.lead_terms, config.lead_weight))),
        "entities": entity_keys(article),
        "persons": person_keys(article),
        "days": referenced_days(article["text"], article.get("published_date"), config.reference_max_days),
    }


def empty_terms(article: dict) -> dict:
    """Terms that join no block (the fallback when ``article_terms`` fails)."""
    return {**_identity(article), "counts": {}, "entities": [], "persons": [], "days": []}


def features_from_terms(terms: dict, df: dict[str, int], edf: dict[str, int], n: int, config: ClusterConfig) -> dict:
    """An article's ``article_terms`` and the corpus statistics in; its story features out."""
    entities = terms["entities"]
    return {
        **{k: terms[k] for k in _IDENTITY},
        "days": terms["days"],
        "vec": tfidf_weights(terms["counts"], df, n, config.vector_terms),
        "ents": {k: round(idf(edf.get(k, 0), n), 6) for k in entities},
        "rare": [k for k in entities if edf.get(k, 0) <= config.rare_entity_df],
        "persons": {k: edf.get(k, 0) for k in terms["persons"]},
    }


def empty_features(terms: dict) -> dict:
    """Features that join no block, from an article's terms: the article becomes a story of its own (the
    fallback when its features fail)."""
    return {**{k: terms[k] for k in _IDENTITY}, "days": [], "vec": {}, "ents": {}, "rare": [], "persons": {}}


def time_bucket(features: dict, config: ClusterConfig) -> int | None:
    """The ``block_window_days`` bucket of an article's publication day; None when undated."""
    if not features["date"]:
        return None
    return dt.date.fromisoformat(features["date"]).toordinal() // config.block_window_days


def block_keys(features: dict, df: dict[str, int], edf: dict[str, int], config: ClusterConfig) -> list[str]:
    """Block keys: the top rare terms (``t:``, paired only within a time window, see ``candidate_pairs``) and the
    rare entities (``e:``, at any time).

    A key no other article holds (document frequency 1) would make a block of one, which pairs nothing: it is
    left out after the top terms are chosen (not replaced by the next term), so the candidate pairs are the same
    and a third or so fewer block entries travel through the shuffle.
    """
    term_limit = config.block_term_max_df  # absolute, not a share of n: blocks must not grow with the corpus
    rare = [(w, v) for w, v in features["vec"].items() if df.get(w, 0) <= term_limit]
    top = sorted(rare, key=lambda kv: (-kv[1], kv[0]))[: config.block_terms]
    keys = [f"t:{term}" for term, _ in top if df.get(term, 0) > 1]
    keys.extend(f"e:{k}" for k in features["ents"] if 1 < edf.get(k, 0) <= config.block_entity_max_df)
    return keys


def candidate_pairs(key: str, members: list[dict], config: ClusterConfig) -> tuple[list[tuple[dict, dict]], int]:
    """The pairs of one block of feature dicts to score (``candidate_index_pairs``), and how many (sub-)blocks
    were skipped as too large."""
    members = sorted({m["id"]: m for m in members}.values(), key=lambda m: m["id"])
    pairs, skipped = candidate_index_pairs(key, [time_bucket(m, config) for m in members], config)
    return [(members[i], members[j]) for i, j in pairs], skipped


def candidate_index_pairs(
    key: str, buckets: list[int | None], config: ClusterConfig
) -> tuple[list[tuple[int, int]], int]:
    """The pairs ``(i, j)``, ``i < j``, of one block's members to score, given each member's time bucket, and how
    many (sub-)blocks were skipped as too large.

    An entity block pairs all its members, unless it has more than ``max_block_size``. A term block pairs only
    articles in the same or adjacent time buckets (undated with undated): it stands for one sub-block per bucket
    ``b`` holding the articles of buckets ``b − 1`` and ``b``, and a pair is kept when one of the sub-blocks holding
    both is not too large. The term travels in one block rather than one per bucket, so each article's features are
    shuffled once per term, and a pair of the same bucket is scored once, not twice.
    """
    limit = config.max_block_size
    size = len(buckets)
    if not key.startswith("t:"):
        if size > limit:
            return [], 1
        return [(i, j) for i in range(size) for j in range(i + 1, size)], 0
    count = Counter(buckets)
    undated_ok = count[None] <= limit

    def small(bucket: int) -> bool:  # the sub-block of buckets (bucket - 1, bucket)
        return count[bucket] + count[bucket - 1] <= limit

    pairs = []
    for i, ba in enumerate(buckets):
        for j in range(i + 1, size):
            bb = buckets[j]
            if ba is None or bb is None:
                keep = ba is None and bb is None and undated_ok
            elif ba == bb:
                keep = small(ba) or small(ba + 1)
            elif abs(ba - bb) == 1:
                keep = small(max(ba, bb))
            else:
                keep = False
            if keep:
                pairs.append((i, j))
    sub_blocks = {x for b in count if b is not None for x in (b, b + 1)}
    skipped = sum(1 for b in sub_blocks if not small(b))
    return pairs, skipped + (0 if undated_ok else 1)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def weighted_jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    keys = a.keys() | b.keys()
    union = sum(max(a.get(k, 0.0), b.get(k, 0.0)) for k in keys)
    return sum(min(a.get(k, 0.0), b.get(k, 0.0)) for k in keys) / union if union else 0.0


def pair_score(fa: dict, fb: dict, config: ClusterConfig) -> float:
    """Similarity of two articles' features, in [0, 1].

    Text and entity similarity, then time. Two dated articles that name the same rare entity and cover the
    same or nearby days (publication day and the days their texts name) are raised (``time_boost``): the same
    victim, street or company in the news on the same days is strong evidence of one event. Far-apart ones are
    damped beyond ``window_days`` unless they name the same rare person. Undated articles are compared on text
    and entities alone.
    """
    s = config.alpha * cosine(fa["vec"], fb["vec"]) + (1 - config.alpha) * weighted_jaccard(fa["ents"], fb["ents"])
    days = days_apart(fa["days"], fb["days"])
    if days is not None:
        if not set(fa["rare"]).isdisjoint(fb["rare"]):
            s *= 1.0 + config.time_boost * math.exp(-days / config.time_boost_days)
        if days > config.window_days:
            shared_rare = any(k in fb["persons"] and df <= config.rare_person_df for k, df in fa["persons"].items())
            if not shared_rare:
                s /= 1.0 + (days - config.window_days) / config.tau_days
    return round(min(max(s, 0.0), 1.0), 6)


def story_node(features: dict) -> tuple[str, tuple, str | None]:
    """``(id, order, story)`` of an article: what average-link needs besides the edges (the survivor-order
    tuple, and the story id of an earlier run's article, None for a new article)."""
    return features["id"], tuple(features["order"]), features.get("story")


def connected_components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Union-find: node → the smallest node id of its component."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: find(node) for node in list(parent)}


def _story_ties(group: dict[str, str], fixed: dict[str, str]) -> list[tuple[str, str]]:
    """``(first, other)`` pairs tying the articles of one earlier story (``fixed``) within each group of
    ``group`` (node → group), first in sorted order."""
    first: dict[tuple[str, str], str] = {}
    ties = []
    for node in sorted(n for n in group if n in fixed):
        partner = first.setdefault((group[node], fixed[node]), node)
        if partner != node:
            ties.append((partner, node))
    return ties


def linkage_components(
    edges: list[tuple[str, str, float]], threshold: float, fixed: dict[str, str] | None = None
) -> dict[str, str]:
    """The parts of the graph that ``average_link`` clusters independently: node → the smallest node id of its
    part, for every node that could join another.

    Average-link merges two clusters when the average weight between them is ≥ ``threshold``, which needs at
    least one pair between them weighing ≥ ``threshold``: clusters grow only along such edges. The articles of
    one earlier story (``fixed``) in one connected component start as one cluster, so they are joined too.
    Average-link part by part (``linkage_parts``) gives exactly the clusters it gives component by component; a
    node in no part (its edges all light, no story partner) is a cluster of its own either way.
    """
    links = [(a, b) for a, b, s in edges if s >= threshold]
    if fixed:
        links += _story_ties(connected_components([(a, b) for a, b, _ in edges]), fixed)
    return connected_components(links)


def edges_by_part(
    edges: list[tuple[str, str, float]], parts: dict[str, str]
) -> dict[str, list[tuple[str, str, float]]]:
    """Edges and each node's part in; the edges whose two ends lie in one part, by part, in input order (edges
    between parts cannot change a cluster)."""
    by_part: dict[str, list[tuple[str, str, float]]] = {}
    for edge in edges:
        part = parts.get(edge[0])
        if part is not None and part == parts.get(edge[1]):
            by_part.setdefault(part, []).append(edge)
    return by_part


def part_ties(parts: dict[str, str], fixed: dict[str, str]) -> dict[str, list[tuple[str, str, float]]]:
    """Each node's part and earlier runs' story ids in; by part, edges of weight 0 tying the articles of one
    earlier story in it (sorted pairs), so that ``average_link`` sees each of them even when all its own edges
    lead out of the part: they start as one cluster, whose size counts in every average."""
    ties: dict[str, list[tuple[str, str, float]]] = {}
    for partner, node in _story_ties(parts, fixed):
        ties.setdefault(parts[node], []).append((partner, node, 0.0))
    return ties


def linkage_parts(
    edges: list[tuple[str, str, float]], threshold: float, fixed: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, list[tuple[str, str, float]]]]:
    """``linkage_components`` and each part's edges (``edges_by_part``, then ``part_ties``): ``(node → part,
    part → its edges)``.

    ``ClusterStories`` takes these steps apart: the components need only the edges that reach ``threshold``
    (all edges when there are earlier stories, whose ties follow any edge), and each part's edges are then
    gathered where the edges are.
    """
    fixed = fixed or {}
    roots = linkage_components(edges, threshold, fixed)
    parts = edges_by_part(edges, roots)
    for part, ties in part_ties(roots, fixed).items():
        parts.setdefault(part, []).extend(ties)
    return roots, parts


def average_link(
    edges: list[tuple[str, str, float]], threshold: float, fixed: dict[str, str] | None = None
) -> list[list[str]]:
    """Average-link agglomerative clustering over a sparse similarity graph.

    Merges the pair of clusters with the highest average pairwise similarity
    (missing pairs count 0) while it is ≥ ``threshold``. Deterministic: ties
    break on cluster ids. ``fixed`` maps nodes to a given cluster label (an
    earlier run's story): nodes with one label start as one cluster, and two
    labelled clusters never merge, so earlier stories keep their membership and
    new articles join at most one of them. Returns the clusters (sorted member
    lists) of every node that appears in ``edges``.
    """
    fixed = fixed or {}
    sums: dict[str, dict[str, float]] = defaultdict(dict)
    members: dict[str, list[str]] = {}
    label: dict[str, str] = {}
    # Nothing below depends on the order of ``edges`` (each loop whose order matters runs over sorted ids, and
    # the heap pops by value, then ids), so they are not sorted. A pair listed more than once weighs the exact
    # sum of its weights (``math.fsum``), whatever their order.
    repeated: dict[tuple[str, str], list[float]] = {}
    for a, b, s in edges:
        if a > b:
            a, b = b, a
        members.setdefault(a, [a])
        members.setdefault(b, [b])
        if b in sums[a]:
            repeated.setdefault((a, b), [sums[a][b]]).append(s)
        sums[a][b] = sums[b][a] = s
    for (a, b), weights in repeated.items():
        sums[a][b] = sums[b][a] = math.fsum(weights)
    for node in members:
        if node in fixed:
            label[node] = fixed[node]

    def average(x: str, y: str) -> float:
        return sums[x].get(y, 0.0) / (len(members[x]) * len(members[y]))

    def merge(x: str, y: str) -> str:
        keep, gone = (x, y) if x < y else (y, x)
        members[keep].extend(members.pop(gone))
        if gone in label:
            label[keep] = label.pop(gone)
        for other, value in sums.pop(gone).items():
            if other == keep:
                continue
            sums[keep][other] = sums[keep].get(other, 0.0) + value
            sums[other][keep] = sums[other].get(keep, 0.0) + value
            sums[other].pop(gone, None)
        sums[keep].pop(gone, None)
        return keep

    first_of: dict[str, str] = {}
    for node in sorted(members):
        if node in fixed:
            first = first_of.setdefault(fixed[node], node)
            if first != node:
                first_of[fixed[node]] = merge(first, node)

    def allowed(x: str, y: str) -> bool:
        return not (x in label and y in label)

    heap = []
    for x, row in sums.items():
        size = len(members[x])
        for y, value in row.items():
            if x < y:
                avg = value / (size * len(members[y]))  # average(x, y), inlined: this runs once per edge
                if avg >= threshold and allowed(x, y):
                    heap.append((-avg, x, y))
    heapq.heapify(heap)
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members or not allowed(a, b):
            continue
        current = average(a, b)
        if abs(current + neg) > 1e-9 or current < threshold:
            continue  # stale entry
        keep = merge(a, b)
        row, size = sums[keep], len(members[keep])
        for other, value in row.items():
            avg = value / (size * len(members[other]))
            if avg >= threshold and allowed(keep, other):
                heapq.heappush(heap, (-avg, min(keep, other), max(keep, other)))
    return sorted(sorted(m) for m in members.values())
