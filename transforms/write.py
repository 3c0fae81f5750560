"""WritePartitions: records in, deterministic sharded JSONL files in a staging directory out.

newsbeam owns its final write (Beam's ``WriteToFiles`` loses files in
sub-directories and leaves stale shards): each shard file is written whole
under ``staging/<kind>/<partition>/``, and the driver swaps the staged tree
into the output once the pipeline has succeeded (``pipeline.commit``).

In a streaming run (windowed input) the same transform writes each window's
files as the window fires, named after the window's start, each file written
whole under a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import apache_beam as beam
import orjson
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import IntervalWindow

from transforms.common import NAMESPACE

FILE_TEMPLATE = "part-{shard:05d}.jsonl"
# In a streaming run each window writes its own files; the name carries the window's start (UTC).
WINDOWED_FILE_TEMPLATE = "part-{window}-{shard:05d}.jsonl"


def file_name(shard: int, window) -> str:
    """A shard file's name: ``part-NNNNN.jsonl`` in the global window, ``part-<window start>-NNNNN.jsonl`` otherwise."""
    if isinstance(window, IntervalWindow):
        start = window.start.to_utc_datetime().strftime("%Y%m%dT%H%M%SZ")
        return WINDOWED_FILE_TEMPLATE.format(window=start, shard=shard)
    return FILE_TEMPLATE.format(shard=shard)


def shard_of(record_key: str, num_shards: int) -> int:
    """Stable shard number for a record key (independent of worker, order and Python hash seed)."""
    if num_shards <= 1:
        return 0
    return int(hashlib.sha256(record_key.encode()).hexdigest()[:8], 16) % num_shards


def partition_path(directory: str, partition: str | None) -> str:
    """``articles`` + ``2022-07-07`` → ``articles/date=2022-07-07``; no partition → the directory itself."""
    return directory if partition is None else f"{directory}/date={partition}"


def encode_line(record: dict) -> bytes:
    """One orjson line with sorted keys: byte-identical for equal records."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"


def encode_lines(records: list[dict]) -> bytes:
    """orjson lines with sorted keys, in the order given."""
    return b"".join(encode_line(r) for r in records)


class WriteShardFn(beam.DoFn):
    """``((partition, shard), [(sort key, line)])`` in; writes one file, its lines in key order;
    ``{"path", "records"}`` out."""

    def __init__(self, staging_dir: str, directory: str):
        self.staging_dir = staging_dir
        self.directory = directory
        self.written = Metrics.counter(NAMESPACE, f"{directory}_written")

    def process(self, keyed, window=beam.DoFn.WindowParam):
        (partition, shard), keyed_lines = keyed
        # Keys are unique; were two equal, their lines would still come in one order whatever the input order.
        lines = [line for _, line in sorted(keyed_lines)]
        rel = f"{partition_path(self.directory, partition)}/{file_name(shard, window)}"
        final = f"{self.staging_dir}/{rel}"
        tmp = f"{final}.inprogress"
        with FileSystems.create(tmp) as handle:
            handle.write(b"".join(lines))
        # A retried bundle rewrites the same bytes under the same name.
        if FileSystems.exists(final):
            FileSystems.delete([final])
        FileSystems.rename([tmp], [final])
        self.written.inc(len(lines))
        yield {"path": rel, "records": len(lines)}


class WritePartitions(beam.PTransform):
    """Record dicts in; files ``staging/<directory>/date=<partition>/part-NNNNN.jsonl`` out.

    ``partition_of(record)`` gives the partition value (None for an
    unpartitioned directory); ``key_of(record)`` a unique, stable record key
    that picks the shard and orders records inside a file.
    """

    def __init__(
        self,
        staging_dir: str,
        directory: str,
        partition_of: Callable[[dict], str | None],
        key_of: Callable[[dict], object],
        num_shards: int = 1,
    ):
        super().__init__()
        self.staging_dir = staging_dir
        self.directory = directory
        self.partition_of = partition_of
        self.key_of = key_of
        self.num_shards = num_shards

    def expand(self, records):
        partition_of, key_of, num_shards = self.partition_of, self.key_of, self.num_shards

        def keyed_line(record: dict) -> tuple[tuple, tuple]:
            key = key_of(record)
            return (partition_of(record), shard_of(repr(key), num_shards)), (key, encode_line(record))

        return (
            records
            # Each record is serialised where it is made, and the shuffle carries its line as bytes: the runner
            # that groups them holds compact bytes instead of decoded dicts, and re-encodes nothing.
            | "KeyByShard" >> beam.Map(keyed_line)
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(WriteShardFn(self.staging_dir, self.directory))
        )
