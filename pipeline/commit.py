"""Scan a staged run and swap it into the output directory; write the manifest last."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import orjson

COMMITTED_DIRS = ("articles", "stories", "dead_letter")
SUCCESS_MARKER = "_SUCCESS"
MANIFEST = "manifest.json"


def scan_directory(root: Path) -> dict[str, dict]:
    """Per partition under ``root``: its files with record counts, and the total.

    ``{"2022-07-07": {"files": [{"name": "date=2022-07-07/part-00000.jsonl", "records": 1}], "records": 1}}``;
    an unpartitioned directory has the single partition ``""``.
    """
    partitions: dict[str, dict] = {}
    if not root.exists():
        return partitions
    for path in sorted(root.rglob("*.jsonl")):
        rel = path.relative_to(root).as_posix()
        parent = path.parent.name
        partition = parent[len("date=") :] if parent.startswith("date=") else ""
        with path.open("rb") as handle:
            records = sum(1 for line in handle if line.strip())
        entry = partitions.setdefault(partition, {"files": [], "records": 0})
        entry["files"].append({"name": rel, "records": records})
        entry["records"] += records
    return partitions


def read_jsonl(root: Path) -> list[dict]:
    """Every record of every ``*.jsonl`` file under ``root``, in file-name order."""
    records = []
    for path in sorted(root.rglob("*.jsonl")):
        with path.open("rb") as handle:
            records.extend(orjson.loads(line) for line in handle if line.strip())
    return records


def tally_staged(staging: Path) -> dict:
    """Counts and per-partition listings of a staged run, read from its files (runner-independent)."""
    outputs = {name: scan_directory(staging / name) for name in COMMITTED_DIRS}
    files = read_jsonl(staging / "_files")
    dead = read_jsonl(staging / "dead_letter")
    duplicates = 0
    articles_root = staging / "articles"
    for path in sorted(articles_root.rglob("*.jsonl")) if articles_root.exists() else []:
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    duplicates += len(orjson.loads(line)["duplicates"])
    records_read = sum(f["records"] + f["dead_letters"] for f in files)
    articles = sum(p["records"] for p in outputs["articles"].values())
    counts = {
        "files_read": len(files),
        "records_read": records_read,
        "articles_written": articles,
        "duplicates": duplicates,
        "dead_letters": len(dead),
        "stories": sum(p["records"] for p in outputs["stories"].values()),
        "partitions": len(outputs["articles"]),
        "dead_letters_by_stage": dict(sorted(Counter(d["stage"] for d in dead).items())),
        "dead_letters_by_reason": dict(sorted(Counter(d["reason"] for d in dead).items())),
    }
    return {"counts": counts, "outputs": outputs, "inputs": sorted(files, key=lambda f: f["path"])}


def balance(counts: dict) -> dict:
    """records read = articles written + duplicates linked to a survivor + dead letters."""
    accounted = counts["articles_written"] + counts["duplicates"] + counts["dead_letters"]
    return {"ok": accounted == counts["records_read"], "records_read": counts["records_read"], "accounted": accounted}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def commit(staging: Path, output: Path, trash: Path) -> None:
    """Replace each committed directory of ``output`` by its staged version, as a whole.

    Each directory is moved aside and the staged one renamed into place (both
    renames on one filesystem), so no reader ever sees a mix of old and new
    files, and a partition absent from this run does not linger.
    """
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_MARKER).unlink(missing_ok=True)
    trash.mkdir(parents=True, exist_ok=True)
    for name in COMMITTED_DIRS:
        staged = staging / name
        staged.mkdir(parents=True, exist_ok=True)
        final = output / name
        if final.exists():
            os.replace(final, trash / name)
        os.replace(staged, final)
    shutil.rmtree(trash, ignore_errors=True)
