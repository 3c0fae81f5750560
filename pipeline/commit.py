"""Scan a staged run and swap it into the output directory; write the manifest last."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import orjson

from core.state import partition_in_range

COMMITTED_DIRS = ("articles", "stories", "duplicates", "dead_letter")
PARTITIONED_DIRS = ("articles", "stories", "duplicates")
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
    links = sum(p["records"] for p in outputs["duplicates"].values())
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
        "duplicates": duplicates + links,
        "duplicates_of_earlier_runs": links,
        "dead_letters": len(dead),
        "skipped_out_of_range": skipped,
        "stories": sum(p["records"] for p in outputs["stories"].values()),
        "stories_patched_outside_range": sum(p["records"] for p in scan_directory(staging / "_story_patches").values()),
        "partitions": len(outputs["articles"]),
        "dead_letters_by_stage": dict(sorted(Counter(d["stage"] for d in dead).items())),
        "dead_letters_by_reason": dict(sorted(Counter(d["reason"] for d in dead).items())),
    }
    return {"counts": counts, "outputs": outputs, "inputs": sorted(files, key=lambda f: f["path"])}


def balance(counts: dict) -> dict:
    """records read = articles written + duplicates linked to a survivor (in this run's articles or, with
    ``--state``, an earlier run's) + dead letters (+ skipped, outside a range)."""
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


def write_sharded(directory: Path, records: dict, num_shards: int) -> int:
    """Write ``{key: record}`` as ``directory/part-NNNNN.jsonl`` exactly as the pipeline's writer would (shard by a
    hash of the key, records sorted by key); returns the number of files written (none for no records)."""
    from transforms.write import FILE_TEMPLATE, encode_lines, shard_of

    shards: dict[int, list[dict]] = {}
    for record_key in sorted(records):
        shards.setdefault(shard_of(repr(record_key), num_shards), []).append(records[record_key])
    shutil.rmtree(directory, ignore_errors=True)
    for shard, rows in sorted(shards.items()):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / FILE_TEMPLATE.format(shard=shard)).write_bytes(encode_lines(rows))
    return len(shards)


def rewrite_partition(
    final: Path, scratch: Path, key: str, upserts: list[dict], deletes: set[str], num_shards: int, run_id: str
) -> None:
    """Merge records into one committed partition: upsert by ``record[key]``, delete keys, swap the result in.

    The partition is rewritten whole beside the old one (same sharding, order
    and bytes as the pipeline's writer) and swapped in; an empty result removes it.
    """
    records = {r[key]: r for r in read_jsonl(final)} if final.is_dir() else {}
    for gone in deletes:
        records.pop(gone, None)
    for record in upserts:
        records[record[key]] = record
    written = write_sharded(scratch, records, num_shards)
    swap_in(scratch if written else None, final, run_id)


def apply_story_patches(patches_root: Path, stories_root: Path, run_id: str, num_shards: int, outside) -> list[str]:
    """Upsert or delete story records in partitions ``outside(date)`` the run's range (stories continued from
    earlier runs); returns the partitions changed."""
    changed = []
    for date in sorted(partition_dates(patches_root)):
        if not outside(date):
            raise RuntimeError(f"story patch for partition {date}, which is inside the range")
        patches = read_jsonl(patches_root / f"date={date}")
        upserts = [p["story"] for p in patches if p["op"] == "upsert"]
        deletes = {p["story_id"] for p in patches if p["op"] == "delete"} - {s["story_id"] for s in upserts}
        scratch = patches_root.parent / "_patched" / "stories" / f"date={date}"
        rewrite_partition(stories_root / f"date={date}", scratch, "story_id", upserts, deletes, num_shards, run_id)
        changed.append(f"stories/date={date}")
    return changed


def commit_append(staging: Path, output: Path, run_id: str, batch_id: str, num_shards: int) -> list[str]:
    """Add a batch to the output (``newsbeam watch``): upsert its articles, links and stories into their partitions.

    Upserts by id make a batch that is committed twice (a crash between the
    output commit and the state switch, then a restart) leave the same output
    as once. Dead letters go to ``dead_letter/batch=<batch_id>/``. Returns the
    partitions changed.
    """
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_MARKER).unlink(missing_ok=True)
    changed = []
    for name, key in (("articles", "id"), ("duplicates", "article_id")):
        for date in sorted(partition_dates(staging / name)):
            scratch = staging / "_patched" / name / f"date={date}"
            upserts = read_jsonl(staging / name / f"date={date}")
            rewrite_partition(output / name / f"date={date}", scratch, key, upserts, set(), num_shards, run_id)
            changed.append(f"{name}/date={date}")
    changed += apply_story_patches(staging / "_story_patches", output / "stories", run_id, num_shards, lambda d: True)
    staged_dead = staging / "dead_letter"
    if any(staged_dead.rglob("*.jsonl")):
        swap_in(staged_dead, output / "dead_letter" / f"batch={batch_id}", run_id)
        changed.append(f"dead_letter/batch={batch_id}")
    for name in COMMITTED_DIRS:
        (output / name).mkdir(parents=True, exist_ok=True)
    return changed


def commit_range(staging: Path, output: Path, run_id: str, since: str, until: str, num_shards: int = 1) -> list[str]:
    """Replace only the partitions dated ``since``..``until`` (inclusive); leave every other partition untouched.

    A partition in the range that this run did not produce is removed (its
    articles were reprocessed and none remain). Dead letters of a ranged run go
    to ``dead_letter/range=<since>_<until>/``. Stories continued from earlier runs
    (``--state``) are patched in their partitions outside the range. Returns the
    replaced partitions.
    """
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_MARKER).unlink(missing_ok=True)
    replaced = []
    for name in PARTITIONED_DIRS:
        staged_root, final_root = staging / name, output / name
        final_root.mkdir(parents=True, exist_ok=True)
        dates = partition_dates(staged_root) | {d for d in partition_dates(final_root) if since <= d <= until}
        for date in sorted(dates):
            if not since <= date <= until:
                raise RuntimeError(f"{name} partition {date} is outside --since {since} --until {until}")
            staged = staged_root / f"date={date}"
            swap_in(staged if staged.exists() else None, final_root / f"date={date}", run_id)
            replaced.append(f"{name}/date={date}")
    replaced += apply_story_patches(
        staging / "_story_patches",
        output / "stories",
        run_id,
        num_shards,
        lambda d: not partition_in_range(d, since, until),
    )
    staged_dead = staging / "dead_letter"
    staged_dead.mkdir(parents=True, exist_ok=True)
    swap_in(staged_dead, output / "dead_letter" / f"range={since}_{until}", run_id)
    replaced.append(f"dead_letter/range={since}_{until}")
    return replaced
