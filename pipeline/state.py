"""The state directory (``--state``): versioned generations, checked on load, switched atomically.

Layout::

    STATE/CURRENT                  the current generation's name, replaced atomically
    STATE/gen-<run_id>/meta.json   format, version, run id, output run id, files with sha256 and record counts
    STATE/gen-<run_id>/part-NNNNN.jsonl   state records (``core.state``), sorted by article id

A run writes its generation beside the current one, commits the output, and
only then switches ``CURRENT``; the previous generation is kept, older ones are
removed. ``meta.json`` records the output run the state belongs to, so a state
that does not match the output (a run killed between the output commit and the
switch, a state copied from elsewhere) is refused with a clear message, like a
corrupt one. ``rebuild_from_output`` derives the state from the committed output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from core.state import STATE_FORMAT, STATE_SHARDS, STATE_VERSION, apply_retention, retention_start, state_record
from pipeline.commit import MANIFEST, SUCCESS_MARKER, write_atomic, write_sharded

log = logging.getLogger("newsbeam")

CURRENT = "CURRENT"
META = "meta.json"


class StateError(Exception):
    """The state is corrupt, or does not belong to the output (the run stops with exit code 2)."""


@dataclass
class StateInfo:
    """A loaded (checked) state generation; ``generation`` is None for a first run with no state yet."""

    directory: Path
    generation: str | None = None
    files: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def committed_run_id(output: Path) -> str | None:
    """The run id in ``output/_SUCCESS``, or None when the output was never committed."""
    marker = output / SUCCESS_MARKER
    return marker.read_text().strip() or None if marker.is_file() else None


def _has_articles(output: Path) -> bool:
    root = output / "articles"
    return root.is_dir() and any(root.rglob("*.jsonl"))


def _rebuild_hint(state_dir: Path, output: Path) -> str:
    return f"rebuild it from the output with `newsbeam rebuild-state --output {output} --state {state_dir}`"


def load_state(state_dir: Path, output: Path) -> StateInfo:
    """Check and return the current state generation of ``state_dir`` for ``output``.

    Raises ``StateError`` when it is missing although the output already holds
    articles, unreadable, of another format version, fails its checksums, or
    belongs to another output run.
    """
    current = state_dir / CURRENT
    if not current.is_file():
        if _has_articles(output) and committed_run_id(output) is not None:
            raise StateError(
                f"no state in {state_dir}, but {output} already holds articles from earlier runs; "
                + _rebuild_hint(state_dir, output)
            )
        return StateInfo(directory=state_dir)
    generation = current.read_text().strip()
    gen_dir = state_dir / generation
    try:
        meta = orjson.loads((gen_dir / META).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        hint = _rebuild_hint(state_dir, output)
        raise StateError(f"state {gen_dir} is corrupt: cannot read {META} ({exc}); {hint}") from None
    if meta.get("format") != STATE_FORMAT or meta.get("version") != STATE_VERSION:
        raise StateError(
            f"state {gen_dir} has format {meta.get('format')!r} version {meta.get('version')!r}, "
            f"expected {STATE_FORMAT!r} version {STATE_VERSION}; " + _rebuild_hint(state_dir, output)
        )
    files = []
    for entry in meta.get("files", []):
        path = gen_dir / entry["name"]
        if not path.is_file():
            raise StateError(
                f"state {gen_dir} is corrupt: {entry['name']} is missing; " + _rebuild_hint(state_dir, output)
            )
        if sha256_file(path) != entry["sha256"]:
            raise StateError(
                f"state {gen_dir} is corrupt: {entry['name']} fails its checksum; " + _rebuild_hint(state_dir, output)
            )
        files.append(str(path))
    for entry in meta.get("extras", []):
        path = gen_dir / entry["name"]
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            raise StateError(f"state {gen_dir} is corrupt: {entry['name']} is missing or fails its checksum; "
                             + _rebuild_hint(state_dir, output))  # fmt: skip
    committed = committed_run_id(output)
    if meta.get("output_run_id") != committed:
        manifest = _manifest(output)
        forward = (manifest.get("state") or {}).get("generation")
        if committed is not None and manifest.get("run_id") == committed and forward and forward != generation:
            if (state_dir / forward / META).is_file():
                # the run committed its output but was stopped before switching the state: finish the switch
                log.warning("state: switching to %s, prepared by run %s before it was interrupted", forward, committed)
                switch_to(state_dir, forward)
                return load_state(state_dir, output)
        if committed is None and manifest.get("run_id") == meta.get("output_run_id"):
            # a run was interrupted while committing (no _SUCCESS); the state is the one before it, which is
            # right for running that run again (ranged runs replace, watch batches upsert)
            log.warning("state: %s was left uncommitted by an interrupted run; using the state before it", output)
            return StateInfo(directory=state_dir, generation=generation, files=files, meta=meta)
        raise StateError(
            f"state {gen_dir} belongs to output run {meta.get('output_run_id')}, but {output} was last committed "
            f"by run {committed}; " + _rebuild_hint(state_dir, output)
        )
    return StateInfo(directory=state_dir, generation=generation, files=files, meta=meta)


def _manifest(output: Path) -> dict:
    try:
        return orjson.loads((output / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}


def read_extra(info: StateInfo, name: str) -> bytes | None:
    """An extra file of the loaded generation (e.g. the watch ledger), or None."""
    if info.generation is None:
        return None
    path = info.directory / info.generation / name
    return path.read_bytes() if path.is_file() else None


def prepare_generation(
    state_dir: Path,
    staged: Path,
    run_id: str,
    output_run_id: str | None,
    retention_days: int,
    rebuilt: bool = False,
    extras: dict[str, bytes] | None = None,
) -> str:
    """Move the staged state files into a new generation directory (not yet current); returns its name.

    ``extras`` (name → bytes, e.g. the watch ledger) are stored in the generation too.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{run_id}"
    tmp, final = state_dir / f".{name}.tmp", state_dir / name
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    entries = []
    for path in sorted(staged.glob("*.jsonl")) if staged.is_dir() else []:
        shutil.move(str(path), tmp / path.name)
        with (tmp / path.name).open("rb") as handle:
            records = sum(1 for line in handle if line.strip())
        entries.append({"name": path.name, "records": records, "sha256": sha256_file(tmp / path.name)})
    extra_entries = []
    for extra_name, data in sorted((extras or {}).items()):
        (tmp / extra_name).write_bytes(data)
        extra_entries.append({"name": extra_name, "sha256": hashlib.sha256(data).hexdigest()})
    meta = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "run_id": run_id,
        "output_run_id": output_run_id,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "retention_days": retention_days,
        "rebuilt_from_output": rebuilt,
        "records": sum(e["records"] for e in entries),
        "files": entries,
        "extras": extra_entries,
    }
    write_atomic(tmp / META, orjson.dumps(meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return name


def switch_to(state_dir: Path, generation: str) -> None:
    """Make ``generation`` current (one atomic rename); keep the previous generation, remove older ones."""
    current = state_dir / CURRENT
    previous = current.read_text().strip() if current.is_file() else None
    write_atomic(current, f"{generation}\n".encode())
    for old in sorted(state_dir.glob("gen-*")):
        if old.name not in (generation, previous):
            shutil.rmtree(old, ignore_errors=True)
    for tmp in sorted(state_dir.glob(".gen-*.tmp")):
        shutil.rmtree(tmp, ignore_errors=True)


def rebuild_from_output(state_dir: Path, output: Path, retention_days: int, scratch: Path) -> StateInfo:
    """Derive the state from the committed articles of ``output`` and make it current.

    Writes the same files, byte for byte, as the run that committed the output
    would have written (same records, retention, sharding and order).
    """
    committed = committed_run_id(output)
    if committed is None and _has_articles(output):
        raise StateError(f"{output} has no {SUCCESS_MARKER}: it was never fully committed; cannot rebuild from it")
    records = []
    for path in sorted((output / "articles").rglob("*.jsonl")) if (output / "articles").is_dir() else []:
        with path.open("rb") as handle:
            records.extend(state_record(orjson.loads(line)) for line in handle if line.strip())
    start = retention_start(
        max((r["published_date"] for r in records if r["published_date"]), default=None), retention_days
    )
    write_sharded(scratch, {r["id"]: apply_retention(r, start) for r in records}, STATE_SHARDS)
    run_id = f"rebuild-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
    generation = prepare_generation(state_dir, scratch, run_id, committed, retention_days, rebuilt=True)
    shutil.rmtree(scratch, ignore_errors=True)
    switch_to(state_dir, generation)
    return load_state(state_dir, output)
