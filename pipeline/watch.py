"""``newsbeam watch``: poll a drop folder and add each batch of new or changed files to the output.

Each batch runs the same pipeline as ``newsbeam run``, in append mode: its
articles are deduplicated against, and clustered with, everything processed
before (``--state``), and upserted into their partitions. The ledger of
processed files (path, size, mtime, sha256) is stored in the state
generation the batch writes, so it commits atomically with the state, after
the batch's output. Before a batch runs, its file list is written to
``STATE/pending.json``; a restarted watch first re-runs that batch exactly
(upserts make a batch committed twice leave the same output as once), so no
file is lost and none ends up processed twice.

SIGINT/SIGTERM finish the current batch and exit 0.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.commit import write_atomic
from pipeline.state import CURRENT, StateError, load_state, read_extra, sha256_file

log = logging.getLogger("newsbeam")

LEDGER = "ledger.json"
PENDING = "pending.json"
SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".inprogress", ".crdownload")


@dataclass(frozen=True)
class WatchConfig:
    """What to watch and how often."""

    input_dir: Path
    output: Path
    state_dir: Path
    interval: float = 5.0  # seconds between polls
    settle_seconds: float = 1.0  # a file must be unmodified this long before it is read (writers finish first)
    once: bool = False  # process what is pending, then exit


def scan(input_dir: Path) -> list[Path]:
    """Regular files under ``input_dir`` (recursively), skipping hidden and in-progress names, sorted."""
    found = []
    for path in input_dir.rglob("*"):
        rel = path.relative_to(input_dir)
        if any(part.startswith(".") for part in rel.parts) or path.name.endswith(SKIP_SUFFIXES):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def ready_files(input_dir: Path, ledger: dict, settle_seconds: float, now: float) -> list[dict]:
    """Files that are new or changed since the ledger and have settled: ``{"path", "size", "mtime_ns", "sha256"}``."""
    out = []
    for path in scan(input_dir):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # removed between listing and stat
        if now - stat.st_mtime < settle_seconds:
            continue
        known = ledger.get(str(path))
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            continue
        digest = sha256_file(path)
        if known and known["sha256"] == digest:
            continue  # touched, not changed
        out.append({"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest})
    return out


def batch_id_of(entries: list[dict]) -> str:
    """A batch's id, from its files' paths and contents (the same batch always gets the same id)."""
    text = "\n".join(f"{e['path']}\x1f{e['sha256']}" for e in sorted(entries, key=lambda e: e["path"]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class LedgerCache:
    """The ledger of the current state generation, checked (``load_state``) only when ``CURRENT`` changes.

    This watch is the state's only writer (it holds ``watch.lock``), so an
    unchanged ``CURRENT`` means an unchanged ledger: polls do not re-hash the state.
    """

    def __init__(self, config: WatchConfig):
        self.config = config
        self.generation: str | None = None
        self.files: dict = {}

    def get(self) -> dict:
        current = self.config.state_dir / CURRENT
        generation = current.read_text().strip() if current.is_file() else None
        if generation is None or generation != self.generation:
            info = load_state(self.config.state_dir, self.config.output)
            raw = read_extra(info, LEDGER)
            self.generation, self.files = info.generation, orjson.loads(raw)["files"] if raw else {}
        return self.files


def _pending(config: WatchConfig, ledger: dict) -> list[dict] | None:
    """The file list of a batch that was started but not committed, if any."""
    path = config.state_dir / PENDING
    if not path.is_file():
        return None
    entries = orjson.loads(path.read_bytes())["files"]
    if all(ledger.get(e["path"], {}).get("sha256") == e["sha256"] for e in entries):
        path.unlink()  # it was committed after all
        return None
    return [e for e in entries if Path(e["path"]).is_file()]


class _Stop:
    """Set by SIGINT/SIGTERM; the current batch finishes first."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        if not self.requested:
            print(f"newsbeam watch: {signal.Signals(signum).name}: finishing the current batch", file=sys.stderr)
        self.requested = True


def run_batch(config: WatchConfig, entries: list[dict], ledger: dict, run_argv: list[str]) -> dict:
    """Run one batch through the pipeline and commit it with the new ledger; returns the run's counts."""
    from pipeline.run import Batch, run

    batch_id = batch_id_of(entries)
    write_atomic(config.state_dir / PENDING, orjson.dumps({"batch_id": batch_id, "files": entries}))
    new_ledger = dict(ledger)
    for entry in entries:
        new_ledger[entry["path"]] = {**{k: entry[k] for k in ("size", "mtime_ns", "sha256")}, "batch_id": batch_id}
    ledger_bytes = orjson.dumps({"files": new_ledger}, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    specs = [{"path": e["path"], "base": str(config.input_dir)} for e in entries]
    result = run(run_argv, Batch(specs=specs, batch_id=batch_id, state_extras={LEDGER: ledger_bytes}))
    (config.state_dir / PENDING).unlink(missing_ok=True)
    return {"batch_id": batch_id, "result": result}


def watch(config: WatchConfig, run_argv: list[str]) -> int:
    """Poll and process batches until stopped (or, with ``once``, until nothing is pending). Returns an exit code."""
    from pipeline.cli import EXIT_DEAD_LETTERS, EXIT_LOCKED, EXIT_OK, report_error

    config.state_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(config.state_dir / "watch.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"newsbeam: another watch is using {config.state_dir}", file=sys.stderr)
        return EXIT_LOCKED
    stop = _Stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"newsbeam watch: {config.input_dir} → {config.output} every {config.interval:g} s", flush=True)
    exit_code = EXIT_OK
    ledgers = LedgerCache(config)
    while not stop.requested:
        try:
            ledger = ledgers.get()
        except StateError as exc:
            return report_error(exc)
        entries = _pending(config, ledger)
        resumed = entries is not None
        if not entries:
            entries = ready_files(config.input_dir, ledger, config.settle_seconds, time.time())
        if entries:
            waited = time.time() - min(e["mtime_ns"] for e in entries) / 1e9
            t0 = time.monotonic()
            try:
                outcome = run_batch(config, entries, ledger, run_argv)
            except Exception as exc:  # noqa: BLE001 - the batch stays pending; a restart runs it again
                return report_error(exc, "batch failed (it stays pending)")
            c, seconds = outcome["result"].counts, time.monotonic() - t0
            print(
                f"batch {outcome['batch_id']}{' (resumed)' if resumed else ''}: {len(entries)} files, "
                f"{c['records_read']} records, {c['articles_written']} articles, {c['duplicates']} duplicates, "
                f"{c['dead_letters']} dead letters, {c['stories_patched_outside_range']} stories updated; "
                f"batch {seconds:.1f} s, latency {waited + seconds:.1f} s",
                flush=True,
            )
            if outcome["result"].dead_letter_rate_exceeded:
                exit_code = EXIT_DEAD_LETTERS
            continue
        if config.once:
            break
        deadline = time.monotonic() + config.interval
        while not stop.requested and time.monotonic() < deadline:
            time.sleep(min(0.2, config.interval))
    print("newsbeam watch: stopped", flush=True)
    return exit_code
