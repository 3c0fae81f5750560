"""``newsbeam watch``: dropped files appear within a poll plus a batch; a SIGKILL mid-batch loses and repeats nothing."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from conftest import NEWSBEAM, REFERENCE_DATE, ROOT, SEEDS, read_jsonl_tree, run_cli, tree_bytes

from pipeline.state import CURRENT

pytestmark = pytest.mark.slow

INTERVAL, SETTLE = 1.0, 0.5


def _seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def _start(inbox: Path, out: Path, state: Path, *extra: str) -> subprocess.Popen:
    cmd = [str(NEWSBEAM), "watch", "--input", str(inbox), "--output", str(out), "--state", str(state),
           "--interval", str(INTERVAL), "--settle_seconds", str(SETTLE), "--reference_date", REFERENCE_DATE, *extra]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float = 90.0, step: float = 0.1) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError("timed out waiting")


def _articles(out: Path) -> list[dict]:
    return read_jsonl_tree(out / "articles") if (out / "articles").is_dir() else []


def test_dropped_files_appear_within_a_poll_plus_a_batch_and_sigterm_exits_0(tmp_path):
    inbox, out, state = tmp_path / "inbox", tmp_path / "out", tmp_path / "state"
    inbox.mkdir()
    proc = _start(inbox, out, state)
    try:
        shutil.copy(_seed("000"), inbox / "first.txt")
        latency_1 = _wait_for(lambda: len(_articles(out)) == 1)
        shutil.copy(_seed("002"), inbox / "second.txt")
        latency_2 = _wait_for(lambda: len(_articles(out)) == 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "SIGTERM" in stderr and "stopped" in stdout
    batch_seconds = [float(s) for s in re.findall(r"batch ([\d.]+) s, latency", stdout)]
    assert len(batch_seconds) == 2, stdout
    for latency, seconds in zip((latency_1, latency_2), batch_seconds, strict=True):
        # a file is read once settled, at the next poll; then the batch runs (1 s slack for the checks here)
        assert latency <= SETTLE + INTERVAL + seconds + 1.0, (latency, seconds, stdout)
    first, second = sorted(_articles(out), key=lambda a: a["source_id"])
    assert first["story_id"] == second["story_id"]  # the second batch joined the first batch's story
    (story,) = read_jsonl_tree(out / "stories")
    assert story["size"] == 2


def test_sigkill_mid_batch_then_restart_loses_and_repeats_nothing(tmp_path):
    inbox, out, state = tmp_path / "inbox", tmp_path / "out", tmp_path / "state"
    inbox.mkdir()
    shutil.copy(_seed("000"), inbox / "a.txt")
    shutil.copy(_seed("002"), inbox / "b.txt")
    body = _seed("000").read_text().split(" ", 3)[3]
    (inbox / "c_copy.txt").write_text(f" date 2022-07-09 {body}")
    (inbox / "d_other.txt").write_text(
        " date 2022-07-09 Kenya's central bank raised its benchmark rate to 7.5 percent."
    )

    proc = _start(inbox, out, state)
    _wait_for(lambda: (state / "pending.json").is_file(), step=0.05)  # written just before the batch's run starts
    time.sleep(0.5)  # inside the run: loading the model alone takes longer
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert (state / "pending.json").is_file()

    resumed = run_cli("watch", "--input", str(inbox), "--output", str(out), "--state", str(state), "--once",
                      "--settle_seconds", "0", "--reference_date", REFERENCE_DATE)  # fmt: skip
    assert "(resumed)" in resumed.stdout
    assert len(re.findall(r"^batch ", resumed.stdout, re.M)) == 1  # the interrupted batch, all four files
    assert not (state / "pending.json").exists()

    reference = tmp_path / "reference"
    run_cli("run", "--input", str(inbox / "*.txt"), "--output", str(reference), "--reference_date", REFERENCE_DATE)
    for name in ("articles", "stories"):
        assert tree_bytes(out / name) == tree_bytes(reference / name), name
    generation = state / (state / CURRENT).read_text().strip()
    ledger = orjson.loads((generation / "ledger.json").read_bytes())["files"]
    assert sorted(Path(p).name for p in ledger) == ["a.txt", "b.txt", "c_copy.txt", "d_other.txt"]
    assert len({entry["batch_id"] for entry in ledger.values()}) == 1

    again = run_cli("watch", "--input", str(inbox), "--output", str(out), "--state", str(state), "--once",
                    "--settle_seconds", "0", "--reference_date", REFERENCE_DATE)  # fmt: skip
    assert "batch " not in again.stdout.replace("newsbeam watch", "")  # nothing new: nothing processed twice
