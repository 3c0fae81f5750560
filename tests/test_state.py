"""State across runs (--state): last week's articles catch tonight's copies, last week's stories take tonight's articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from conftest import REFERENCE_DATE, SEEDS, read_jsonl_tree, run_cli, tree_bytes

from core.state import apply_retention, in_range, retention_start, state_record
from pipeline.state import CURRENT

pytestmark = pytest.mark.slow

DAY1, DAY2 = "2022-07-07", "2022-07-08"


def _seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def _body(path: Path) -> str:
    return path.read_text().split(" ", 3)[3]


def _night(archive: Path, out: Path, state: Path, day: str, *extra: str, check: bool = True):
    return run_cli("run", "--input", str(archive / "*.txt"), "--output", str(out), "--state", str(state),
                   "--since", day, "--until", day, "--reference_date", REFERENCE_DATE, *extra, check=check)  # fmt: skip


def _state_files(state: Path) -> dict[str, bytes]:
    generation = state / (state / CURRENT).read_text().strip()
    return {name: data for name, data in tree_bytes(generation).items() if name != "meta.json"}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """Night 1 processes seed 000 (day 1); night 2 sees seed 002 (day 2, same meeting) and two copies of seed 000."""
    root = tmp_path_factory.mktemp("nightly")
    archive, out, state = root / "archive", root / "out", root / "state"
    archive.mkdir()
    shutil.copy(_seed("000"), archive / "a_000.txt")
    _night(archive, out, state, DAY1)
    night1 = tree_bytes(out / "articles")
    night1_articles = read_jsonl_tree(out / "articles")

    shutil.copy(_seed("002"), archive / "b_002.txt")
    body = _body(_seed("000"))
    (archive / "c_wire_copy.txt").write_text(f" date {DAY2} {body}")
    words = body.split(" ")
    words[40] += "s"  # one word changed: a near copy
    (archive / "d_near_copy.txt").write_text(f" date {DAY2} " + " ".join(words))
    proc = _night(archive, out, state, DAY2)
    return {
        "root": root,
        "archive": archive,
        "out": out,
        "state": state,
        "night1_articles_bytes": night1,
        "night1_articles": night1_articles,
        "stdout": proc.stdout,
    }


def test_copies_of_last_nights_article_link_to_it(nightly):
    (earlier,) = nightly["night1_articles"]
    links = read_jsonl_tree(nightly["out"] / "duplicates")
    assert sorted((link["source_id"], link["reason"]) for link in links) == [
        ("c_wire_copy.txt", "exact"),
        ("d_near_copy.txt", "near"),
    ]
    assert {link["survivor_id"] for link in links} == {earlier["id"]}
    assert {link["survivor_story_id"] for link in links} == {earlier["story_id"]}
    assert {link["published_date"] for link in links} == {DAY2}
    written = read_jsonl_tree(nightly["out"] / "articles")
    assert sorted(a["source_id"] for a in written) == ["a_000.txt", "b_002.txt"]


def test_tonights_article_joins_last_nights_story(nightly):
    (earlier,) = nightly["night1_articles"]
    tonight = [a for a in read_jsonl_tree(nightly["out"] / "articles") if a["published_date"] == DAY2]
    assert [a["story_id"] for a in tonight] == [earlier["story_id"]]
    (story,) = read_jsonl_tree(nightly["out"] / "stories")
    assert story["story_id"] == earlier["story_id"]
    assert story["size"] == 2 and story["source_ids"] == ["a_000.txt", "b_002.txt"]
    assert story["first_published"] == DAY1 and story["last_published"] == DAY2
    # the story lives in day 1's partition, which night 2 patched; day 1's articles are untouched
    assert (nightly["out"] / "stories" / f"date={DAY1}").is_dir()
    assert (
        tree_bytes(nightly["out"] / "articles")[f"date={DAY1}/part-00000.jsonl"]
        == nightly["night1_articles_bytes"][f"date={DAY1}/part-00000.jsonl"]
    )


def test_counts_balance_and_manifest_records_the_state(nightly):
    manifest = orjson.loads((nightly["out"] / "manifest.json").read_bytes())
    counts = manifest["counts"]
    assert counts["records_read"] == 4
    assert (counts["articles_written"], counts["duplicates"], counts["skipped_out_of_range"]) == (1, 2, 1)
    assert counts["duplicates_of_earlier_runs"] == 2
    assert counts["stories_patched_outside_range"] == 1
    assert manifest["balance"]["ok"]
    assert manifest["state"]["earlier_records"] == 1
    assert manifest["state"]["generation"] == (nightly["state"] / CURRENT).read_text().strip()
    assert "stories/date=2022-07-07" in manifest["range"]["replaced"]


def test_rerunning_the_night_is_idempotent(nightly, tmp_path):
    out = nightly["out"]
    before = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".newsbeam") and k != "manifest.json"}
    state_before = _state_files(nightly["state"])
    _night(nightly["archive"], out, nightly["state"], DAY2)
    after = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".newsbeam") and k != "manifest.json"}
    assert after.keys() == before.keys()
    assert {k for k in after if after[k] != before[k]} == {"_SUCCESS"}  # only the run id differs
    assert _state_files(nightly["state"]) == state_before


def test_rebuilt_state_equals_the_state_the_runs_wrote(nightly, tmp_path):
    rebuilt = tmp_path / "rebuilt"
    proc = run_cli("rebuild-state", "--output", str(nightly["out"]), "--state", str(rebuilt))
    assert "2 records" in proc.stdout
    assert _state_files(rebuilt) == _state_files(nightly["state"])


def test_corrupt_or_missing_state_is_refused_then_rebuilt(nightly, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(nightly["out"], out, ignore=shutil.ignore_patterns(".newsbeam"))
    state = tmp_path / "state"
    shutil.copytree(nightly["state"], state)

    missing = _night(nightly["archive"], out, tmp_path / "no_state", DAY2, check=False)
    assert missing.returncode == 2 and "no state in" in missing.stderr and "rebuild-state" in missing.stderr

    part = sorted((state / (state / CURRENT).read_text().strip()).glob("part-*.jsonl"))[0]
    part.write_bytes(part.read_bytes()[:-10])
    corrupt = _night(nightly["archive"], out, state, DAY2, check=False)
    assert corrupt.returncode == 2 and "corrupt" in corrupt.stderr and "checksum" in corrupt.stderr

    _night(nightly["archive"], out, state, DAY2, "--rebuild_state")
    assert read_jsonl_tree(out / "stories") == read_jsonl_tree(nightly["out"] / "stories")
    assert read_jsonl_tree(out / "duplicates") == read_jsonl_tree(nightly["out"] / "duplicates")


def test_state_record_retention_and_range_rules():
    article = {
        "id": "a1",
        "source_id": "s",
        "source": {"path": "p", "line": None},
        "published": "2022-07-01",
        "published_date": "2022-07-01",
        "title": "T",
        "title_derived": True,
        "text": "body",
        "content_hash": "h",
        "story_id": "st",
        "entities": [{"key": "k", "canonical": "K", "label": "ORG", "kb_id": None, "mentions": 3, "salience": 0.5}],
        "paragraphs": ["body"],
    }
    record = state_record(article)
    assert record["entities"] == [{"key": "k", "canonical": "K", "label": "ORG", "kb_id": None}]
    assert "paragraphs" not in record
    start = retention_start("2022-07-31", 30)
    assert start == "2022-07-01"
    assert apply_retention(record, start)["text"] == "body"
    assert apply_retention(record, retention_start("2022-08-01", 30))["text"] is None
    assert apply_retention({**record, "published_date": None}, start)["text"] is None
    assert in_range(record, "2022-07-01", "2022-07-01") and not in_range(record, "2022-07-02", None)
    assert not in_range({**record, "published_date": None}, None, None)


def test_a_run_stopped_before_switching_the_state_is_rolled_forward(nightly, tmp_path):
    out, state = tmp_path / "out", tmp_path / "state"
    shutil.copytree(nightly["out"], out, ignore=shutil.ignore_patterns(".newsbeam"))
    shutil.copytree(nightly["state"], state)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    previous = manifest["state"]["previous_generation"]
    assert previous and (state / previous).is_dir()
    (state / CURRENT).write_text(previous + "\n")  # as if killed between the output commit and the switch
    proc = _night(nightly["archive"], out, state, DAY2)
    assert "switching to" in proc.stderr
    assert read_jsonl_tree(out / "stories") == read_jsonl_tree(nightly["out"] / "stories")
    assert read_jsonl_tree(out / "duplicates") == read_jsonl_tree(nightly["out"] / "duplicates")
