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
    skipped = sum(p["records"] for p in scan_directory(staging / "_skipped").values())
    articles = sum(p["records"] for p in outputs["articles"].values())
    counts = {
        "files_read": len(files),
        "records_read": records_read,
        "articles_written": articles,
        "duplicates": duplicates,
        "dead_letters": len(dead),
        "skipped_out_of_range": skipped,
        "stories": sum(p["records"] for p in outputs["stories"].values()),
        "partitions": len(outputs["articles"]),
        "dead_letters_by_stage": dict(sorted(Counter(d["stage"] for d in dead).items())),
        "dead_letters_by_reason": dict(sorted(Counter(d["reason"] for d in dead).items())),
    }
    return {"counts": counts, "outputs": outputs, "inputs": sorted(files, key=lambda f: f["path"])}


def balance(counts: dict) -> dict:
    """records read = articles written + duplicates linked to a survivor + dead letters (+ skipped, outside a range)."""
    accounted = (
        counts["articles_written"] + counts["duplicates"] + counts["dead_letters"] + counts["skipped_out_of_range"]
    )
    return {"ok": accounted == counts["records_read"], "records_read": counts["records_read"], "accounted": accounted}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def swap_in(staged: Path | None, final: Path, run_id: str) -> None:
    """Replace directory ``final`` by ``staged`` (or remove it, when ``staged`` is None).

    Two renames on one filesystem: ``final`` → ``.<name>.old-<run>``, then the staged
    copy (first moved beside it as ``.<name>.new-<run>``) → ``final``. A crash between
    them is repaired by ``recover`` at the start of the next run.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.parent / f".{final.name}.old-{run_id}"
    new = final.parent / f".{final.name}.new-{run_id}"
    if staged is not None:
        os.replace(staged, new)
    if final.exists():
        os.replace(final, old)
    if staged is not None:
        os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def recover(output: Path) -> list[str]:
    """Clean up after a crashed run: restore ``.X.old-*`` where ``X`` is missing, drop ``.X.new-*`` and stale staging.

    Must be called with the output lock held.
    """
    repaired = []
    work = output / ".newsbeam"
    for stale in sorted(work.glob("staging-*")) if work.is_dir() else []:
        shutil.rmtree(stale, ignore_errors=True)  # a killed run's staging; callers hold the output lock
    folders = [output] + [output / name for name in COMMITTED_DIRS if (output / name).is_dir()]
    for folder in folders:
        if not folder.is_dir():
            continue
        for leftover in sorted(folder.glob(".*.new-*")):
            shutil.rmtree(leftover, ignore_errors=True)
        for old in sorted(folder.glob(".*.old-*")):
            name = old.name[1 : old.name.rindex(".old-")]
            final = folder / name
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(old, final)
                repaired.append(str(final))
    return repaired


def commit(staging: Path, output: Path, run_id: str) -> None:
    """Replace each committed directory of ``output`` by its staged version, as a whole (a full run).

    No reader ever sees a mix of old and new files, and a partition absent from
    this run does not linger.
    """
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_MARKER).unlink(missing_ok=True)
    for name in COMMITTED_DIRS:
        staged = staging / name
        staged.mkdir(parents=True, exist_ok=True)
        swap_in(staged, output / name, run_id)


def partition_dates(folder: Path) -> set[str]:
    return {p.name[len("date=") :] for p in folder.glob("date=*") if p.is_dir()} if folder.is_dir() else set()


def commit_range(staging: Path, output: Path, run_id: str, since: str, until: str) -> list[str]:
    """Replace only the partitions dated ``since``..``until`` (inclusive); leave every other partition untouched.

    A partition in the range that this run did not produce is removed (its
    articles were reprocessed and none remain). Dead letters of a ranged run go
    to ``dead_letter/range=<since>_<until>/``. Returns the replaced partitions.
    """
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_MARKER).unlink(missing_ok=True)
    replaced = []
    for name in ("articles", "stories"):
        staged_root, final_root = staging / name, output / name
        final_root.mkdir(parents=True, exist_ok=True)
        dates = partition_dates(staged_root) | {d for d in partition_dates(final_root) if since <= d <= until}
        for date in sorted(dates):
            if not since <= date <= until:
                raise RuntimeError(f"{name} partition {date} is outside --since {since} --until {until}")
            staged = staged_root / f"date={date}"
            swap_in(staged if staged.exists() else None, final_root / f"date={date}", run_id)
            replaced.append(f"{name}/date={date}")
    staged_dead = staging / "dead_letter"
    staged_dead.mkdir(parents=True, exist_ok=True)
    swap_in(staged_dead, output / "dead_letter" / f"range={since}_{until}", run_id)
    replaced.append(f"dead_letter/range={since}_{until}")
    return replaced
