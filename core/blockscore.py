"""Score a whole story block at once: packed block entries in, the same edges as ``pair_score`` out.

Each article joins about eleven blocks, and every block entry travels through
a shuffle, so an entry is packed once (``pack_entry``) into a small tuple of
byte strings: 64-bit hashes of its terms and entity keys, and their weights as
32-bit integers (the features are rounded to 6 decimals, so ``weight × 10⁶`` is
exact, and an IDF would need a corpus of e^4000 articles to overflow; numpy
raises rather than wraps if one ever did). A block is then scored with numpy: one matrix product gives every
pair's cosine, and the entity part, the time boost and the time damping are
array operations over the block's candidate pairs. Most blocks are tiny (on
Reuters, 30,447 of 37,801 have at most five members), and for them the two
dozen numpy calls cost more than the arithmetic: a block of at most
``FEW_PAIRS`` candidate pairs is scored pair by pair in Python on the same
integers (``_score_few``; all of Reuters' blocks 5.2 → 3.9 s, the same
422,945 edges either way).

The sums are exact: as integers, a unit vector's weights are at most 10⁶, so
two vectors' dot product is at most 10¹² (Cauchy–Schwarz), and entity weights
(IDF × 10⁶) are about 2·10⁷ at most; every product and partial sum stays far
below 2⁵³, where float64 holds integers exactly, whatever the order of the
sums, the BLAS library or the CPU. ``core.clustering.pair_score`` remains the
definition of a pair's score; the tests check that both give the same edges.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

from core.clustering import ClusterConfig, candidate_index_pairs, time_bucket

SCALE = 1_000_000  # feature weights are rounded to 6 decimals
RARE = 1  # entity flag: named in at most ``rare_entity_df`` articles (time boost)
RARE_PERSON = 2  # entity flag: a person named in at most ``rare_person_df`` articles (damping waiver)
_FAR = 10**9  # an interval bound no real day reaches (days are proleptic ordinals, about 7.4 × 10⁵)
FEW_PAIRS = 8  # blocks with at most this many candidate pairs are scored pair by pair (``_score_few``)
_GAP_CELLS = 1 << 20  # interval comparisons per chunk when measuring days apart (8 MB per int64 array)


@functools.lru_cache(maxsize=1 << 16)
def key_hash(key: str) -> int:
    """A stable 64-bit hash of a term or entity key (independent of Python's hash seed); memoised, as the same
    terms recur in article after article (a pure function: the cache changes no result)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def _packed(weights: dict[str, float]) -> tuple[bytes, bytes]:
    keys = np.fromiter((key_hash(k) for k in weights), dtype="<u8", count=len(weights))
    values = np.fromiter((round(v * SCALE) for v in weights.values()), dtype="<u4", count=len(weights))
    return keys.tobytes(), values.tobytes()


def pack_entry(features: dict, config: ClusterConfig) -> tuple:
    """Story features in; the block entry scoring reads out:
    ``(id, date, days, term hashes, term weights, entity hashes, entity weights, entity flags)``.

    An entity's flags come from its corpus document frequency, the same in every article that names it, so a
    block reads them per key, whichever member carried them."""
    ents = features["ents"]
    rare = set(features["rare"])
    persons = features["persons"]
    flags = bytes(
        (RARE if k in rare else 0) | (RARE_PERSON if persons.get(k, math.inf) <= config.rare_person_df else 0)
        for k in ents
    )
    return (features["id"], features["date"], features["days"], *_packed(features["vec"]), *_packed(ents), flags)


def _matrix(members: list[tuple], hashes: int, weights: int) -> tuple[np.ndarray, np.ndarray]:
    """Members' sparse weights as a dense ``members × distinct keys`` float64 matrix, and each column's key index
    into the concatenated entries (to carry per-entry flags over to columns)."""
    keys = [np.frombuffer(m[hashes], dtype="<u8") for m in members]
    lengths = [len(k) for k in keys]
    flat = np.concatenate(keys) if keys else np.zeros(0, dtype="<u8")
    distinct, column = np.unique(flat, return_inverse=True)
    rows = np.repeat(np.arange(len(members)), lengths)
    matrix = np.zeros((len(members), len(distinct)))
    if len(flat):
        matrix[rows, column] = np.concatenate([np.frombuffer(m[weights], dtype="<u4") for m in members])
    return matrix, column


def _days_apart(members: list[tuple], first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fewest days between the day intervals of each pair (``core.timex.days_apart``), and whether both are
    dated."""
    width = max(1, max(len(m[2]) for m in members))
    lo = np.full((len(members), width), _FAR, dtype=np.int64)
    hi = np.full((len(members), width), -_FAR, dtype=np.int64)
    for row, member in enumerate(members):
        for col, (start, end) in enumerate(member[2]):
            lo[row, col], hi[row, col] = start, end
    dated = np.array([bool(m[2]) for m in members])
    days = np.empty(len(first), dtype=np.int64)
    step = max(1, _GAP_CELLS // (width * width))  # pairs per chunk: an article may name many days
    for start in range(0, len(first), step):
        a, b = first[start : start + step], second[start : start + step]
        gap = np.maximum(lo[b][:, None, :] - hi[a][:, :, None], lo[a][:, :, None] - hi[b][:, None, :])
        days[start : start + step] = np.maximum(0, gap).min(axis=(1, 2))
    return days, dated[first] & dated[second]


def _shared_entities(
    ents: np.ndarray, flags: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pair: the sum over shared entities of the smaller weight, and whether they share a rare entity
    and a rare person.

    An entity's weight is its corpus IDF, the same in every article that names it, so the smaller weight of a
    shared entity is that weight, and the three sums are matrix products of the members' entity indicators
    (members × members, not pairs × entities). Should weights differ within a column, the pairs' minimums are
    taken directly. Either way the sums are of integers below 2⁵³, so exact.
    """
    present = ents > 0
    weight = ents.max(axis=0)
    if np.array_equal(ents, present * weight):
        held = present.astype(np.float64)
        overlap = ((held * weight) @ held.T)[first, second]
        rare = ((held * ((flags & RARE) > 0)) @ held.T)[first, second] > 0
        rare_person = ((held * ((flags & RARE_PERSON) > 0)) @ held.T)[first, second] > 0
        return overlap, rare, rare_person
    shared = np.minimum(ents[first], ents[second])
    held = shared > 0
    rare = (held & (flags & RARE > 0)).any(axis=1)
    rare_person = (held & (flags & RARE_PERSON > 0)).any(axis=1)
    return shared.sum(axis=1), rare, rare_person


def _weights(entry: tuple, hashes: int, weights: int) -> dict[int, int]:
    """A packed entry's key hashes and integer weights (fields ``hashes`` and ``weights``) as a dict."""
    keys = np.frombuffer(entry[hashes], dtype="<u8").tolist()
    return dict(zip(keys, np.frombuffer(entry[weights], dtype="<u4").tolist(), strict=True))


def _score_few(members: list[tuple], pairs: list[tuple[int, int]], config: ClusterConfig) -> list[float]:
    """The scores of a few pairs, one at a time in Python: the same values as the array path of ``score_block``.

    Its sums are of the same integers, hence equal; every floating-point step after them is the same operation
    on the same operands (the cosine's division, the weighted Jaccard, the boost and the damping), in the same
    order. An entity's flags are OR-ed over the block, as there.
    """
    used = sorted({i for pair in pairs for i in pair})
    terms = {i: _weights(members[i], 3, 4) for i in used}
    ents = {i: _weights(members[i], 5, 6) for i in used}
    flags: dict[int, int] = {}
    for member in members:
        for k, f in zip(np.frombuffer(member[5], dtype="<u8").tolist(), member[7], strict=True):
            flags[k] = flags.get(k, 0) | f
    scores = []
    for a, b in pairs:
        ta, tb = (terms[a], terms[b]) if len(terms[a]) <= len(terms[b]) else (terms[b], terms[a])
        cos = sum(w * tb[k] for k, w in ta.items() if k in tb) / float(SCALE * SCALE)
        ea, eb = ents[a], ents[b]
        shared = [k for k in ea if k in eb]
        overlap = sum(min(ea[k], eb[k]) for k in shared)
        union = sum(ea.values()) + sum(eb.values()) - overlap
        score = config.alpha * cos + (1 - config.alpha) * (overlap / union if union > 0 else 0.0)
        days_a, days_b = members[a][2], members[b][2]
        if days_a and days_b:
            days = min(max(0, lo_b - hi_a, lo_a - hi_b) for lo_a, hi_a in days_a for lo_b, hi_b in days_b)
            if any(flags[k] & RARE for k in shared):
                score *= 1.0 + config.time_boost * math.exp(-days / config.time_boost_days)
            if days > config.window_days and not any(flags[k] & RARE_PERSON for k in shared):
                score /= 1.0 + (days - config.window_days) / config.tau_days
        scores.append(score)
    return scores


def score_block(key: str, members: list[tuple], config: ClusterConfig) -> tuple[list[tuple[str, str, float]], int, int]:
    """Score the candidate pairs of one block of packed entries (``pack_entry``).

    Returns the edges ``(id_a, id_b, score)`` with ``id_a < id_b`` and score ≥ ``min_edge``, in pair order,
    the number of pairs scored, and the number of (sub-)blocks skipped as too large.
    """
    members = sorted({m[0]: m for m in members}.values(), key=lambda m: m[0])
    pairs, skipped = candidate_index_pairs(key, [time_bucket({"date": m[1]}, config) for m in members], config)
    if not pairs:
        return [], 0, skipped
    if len(pairs) <= FEW_PAIRS:
        scored = zip(pairs, _score_few(members, pairs, config), strict=True)
        return _edges(members, ((a, b, value) for (a, b), value in scored), config), len(pairs), skipped
    first, second = (np.array(side, dtype=np.intp) for side in zip(*pairs, strict=True))

    terms, _ = _matrix(members, 3, 4)
    cos = (terms @ terms.T)[first, second] / float(SCALE * SCALE)

    ents, column = _matrix(members, 5, 6)
    flags = np.zeros(ents.shape[1], dtype=np.uint8)
    np.bitwise_or.at(flags, column, np.frombuffer(b"".join(m[7] for m in members), dtype=np.uint8))
    overlap, shares_rare, shares_rare_person = _shared_entities(ents, flags, first, second)
    totals = ents.sum(axis=1)
    union = totals[first] + totals[second] - overlap
    jaccard = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
    score = config.alpha * cos + (1 - config.alpha) * jaccard

    days, dated = _days_apart(members, first, second)
    boosted = dated & shares_rare
    if boosted.any():  # math.exp on the few distinct gaps: the same value on every platform
        factor = {
            d: 1.0 + config.time_boost * math.exp(-d / config.time_boost_days) for d in set(days[boosted].tolist())
        }
        score[boosted] *= np.array([factor[d] for d in days[boosted].tolist()])
    damped = dated & (days > config.window_days) & ~shares_rare_person
    score[damped] /= 1.0 + (days[damped] - config.window_days) / config.tau_days

    # Rounding to 6 decimals moves a score by at most 5 × 10⁻⁷: pairs further below ``min_edge`` cannot make it.
    kept = np.flatnonzero(score >= config.min_edge - 1e-6)
    scored = zip(first[kept].tolist(), second[kept].tolist(), score[kept].tolist(), strict=True)
    return _edges(members, scored, config), len(pairs), skipped


def _edges(members: list[tuple], scored, config: ClusterConfig) -> list[tuple[str, str, float]]:
    """``(a, b, score)`` by member index in; the edges ``(id_a, id_b, score rounded as pair_score)`` that reach
    ``min_edge`` out."""
    edges = []
    for a, b, value in scored:
        value = round(min(max(value, 0.0), 1.0), 6)
        if value >= config.min_edge:
            edges.append((members[a][0], members[b][0], value))
    return edges
