"""End-to-end tests of the ``newsbeam`` CLI: layout, manifest, dead letters, determinism, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from conftest import REFERENCE_DATE, SEEDS, read_jsonl_tree, run_cli, tree_bytes

pytestmark = pytest.mark.slow

SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))


def _run(out: Path, *args: str):
    return run_cli("run", "--output", str(out), "--reference_date", REFERENCE_DATE, *args)


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("seeds") / "out"
    proc = run_cli("run", "--output", str(out), "--reference_date", REFERENCE_DATE)  # default input: seeds/*.txt
    return out, proc.stdout


def test_seeds_layout_and_summary(seeds_run):
    out, stdout = seeds_run
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".newsbeam" not in p.parts)
    assert files == [
        "_SUCCESS",
        "articles/date=2022-07-07/part-00000.jsonl",
        "articles/date=2022-07-08/part-00000.jsonl",
        "manifest.json",
        *sorted(
            f"stories/date={d}/part-00000.jsonl"
            for d in {s["first_published"] for s in read_jsonl_tree(out / "stories")}
        ),
    ]
    assert (out / "dead_letter").is_dir()
    for label in ("records read", "articles written", "duplicates", "dead letters", "stories", "partitions", "time"):
        assert label in stdout
    articles = read_jsonl_tree(out / "articles")
    assert sorted(a["source_id"] for a in articles) == SEED_NAMES


def test_seeds_manifest(seeds_run):
    out, _ = seeds_run
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    for key in ("run_id", "started_at", "finished_at", "newsbeam_version", "options", "inputs", "counts", "outputs"):
        assert key in manifest
    assert manifest["started_at"].endswith("+00:00")
    assert [Path(i["path"]).name for i in manifest["inputs"]] == SEED_NAMES
    for entry in manifest["inputs"]:
        raw = (SEEDS / Path(entry["path"]).name).read_bytes()
        assert entry["size"] == len(raw)
        assert len(entry["sha256"]) == 64
    counts = manifest["counts"]
    assert counts["records_read"] == 2 and counts["articles_written"] == 2 and counts["dead_letters"] == 0
    assert manifest["balance"]["ok"] is True
    assert manifest["outputs"]["articles"]["2022-07-07"] == {
        "files": [{"name": "date=2022-07-07/part-00000.jsonl", "records": 1}],
        "records": 1,
    }
    assert manifest["options"]["newsbeam"]["reference_date"] == REFERENCE_DATE
    assert (out / "_SUCCESS").read_text().strip() == manifest["run_id"]


def test_bad_inputs_become_dead_letters_and_counts_balance(bad_inputs, tmp_path):
    out = tmp_path / "out"
    # Most of this folder is bad on purpose; allow it (the exit code for too many dead letters is tested elsewhere).
    proc = _run(out, "--input", str(bad_inputs["folder"] / "*"), "--max_article_bytes", "1000000",
                "--max_dead_letter_rate", "1")  # fmt: skip
    assert proc.returncode == 0
    letters = read_jsonl_tree(out / "dead_letter")
    by_file = {}
    for letter in letters:
        assert letter["source"]["path"] and letter["stage"] and letter["message"]
        assert len(letter["snippet"]) <= 200
        by_file.setdefault(Path(letter["source"]["path"]).name, set()).add(letter["reason"])
    assert by_file == {name: {reason} for name, reason in bad_inputs["expected"].items()}
    written = {Path(a["source"]["path"]).name for a in read_jsonl_tree(out / "articles")}
    assert written == set(bad_inputs["good"])
    assert (out / "articles" / "date=unknown").is_dir()  # wire-3 has no date
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    counts = manifest["counts"]
    assert counts["records_read"] == counts["articles_written"] + counts["duplicates"] + counts["dead_letters"]
    assert counts["dead_letters"] == len(bad_inputs["expected"])
    assert counts["dead_letters_by_reason"]["date_out_of_range"] == 2
    assert manifest["metrics"]["records_read"] == counts["records_read"]


def test_output_is_deterministic_across_runs_order_and_workers(tmp_path):
    seeds = [f"seeds/{name}" for name in SEED_NAMES]
    runs = {
        "first": [],
        "again": [],
        "reversed_inputs": ["--input", seeds[1], "--input", seeds[0]],
        "two_processes": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    }
    trees = {}
    for name, extra in runs.items():
        out = tmp_path / name
        args = extra if extra and extra[0] == "--input" else ["--input", "seeds/*.txt", *extra]
        _run(out, *args)
        trees[name] = {k: v for k, v in tree_bytes(out).items() if k.startswith(("articles/", "stories/"))}
    assert trees["first"]
    for name in runs:
        assert trees[name] == trees["first"], name


def test_rerun_replaces_partitions_whole(tmp_path):
    out = tmp_path / "out"
    _run(out, "--input", "seeds/*.txt", "--num_shards", "4")
    first = set(tree_bytes(out))
    _run(out, "--input", str(SEEDS / SEED_NAMES[0]))
    second = set(tree_bytes(out))
    assert not any("date=2022-07-08" in name for name in second), "stale partition left behind"
    assert any("date=2022-07-08" in name for name in first)
    assert [p.name for p in (out / ".newsbeam").iterdir()] == ["lock"]  # no staging or swap leftovers
    assert not list(out.glob(".*.old-*")) and not list((out / "articles").glob(".*"))


def test_usage_errors_exit_2(tmp_path):
    proc = run_cli("run", "--input", str(tmp_path / "nothing-*.txt"), "--output", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2 and "no input files match" in proc.stderr
    assert run_cli("run", "--num_shards", "0", check=False).returncode == 2
    assert run_cli("frobnicate", check=False).returncode == 2


def test_help_explains_every_option():
    text = run_cli("run", "--help").stdout
    for flag in (
        "--input",
        "--output",
        "--max_article_bytes",
        "--reference_date",
        "--future_tolerance_days",
        "--num_shards",
        "--state",
        "--state_retention_days",
        "--rebuild_state",
        "--runner",
        "--direct_running_mode",
        "--direct_num_workers",
        "--verbose",
    ):
        assert flag in text, flag


def test_quiet_by_default(tmp_path):
    proc = _run(tmp_path / "out", "--input", "seeds/*.txt")
    assert "apitools" not in proc.stderr
    assert "WARNING" not in proc.stderr


def test_schema_command_prints_all_kinds():
    doc = orjson.loads(run_cli("schema").stdout)
    assert set(doc) == {"article", "story", "dead_letter", "duplicate_link"}
    assert "story_id" in doc["article"]["properties"]


def test_copied_input_folder_gives_same_ids(tmp_path):
    """Source ids are relative to the input base, so moving the folder changes nothing."""
    moved = tmp_path / "elsewhere" / "drop"
    shutil.copytree(SEEDS, moved)
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, "--input", "seeds/*.txt")
    _run(b, "--input", str(moved / "*.txt"))
    ids = lambda out: sorted((x["id"], x["source_id"]) for x in read_jsonl_tree(out / "articles"))  # noqa: E731
    assert ids(a) == ids(b)
