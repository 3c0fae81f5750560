"""Real Beam pipelines (FnApiRunner) over real files: read, normalise, dedup, write."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import orjson
from apache_beam.testing.util import assert_that, equal_to
from conftest import REFERENCE_DATE, beam_pipeline, read_jsonl_tree, tree_bytes

from core.normalize import NormalizeConfig
from pipeline.assemble import RunConfig, build_pipeline
from transforms.dedup import DeduplicateArticles
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.write import WritePartitions

CONFIG = NormalizeConfig(reference_date=REFERENCE_DATE)


def _specs(folder: Path) -> list[dict]:
    return [{"path": str(p), "base": str(folder)} for p in sorted(folder.iterdir())]


def test_read_articles_routes_every_bad_input_to_its_reason(bad_inputs):
    folder = bad_inputs["folder"]
    vanished = folder / "vanished.txt"
    vanished.write_text(" date 2022-07-07 listed, then deleted before reading")
    specs = _specs(folder)
    vanished.unlink()  # disappears between listing and reading
    parse_level = {k: v for k, v in bad_inputs["expected"].items() if v not in ("invalid_date", "date_out_of_range")}
    parse_level["vanished.txt"] = "file_unreadable"

    with beam_pipeline() as p:
        read = p | beam.Create(specs) | ReadArticles(max_article_bytes=1_000_000)
        letters = read.dead_letter | "Reasons" >> beam.Map(lambda d: (Path(d["source"]["path"]).name, d["reason"]))
        assert_that(letters, equal_to(sorted(parse_level.items())), label="DeadLetterReasons")
        ids = read.articles | "Ids" >> beam.Map(lambda a: (a["source_id"], a["encoding"]))
        expected_articles = [
            ("good_seed.txt", "utf-8"),
            ("good_latin1.txt", "cp1252"),
            ("wire-1", "utf-8"),
            ("wire-2", "utf-8"),
            ("wire-3", "utf-8"),
            ("gz-1", "utf-8"),
            ("bad_date.txt", "utf-8"),
            ("future.txt", "utf-8"),
            ("ancient.txt", "utf-8"),
        ]
        assert_that(ids, equal_to(expected_articles), label="Articles")
        files = read.files | "FileNames" >> beam.Map(lambda f: Path(f["path"]).name)
        assert_that(files, equal_to([p["path"].rsplit("/", 1)[1] for p in specs]), label="EveryFileReported")


def test_normalize_rejects_bad_dates_and_keeps_good(bad_inputs):
    folder = bad_inputs["folder"]
    names = ["good_seed.txt", "bad_date.txt", "future.txt", "ancient.txt"]
    specs = [{"path": str(folder / n), "base": str(folder)} for n in names]
    with beam_pipeline() as p:
        read = p | beam.Create(specs) | ReadArticles(1_000_000)
        normalized = read.articles | NormalizeArticles(CONFIG)
        reasons = normalized.dead_letter | "Reasons" >> beam.Map(lambda d: (d["source_id"], d["stage"], d["reason"]))
        assert_that(
            reasons,
            equal_to(
                [
                    ("bad_date.txt", "normalize", "invalid_date"),
                    ("future.txt", "normalize", "date_out_of_range"),
                    ("ancient.txt", "normalize", "date_out_of_range"),
                ]
            ),
            label="Rejected",
        )
        good = normalized.articles | "Good" >> beam.Map(lambda a: (a["source_id"], a["published"], a["language"]))
        assert_that(good, equal_to([("good_seed.txt", "2022-07-07", "en")]), label="Kept")


def test_exact_copies_collapse_to_earliest_then_smallest_source(tmp_path):
    body = "Officials met in Bali on Thursday to discuss food security and the war in Ukraine."
    (tmp_path / "b_copy.txt").write_text(f" date 2022-07-07 {body}")
    (tmp_path / "a_copy.txt").write_text(f" date 2022-07-07 {body.replace(' ', '  ')}")  # whitespace differs
    (tmp_path / "c_later.txt").write_text(f" date 2022-07-08 {body}")
    (tmp_path / "other.txt").write_text(" date 2022-07-07 A different article entirely.")
    with beam_pipeline() as p:
        raw = p | beam.Create(_specs(tmp_path)) | ReadArticles(1_000_000)
        unique = ((raw.articles | NormalizeArticles(CONFIG)).articles | DeduplicateArticles())["articles"]
        summary = unique | beam.Map(lambda a: (a["source_id"], sorted(d["source_id"] for d in a["duplicates"])))
        assert_that(summary, equal_to([("a_copy.txt", ["b_copy.txt", "c_later.txt"]), ("other.txt", [])]))


def test_write_partitions_is_order_independent(tmp_path):
    records = [{"id": f"id{i:03d}", "published_date": f"2022-07-0{1 + i % 3}", "v": i} for i in range(40)]
    outputs = []
    for n, ordering in enumerate((records, list(reversed(records)))):
        staging = tmp_path / f"s{n}"
        with beam_pipeline() as p:
            _ = (
                p
                | beam.Create(ordering)
                | WritePartitions(str(staging), "articles", lambda r: r["published_date"], lambda r: r["id"], 3)
            )
        outputs.append(tree_bytes(staging))
    assert outputs[0] == outputs[1]
    names = sorted(outputs[0])
    assert all(n.startswith("articles/date=2022-07-0") and n.endswith(".jsonl") for n in names)
    assert sum(b.count(b"\n") for b in outputs[0].values()) == 40
    for name in names:  # every file lists its records by key, each as one sorted-key JSON line
        lines = outputs[0][name].splitlines()
        ids = [orjson.loads(line)["id"] for line in lines]
        assert ids == sorted(ids)
        assert all(line == orjson.dumps(orjson.loads(line), option=orjson.OPT_SORT_KEYS) for line in lines)


def test_whole_pipeline_on_seeds(tmp_path, seeds_dir):
    staging = tmp_path / "staging"
    specs = [{"path": str(p), "base": str(seeds_dir)} for p in sorted(seeds_dir.glob("*.txt"))]
    config = RunConfig(staging_dir=str(staging), max_article_bytes=2_000_000, normalize=CONFIG)
    with beam_pipeline() as p:
        out = build_pipeline(p, specs, config)
        assert_that(
            out["articles"] | beam.Map(lambda a: (a["source_id"], a["published_date"])),
            equal_to([("000_4d1cb5d3b3d210b8.txt", "2022-07-07"), ("002_213fec431d727187.txt", "2022-07-08")]),
        )
    articles = read_jsonl_tree(staging / "articles")
    assert len(articles) == 2 and all(a["story_id"] for a in articles)
    assert len(read_jsonl_tree(staging / "stories")) >= 1
