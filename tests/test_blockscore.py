"""Vectorised block scoring (core.blockscore) gives exactly the edges pair_score defines."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from core.blockscore import key_hash, pack_entry, score_block
from core.clustering import ClusterConfig, candidate_pairs, idf, pair_score

VOCAB = [f"term{i}" for i in range(40)]
KEYS = [f"person:p{i}" for i in range(6)] + [f"org:o{i}" for i in range(6)] + [f"gpe:g{i}" for i in range(4)]
EDF = {k: [1, 5, 20, 21, 60][i % 5] for i, k in enumerate(KEYS)}  # corpus document frequency: one per key


def _features(rng: random.Random, i: int, corpus_idf: bool = False) -> dict:
    """Random story features of the shape ``core.clustering.features_from_terms`` gives; with ``corpus_idf`` an
    entity weighs its IDF in every article, as in a run (else any weight, which scoring must handle too)."""
    raw = {t: rng.random() for t in rng.sample(VOCAB, rng.randint(0, 12))}
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    named = rng.sample(KEYS, rng.randint(0, 6))
    if corpus_idf:
        ents = {k: round(idf(EDF[k], 100), 6) for k in named}
    else:
        ents = {k: round(rng.uniform(1.0, 9.0), 6) for k in named}
    date = None
    days = []
    if rng.random() < 0.8:
        day = dt.date(2016, 8, 1) + dt.timedelta(days=rng.randint(0, 30))
        date = day.isoformat()
        start = day.toordinal()
        days = [[start, start]]
        for _ in range(rng.randint(0, 3)):  # days the text names, some of them whole months
            lo = start - rng.randint(0, 40)
            days.append([lo, lo + rng.choice([0, 0, 29])])
    return {
        "id": f"a{i:03d}",
        "date": date,
        "days": sorted(days),
        "vec": {t: round(v / norm, 6) for t, v in sorted(raw.items())},
        "ents": ents,
        "rare": [k for k in ents if EDF[k] <= 20],
        "persons": {k: EDF[k] for k in ents if k.startswith("person:")},
    }


def _reference(key: str, members: list[dict], config: ClusterConfig) -> tuple[list[tuple], int, int]:
    pairs, skipped = candidate_pairs(key, members, config)
    edges = [(fa["id"], fb["id"], s) for fa, fb in pairs if (s := pair_score(fa, fb, config)) >= config.min_edge]
    return edges, len(pairs), skipped


@pytest.mark.parametrize("few_pairs", [0, 10**9], ids=["arrays", "pair-by-pair"])
@pytest.mark.parametrize("corpus_idf", [True, False])
@pytest.mark.parametrize("key", ["t:term0", "e:person:p0"])
def test_packed_blocks_score_exactly_like_pair_score(key, corpus_idf, few_pairs, monkeypatch):
    """Either way of scoring a block (numpy arrays, or a few pairs in Python) gives pair_score's edges."""
    monkeypatch.setattr("core.blockscore.FEW_PAIRS", few_pairs)
    rng = random.Random(11)
    config = ClusterConfig(max_block_size=12)
    boosted = damped = waived = 0
    for _ in range(150):
        members = [_features(rng, i, corpus_idf) for i in range(rng.randint(1, 14))]
        members += rng.sample(members, min(2, len(members)))  # an article can reach a block twice
        expected = _reference(key, members, config)
        assert score_block(key, [pack_entry(m, config) for m in members], config) == expected
        for fa, fb in candidate_pairs(key, members, config)[0]:
            shared = set(fa["rare"]) & set(fb["rare"])
            boosted += bool(shared and fa["days"] and fb["days"])
            damped += pair_score(fa, fb, config) < pair_score(fa, fb, ClusterConfig(window_days=10**6))
            waived += any(k in fb["persons"] and df <= config.rare_person_df for k, df in fa["persons"].items())
    assert boosted > 50 and damped > 50 and waived > 50  # the random blocks exercise every rule


def test_a_block_of_one_article_or_no_text_scores_nothing_or_entities_alone():
    config = ClusterConfig()
    rng = random.Random(3)
    one = _features(rng, 1)
    assert score_block("t:x", [pack_entry(one, config)] * 3, config) == ([], 0, 0)  # the same article thrice
    a = {**_features(rng, 2), "vec": {}, "ents": {"org:o1": 2.0}, "rare": [], "persons": {}, "days": [], "date": None}
    b = {**a, "id": "b"}
    edges, scored, _ = score_block("e:org:o1", [pack_entry(a, config), pack_entry(b, config)], config)
    assert scored == 1 and edges == [(a["id"], "b", round(1 - config.alpha, 6))]


def test_key_hash_is_stable():
    """Hashes travel between workers and runs: they must not depend on Python's hash seed."""
    assert key_hash("bali") == 0x9BC73AA05E63A632  # blake2b, 8 bytes, little-endian
    assert key_hash("Bali") != key_hash("bali")


def test_days_apart_in_chunks_gives_the_same_edges(monkeypatch):
    """Pairs are measured in chunks so that articles naming many days cannot blow up memory; chunk size must
    not change a score."""
    rng = random.Random(5)
    config = ClusterConfig()
    blocks = [[_features(rng, i) for i in range(rng.randint(2, 12))] for _ in range(30)]
    whole = [score_block("e:org:o1", [pack_entry(m, config) for m in b], config) for b in blocks]
    monkeypatch.setattr("core.blockscore._GAP_CELLS", 1)  # one pair per chunk
    assert [score_block("e:org:o1", [pack_entry(m, config) for m in b], config) for b in blocks] == whole
    assert sum(len(edges) for edges, _, _ in whole) > 20
