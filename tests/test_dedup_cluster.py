"""Near duplicates and same-event stories: the plain functions, then real Beam pipelines."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from pathlib import Path

import apache_beam as beam
import numpy as np
import orjson
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from conftest import REFERENCE_DATE, SEEDS, beam_pipeline

from core.clustering import (
    ClusterConfig,
    average_link,
    block_keys,
    candidate_pairs,
    connected_components,
    linkage_components,
    linkage_parts,
    pair_score,
    time_bucket,
)
from core.entities import EntityConfig
from core.minhash import (
    DedupConfig,
    _mod_mersenne,
    figures_contained,
    jaccard,
    near_duplicate,
    numbers_in,
    shingles,
)
from core.normalize import NormalizeConfig
from core.state import REPLACED
from core.stories import story_id_for
from core.text import dedup_key
from core.timex import referenced_days
from transforms.cluster import ClusterStories, rebuild_story
from transforms.dedup import DeduplicateArticles, assign_survivors, text_cost
from transforms.enrich import EnrichEntities
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles

REUTERS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "reuters21578.jsonl"
NORMALIZE = NormalizeConfig(reference_date=REFERENCE_DATE)


def _reuters(*ids: str) -> list[dict]:
    if not REUTERS.exists():
        pytest.skip(f"{REUTERS} not present (the shared eval data sits beside the repo in CI)")
    wanted, found = set(ids), {}
    with REUTERS.open("rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            if record["id"] in wanted:
                found[record["id"]] = {"id": record["id"], "date": record["date_raw"], "title": record["title"],
                                       "text": record["text"]}  # fmt: skip
    return [found[i] for i in ids]


def _pipeline_dedup(tmp_path: Path, records: list[dict]) -> list:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return [{"path": str(path), "base": str(tmp_path)}]


# --------------------------------------------------------------------------- plain functions


def test_shingles_and_jaccard():
    a = shingles("the quick brown fox jumps over the lazy dog today", 3)
    b = shingles("the quick brown fox jumps over the lazy cat today", 3)
    assert a.dtype == np.uint64 and len(a) == 8
    assert 0.3 < jaccard(a, b) < 1.0 and jaccard(a, a) == 1.0


def test_shingles_hash_the_word_grams_of_the_dedup_key():
    texts = [
        "",
        "Short text.",
        "One two three four five.",
        "Les ministres  des Affaires étrangères se sont réunis — vendredi à Bali, a dit l’AFP.",
        "Министры иностранных дел встретились в пятницу на Бали\nчтобы обсудить войну",
        "The G20 foreign ministers met in Bali on Friday; Lavrov walked out. " * 3,
    ]
    for text in texts:
        words = dedup_key(text).split()
        grams = [" ".join(words[i : i + 5]) for i in range(len(words) - 4)] or ([" ".join(words)] if words else [])
        assert shingles(text, 5).tolist() == sorted({zlib.crc32(g.encode()) for g in grams}), text


def test_mersenne_fold_equals_the_remainder():
    # signature() folds instead of dividing; the folded value must be the remainder for every uint64 it can meet
    edges = [0, 1, 2**61 - 2, 2**61 - 1, 2**61, 2**62 - 1, 2**62, 2**63, 2**64 - 2, 2**64 - 1]
    rng = np.random.default_rng(7)
    x = np.concatenate([np.array(edges, dtype=np.uint64), rng.integers(0, 2**64, 100_000, dtype=np.uint64)])
    assert np.array_equal(_mod_mersenne(x), x % np.uint64(2**61 - 1))


def test_figures_must_be_contained():
    assert figures_contained(numbers_in("rose 5.93 mln to 155,221 bags"), numbers_in("155221 bags, 5.93 mln, up 2"))
    assert not figures_contained(
        numbers_in("dividend of 15 cts payable April 1"), numbers_in("dividend 17 cts April 1")
    )


def test_assign_survivors_uses_the_documented_rule():
    edges = [("b", "c", 0.9, ["2022-07-02", "s2", "b"], ["2022-07-01", "s9", "c"]),
             ("a", "b", 0.85, ["2022-07-01", "s1", "a"], ["2022-07-02", "s2", "b"])]  # fmt: skip
    assert assign_survivors(edges) == [("a", ("a", 0.85)), ("b", ("a", 0.9)), ("c", ("a", 0.9))]


def test_average_link_keeps_earlier_stories_fixed():
    # p1, p2: one earlier story; q: another. New n1 is close to both stories, n2 only to q.
    edges = [("n1", "p1", 0.9), ("n1", "p2", 0.8), ("n1", "q", 0.95), ("n2", "q", 0.5), ("p1", "q", 0.9)]
    fixed = {"p1": "S", "p2": "S", "q": "T"}
    clusters = average_link(edges, 0.15, fixed)
    assert not any({"p1", "q"} <= set(c) for c in clusters)  # two earlier stories never merge
    assert sum("n1" in c for c in clusters) == 1
    # p1 and p2 start as one cluster: average similarity of n1 to it is (0.9 + 0.8) / 2 = 0.85 < 0.95 to q
    assert ["n1", "n2", "q"] in clusters and ["p1", "p2"] in clusters


def _clusters_by_connected_components(edges, threshold, fixed):
    """Average-link run per connected component (as ``ClusterStories`` ran it before ``linkage_parts``)."""
    roots = connected_components([(a, b) for a, b, _ in edges])
    clusters = []
    for root in set(roots.values()):
        part = [e for e in edges if roots[e[0]] == root]
        clusters += average_link(part, threshold, {n: s for n, s in fixed.items() if roots.get(n) == root})
    return sorted(clusters)


def _clusters_by_linkage_parts(edges, threshold, fixed):
    """Average-link run part by part (as ``ClusterStories`` runs it), nodes in no part as clusters of one."""
    roots, parts = linkage_parts(edges, threshold, fixed)
    clusters = [[node] for node in {n for a, b, _ in edges for n in (a, b)} if node not in roots]
    for root, part in parts.items():
        clusters += average_link(part, threshold, {n: s for n, s in fixed.items() if roots.get(n) == root})
    return sorted(clusters)


def _random_graph(rng: random.Random) -> tuple[list[str], list[tuple[str, str, float]]]:
    """Up to 29 nodes and sorted edges between them, light and heavy, some exactly at the threshold 0.15,
    rounded as ScoreBlocks rounds them."""
    nodes = [f"n{i:02d}" for i in range(rng.randrange(2, 30))]
    edges = {}
    for _ in range(rng.randrange(1, 3 * len(nodes))):
        a, b = sorted(rng.sample(nodes, 2))
        edges[a, b] = rng.choice([0.15, round(rng.uniform(0.02, 0.12), 6), round(rng.uniform(0.02, 0.5), 6)])
    return nodes, [(a, b, w) for (a, b), w in sorted(edges.items())]


def test_average_link_by_linkage_parts_equals_average_link_by_connected_components():
    rng = random.Random(11)
    for _ in range(500):
        nodes, edges = _random_graph(rng)
        fixed = {n: rng.choice("ST") for n in nodes if rng.random() < 0.2}
        expected = _clusters_by_connected_components(edges, 0.15, fixed)
        assert _clusters_by_linkage_parts(edges, 0.15, fixed) == expected
        if not fixed:  # without earlier stories, one run over all edges gives the same clusters too
            assert average_link(edges, 0.15) == expected


def test_average_link_does_not_depend_on_the_order_of_its_edges():
    """ClusterStories hands a part's edges over in no particular order (a set): shuffled, with pairs written
    either way round, the clusters are the same; a pair listed twice weighs the sum of both weights."""
    rng = random.Random(5)
    for _ in range(300):
        nodes, edges = _random_graph(rng)
        fixed = {n: rng.choice("ST") for n in nodes if rng.random() < 0.2}
        expected = average_link(edges, 0.15, fixed)
        shuffled = [(b, a, w) if rng.random() < 0.5 else (a, b, w) for a, b, w in edges]
        rng.shuffle(shuffled)
        assert average_link(shuffled, 0.15, fixed) == expected
    # 0.1 alone stays below the threshold; listed twice (either way round), the pair weighs 0.2 and merges.
    assert average_link([("a", "b", 0.1)], 0.15) == [["a"], ["b"]]
    assert average_link([("a", "b", 0.1), ("b", "a", 0.1)], 0.15) == [["a", "b"]]


def test_parts_gathered_where_the_edges_are_equal_linkage_parts():
    """ClusterStories' steps apart: components from the heavy edges only (all edges with earlier stories),
    each block's edges sent to its part, the ties added per part. Every part gets exactly ``linkage_parts``'
    edges, and average-link on them assigns the same stories."""
    from transforms.cluster import _cluster_part, _edges_by_part, _find_parts, _heavy

    rng = random.Random(5)
    tied = 0
    for _ in range(300):
        nodes, edges = _random_graph(rng)
        blocks = [[] for _ in range(rng.randrange(1, 6))]
        for edge in edges:  # a pair is found in one to three blocks
            for block in rng.sample(blocks, rng.randint(1, min(3, len(blocks)))):
                block.append(edge)
        fixed = {n: rng.choice("ST") for n in nodes if rng.random() < 0.3} if rng.random() < 0.5 else {}
        linking = blocks if fixed else [_heavy(block, 0.15) for block in blocks]
        out = list(_find_parts(sorted({e for block in linking for e in block}), 0.15, fixed))
        roots = dict(o.value for o in out if isinstance(o, beam.pvalue.TaggedOutput))
        ties = dict(o for o in out if not isinstance(o, beam.pvalue.TaggedOutput))
        gathered: dict[str, list] = {}
        for block in blocks:
            for part, listed in _edges_by_part(block, roots):
                gathered.setdefault(part, []).append(listed)

        expected_roots, expected_parts = linkage_parts(edges, 0.15, fixed)
        assert roots == expected_roots
        assert set(gathered) | set(ties) == set(expected_parts)
        for part, part_edges in expected_parts.items():
            got = {e for listed in gathered.get(part, []) for e in listed} | set(ties.get(part, []))
            assert got == set(part_edges)
            members = {n for a, b, _ in part_edges for n in (a, b)}
            nodes_of = [(n, (n,), fixed.get(n)) for n in sorted(members)]
            apart = {"edges": gathered.get(part, []), "ties": [ties[part]] if part in ties else [], "nodes": nodes_of}
            whole = {"edges": [part_edges], "ties": [], "nodes": nodes_of}
            assert list(_cluster_part((part, apart), 0.15)) == list(_cluster_part((part, whole), 0.15))
        tied += len(ties)
    assert tied > 20  # earlier stories tie articles in many of the random graphs


def test_linkage_components_follow_heavy_edges_and_earlier_stories():
    edges = [("a", "b", 0.9), ("b", "c", 0.05), ("c", "d", 0.15), ("p", "a", 0.05), ("p", "q", 0.01), ("x", "y", 0.1)]
    assert linkage_components(edges, 0.15) == {"a": "a", "b": "a", "c": "c", "d": "c"}
    # p and q: one earlier story, connected (lightly), so they start as one cluster and share a part
    assert linkage_components(edges, 0.15, {"p": "S", "q": "S", "x": "S"}) == {
        "a": "a", "b": "a", "c": "c", "d": "c", "p": "p", "q": "p"
    }  # fmt: skip


def test_rebuild_story_moves_a_story_out_of_an_old_partition():
    def member(i, day):
        return {"id": i, "source_id": i, "published": day, "published_date": day, "title": i, "entities": []}

    earlier = [member("a", "2022-07-01"), member("b", "2022-07-05")]
    replaced_a = [{**earlier[0], REPLACED: True}, earlier[1]]  # a ranged run over 2022-07-01 re-derives a
    story, delete_from = rebuild_story("S", [], replaced_a)
    assert story["article_ids"] == ["b"] and story["first_published"] == "2022-07-05"
    assert delete_from == "2022-07-01"
    story, delete_from = rebuild_story("S", [member("c", "2022-07-06")], earlier)
    assert story["article_ids"] == ["a", "b", "c"] and delete_from is None
    assert rebuild_story("S", [], replaced_a[:1]) == (None, "2022-07-01")


def test_average_link_and_components():
    edges = [("a", "b", 0.9), ("b", "c", 0.8), ("a", "c", 0.7), ("c", "d", 0.16), ("x", "y", 0.1)]
    assert average_link(edges, 0.15) == [["a", "b", "c"], ["d"], ["x"], ["y"]]
    assert connected_components([("b", "a"), ("c", "b"), ("x", "y")]) == {
        "a": "a",
        "b": "a",
        "c": "a",
        "x": "x",
        "y": "x",
    }


def test_time_damping_is_waived_for_a_shared_rare_person():
    base = {
        "vec": {"shooting": 0.8, "mall": 0.6},
        "ents": {"person:jane roe": 3.0},
        "rare": ["person:jane roe"],
        "persons": {"person:jane roe": 2},
    }
    a = {**base, "id": "a", "date": "2016-03-10", "days": referenced_days("", "2016-03-10")}
    later = {**base, "id": "b", "date": "2016-08-27", "days": referenced_days("", "2016-08-27")}
    stranger = {**later, "ents": {}, "rare": [], "persons": {}}
    config = ClusterConfig()
    assert pair_score(a, later, config) == pytest.approx(1.0)
    assert pair_score(a, stranger, config) < 0.05


def test_block_keys_are_rare_terms_and_rare_entities():
    features = {"vec": {"bali": 0.9, "meeting": 0.3}, "ents": {"person:wang yi": 2.0}, "date": "2022-07-07"}
    df = {"bali": 3, "meeting": 900}
    keys = block_keys(features, df, {"person:wang yi": 2}, ClusterConfig(block_terms=1))
    assert keys == ["t:bali", "e:person:wang yi"]
    common_only = block_keys({**features, "vec": {"meeting": 1.0}}, df, {}, ClusterConfig())
    assert not any(k.startswith("t:") for k in common_only)  # a term in 900 articles is no block key


def test_block_keys_leave_out_keys_no_other_article_holds():
    """A key of document frequency 1 would be a block of one; it is dropped after the top terms are chosen, not
    replaced by the next term, so the candidate pairs stay the same."""
    features = {"vec": {"zyx": 0.9, "bali": 0.5, "summit": 0.2}, "ents": {"org:solo": 2.0, "gpe:bali": 1.5}}
    keys = block_keys(
        features, {"zyx": 1, "bali": 3, "summit": 4}, {"org:solo": 1, "gpe:bali": 5}, ClusterConfig(block_terms=2)
    )
    assert keys == ["t:bali", "e:gpe:bali"]


def test_term_blocks_pair_what_per_bucket_blocks_would():
    """A term block stands for one block per time bucket (each article in its bucket's block and the next's):
    the pairs must be exactly the pairs of those sub-blocks that are not too large."""
    rng = random.Random(7)
    config = ClusterConfig(max_block_size=6, block_window_days=7)
    for _ in range(200):
        members = []
        for i in range(rng.randint(2, 14)):
            day = None if rng.random() < 0.2 else dt.date(2016, 1, 1) + dt.timedelta(days=rng.randint(0, 40))
            members.append({"id": f"a{i:02d}", "date": day.isoformat() if day else None})
        sub_blocks: dict[str, list[str]] = {}
        for m in members:
            bucket = time_bucket(m, config)
            for key in ("undated",) if bucket is None else (bucket, bucket + 1):
                sub_blocks.setdefault(key, []).append(m["id"])
        expected = {
            (a, b)
            for ids in sub_blocks.values()
            if len(ids) <= config.max_block_size
            for a in ids
            for b in ids
            if a < b
        }
        pairs, skipped = candidate_pairs("t:bali", members, config)
        assert {(fa["id"], fb["id"]) for fa, fb in pairs} == expected
        assert len(pairs) == len(expected)  # each pair once
        assert skipped == sum(1 for ids in sub_blocks.values() if len(ids) > config.max_block_size)
    entity_block = [{"id": f"a{i}", "date": None} for i in range(7)]
    assert candidate_pairs("e:person:wang yi", entity_block, config) == ([], 1)
    assert len(candidate_pairs("e:person:wang yi", entity_block[:6], config)[0]) == 15


# --------------------------------------------------------------------------- real Reuters pairs


def test_reuters_template_reports_are_not_near_duplicates():
    # Two dividend notices from the same template (Jaccard 0.87), different companies and figures.
    first, second = _reuters("reuters-4387", "reuters-9503")
    is_dup, sim = near_duplicate(first["text"], second["text"], DedupConfig())
    assert sim > 0.8 and not is_dup


def test_reuters_refiled_story_is_a_near_duplicate():
    first, second = _reuters("reuters-1086", "reuters-1089")  # the same bond story filed twice, 3 minutes apart
    is_dup, sim = near_duplicate(first["text"], second["text"], DedupConfig())
    assert is_dup and sim >= 0.95


def test_near_duplicates_collapse_in_a_real_pipeline(tmp_path):
    records = _reuters("reuters-1086", "reuters-1089", "reuters-4387", "reuters-9503")
    with beam_pipeline() as p:
        raw = p | beam.Create(_pipeline_dedup(tmp_path, records)) | ReadArticles(1_000_000)
        unique = (raw.articles | NormalizeArticles(NORMALIZE)).articles | DeduplicateArticles(DedupConfig())
        unique = unique["articles"]
        summary = unique | beam.Map(
            lambda a: (a["source_id"], [(d["source_id"], d["reason"]) for d in a["duplicates"]])
        )
        assert_that(
            summary,
            equal_to([("reuters-1086", [("reuters-1089", "near")]), ("reuters-4387", []), ("reuters-9503", [])]),
        )


def test_near_copies_collapse_across_many_small_units(tmp_path):
    """With units of one character every survivor is a unit of its own; a copy still meets its survivor."""
    records = _reuters("reuters-1086", "reuters-1089", "reuters-4387", "reuters-9503")
    with beam_pipeline() as p:
        raw = p | beam.Create(_pipeline_dedup(tmp_path, records)) | ReadArticles(1_000_000)
        normalized = (raw.articles | NormalizeArticles(NORMALIZE)).articles
        unique = (normalized | DeduplicateArticles(DedupConfig(), cost=text_cost, unit_cost=1))["articles"]
        summary = unique | beam.Map(
            lambda a: (a["source_id"], [(d["source_id"], d["reason"]) for d in a["duplicates"]])
        )
        assert_that(
            summary,
            equal_to([("reuters-1086", [("reuters-1089", "near")]), ("reuters-4387", []), ("reuters-9503", [])]),
        )


# --------------------------------------------------------------------------- stories


def _seed_specs(order):
    return [{"path": str(SEEDS / name), "base": str(SEEDS)} for name in order]


@pytest.mark.parametrize("reverse", [False, True])
def test_seed_articles_share_one_story_in_any_order(reverse):
    names = sorted(p.name for p in SEEDS.glob("*.txt"))
    names = names[::-1] if reverse else names
    with beam_pipeline() as p:
        raw = p | beam.Create(_seed_specs(names)) | ReadArticles(1_000_000)
        unique = ((raw.articles | NormalizeArticles(NORMALIZE)).articles | DeduplicateArticles())["articles"]
        stories = unique | EnrichEntities(EntityConfig()) | ClusterStories(ClusterConfig())
        ids = (
            stories
            | beam.Map(lambda a: ("story", a["story_id"]))
            | beam.GroupByKey()
            | beam.MapTuple(lambda k, v: sorted(set(v)))
        )
        # The story id derives from the earliest member (seed 000, published 2022-07-07).
        expected_id = story_id_for("cdb2b2ce1521c44c501a")
        assert_that(ids, equal_to([[expected_id]]))


def test_an_article_whose_features_fail_is_kept_as_a_story_of_its_own():
    """Fault injection: one seed's date is made impossible after validation, so computing its story features
    raises inside ClusterStories. The job goes on, both articles come out, the broken one alone, counted."""
    names = sorted(p.name for p in SEEDS.glob("*.txt"))

    def break_second_seed(article: dict) -> dict:
        return {**article, "published_date": "2022-02-30"} if article["published_date"] == "2022-07-08" else article

    with beam_pipeline() as p:
        raw = p | beam.Create(_seed_specs(names)) | ReadArticles(1_000_000)
        unique = ((raw.articles | NormalizeArticles(NORMALIZE)).articles | DeduplicateArticles())["articles"]
        enriched = unique | EnrichEntities(EntityConfig()) | "Break" >> beam.Map(break_second_seed)
        stories = enriched | ClusterStories(ClusterConfig())
        pairs = stories | beam.Map(lambda a: (a["published_date"], a["story_id"] == story_id_for(a["id"])))
        assert_that(pairs, equal_to([("2022-07-07", True), ("2022-02-30", True)]))
    failed = p.result.metrics().query(MetricsFilter().with_name("story_features_failed"))["counters"]
    assert sum(c.committed for c in failed) == 1


def test_unrelated_articles_stay_apart(tmp_path):
    records = [
        {"id": "quake", "date": "2022-07-07", "title": None, "text": "A magnitude 6.1 earthquake struck off Sumatra on Thursday, Indonesia's geophysics agency said."},
        {"id": "final", "date": "2022-07-07", "title": None, "text": "Real Madrid beat Liverpool 1-0 in the Champions League final in Paris on Saturday."},
    ]  # fmt: skip
    with beam_pipeline() as p:
        raw = p | beam.Create(_pipeline_dedup(tmp_path, records)) | ReadArticles(1_000_000)
        stories = (raw.articles | NormalizeArticles(NORMALIZE)).articles | ClusterStories(ClusterConfig())
        count = stories | beam.Map(lambda a: a["story_id"]) | beam.Distinct() | beam.combiners.Count.Globally()
        assert_that(count, equal_to([2]))
