"""Nightly reprocessing: date ranges, atomic replacement, interruption, lock, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from conftest import NEWSBEAM, REFERENCE_DATE, ROOT, read_jsonl_tree, run_cli, tree_bytes

from pipeline.commit import recover, swap_in
from pipeline.lock import OutputLock

pytestmark = pytest.mark.slow

TOPICS = {
    "2022-07-06": "Dockworkers in Santos voted to strike over pay, halting coffee exports from Brazil's largest port.",
    "2022-07-07": "A magnitude 6.1 earthquake struck off the coast of Sumatra, Indonesia's geophysics agency said.",
    "2022-07-08": "Kenya's central bank raised its benchmark lending rate to 7.5 percent to curb inflation.",
}


def _write(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _rows(extra: str = "") -> list[dict]:
    rows = []
    for n, (day, text) in enumerate(sorted(TOPICS.items())):
        rows.append({"id": f"r{n}", "date": day, "title": None, "text": text + (extra if day == "2022-07-07" else "")})
    return rows


def _run(out: Path, source: Path, *args: str, check: bool = True):
    return run_cli("run", "--input", str(source), "--output", str(out), "--reference_date", REFERENCE_DATE, *args,
                   check=check)  # fmt: skip


def test_range_run_replaces_only_its_partitions(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    _write(source, _rows())
    _run(out, source)
    before = tree_bytes(out)
    # Tonight's input: the 07-07 article was corrected, and a new 07-08 article arrived (outside the range).
    rows = _rows(extra=" Officials said there was no tsunami threat.")
    rows.append(
        {"id": "r9", "date": "2022-07-08", "title": None, "text": "Kenya's shilling weakened against the dollar."}
    )
    _write(source, rows)
    proc = _run(out, source, "--since", "2022-07-07", "--until", "2022-07-07")
    after = tree_bytes(out)
    for name, data in before.items():
        if "date=2022-07-07" not in name and name.startswith(("articles/", "stories/")):
            assert after[name] == data, f"{name} changed"
    (article,) = read_jsonl_tree(out / "articles" / "date=2022-07-07")
    assert "no tsunami threat" in article["text"]
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["counts"]["skipped_out_of_range"] == 3 and manifest["balance"]["ok"]
    assert manifest["range"]["replaced"] == ["articles/date=2022-07-07", "stories/date=2022-07-07",
                                             "dead_letter/range=2022-07-07_2022-07-07"]  # fmt: skip
    assert (out / "_SUCCESS").exists() and "records read" in proc.stdout


def test_range_run_removes_a_partition_left_empty(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    _write(source, _rows())
    _run(out, source)
    _write(source, [r for r in _rows() if r["date"] != "2022-07-08"])
    _run(out, source, "--since", "2022-07-08", "--until", "2022-07-08")
    assert not (out / "articles" / "date=2022-07-08").exists()
    assert (out / "articles" / "date=2022-07-06").exists()


def test_interrupted_run_leaves_previous_output_intact(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    _write(source, _rows())
    _run(out, source)
    before = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".newsbeam/")}
    many = [{"id": f"m{i}", "date": "2022-07-09", "title": None, "text": f"Report {i}: " + TOPICS["2022-07-07"] * 3}
            for i in range(400)]  # fmt: skip
    _write(source, _rows() + many)
    proc = subprocess.Popen(
        [str(NEWSBEAM), "run", "--input", str(source), "--output", str(out), "--reference_date", REFERENCE_DATE],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list((out / ".newsbeam").glob("staging-*/articles")) and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be interrupted")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-write: the staged articles exist, nothing is committed
    proc.wait()
    after = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".newsbeam/")}
    assert after == before
    assert read_jsonl_tree(out / "articles")  # still readable
    _run(out, source)  # the next run cleans up and succeeds (the kernel released the lock)
    assert not list((out / ".newsbeam").glob("staging-*"))
    assert len(read_jsonl_tree(out / "articles")) > 3


def test_recover_repairs_a_swap_cut_between_its_renames(tmp_path):
    out = tmp_path / "out"
    (out / "articles" / "date=2022-07-07").mkdir(parents=True)
    (out / "articles" / "date=2022-07-07" / "part-00000.jsonl").write_text("{}\n")
    # The first rename of a swap happened, the second did not.
    os.replace(out / "articles" / "date=2022-07-07", out / "articles" / ".date=2022-07-07.old-run1")
    (out / "articles" / ".date=2022-07-07.new-run1").mkdir()
    assert recover(out) == [str(out / "articles" / "date=2022-07-07")]
    assert (out / "articles" / "date=2022-07-07" / "part-00000.jsonl").read_text() == "{}\n"
    assert not list((out / "articles").glob(".*"))
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "part-00000.jsonl").write_text('{"new": 1}\n')
    swap_in(staged, out / "articles" / "date=2022-07-07", "run2")
    assert (out / "articles" / "date=2022-07-07" / "part-00000.jsonl").read_text() == '{"new": 1}\n'


def test_second_run_on_a_locked_output_exits_4(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    _write(source, _rows())
    with OutputLock(out / ".newsbeam", "held-by-test"):
        proc = _run(out, source, check=False)
    assert proc.returncode == 4
    assert "another newsbeam run is writing to this output" in proc.stderr and "held-by-test" in proc.stderr


def test_dead_letter_rate_exit_code(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    _write(source, _rows())
    with source.open("ab") as handle:
        handle.write(b'{"id": "broken", "text": "cut off\n')
    proc = _run(out, source, "--max_dead_letter_rate", "0.1", check=False)
    assert proc.returncode == 3 and "dead-letter rate 25.0%" in proc.stderr
    assert (out / "_SUCCESS").exists() and len(read_jsonl_tree(out / "dead_letter")) == 1
    assert _run(out, source, "--max_dead_letter_rate", "0.5").returncode == 0


def test_since_after_until_is_a_usage_error(tmp_path):
    source = tmp_path / "in.jsonl"
    _write(source, _rows())
    proc = _run(tmp_path / "out", source, "--since", "2022-07-08", "--until", "2022-07-07", check=False)
    assert proc.returncode == 2
