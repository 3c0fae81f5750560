"""``newsbeam`` command line: ``run``, ``export``, ``rebuild-state`` and ``schema``.

Exit codes: 0 success; 1 pipeline failure (including counts that do not
balance); 2 usage error; 3 the output was committed but the dead-letter rate
exceeded ``--max_dead_letter_rate``; 4 another run holds the output's lock.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.allocator import tune_allocator
from pipeline.logs import configure_logging

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_DEAD_LETTERS, EXIT_LOCKED = 0, 1, 2, 3, 4

BEAM_HELP = """\
Beam pipeline options pass through unchanged, for example:
  --runner NAME                  FnApiRunner (default here), DirectRunner, DataflowRunner, ...
  --direct_running_mode MODE     in_memory (default), multi_threading or multi_processing
  --direct_num_workers N         workers for the local runners (0 = one per core)
Any other Beam option (--temp_location, --setup_file, --project, ...) is accepted too.

Output layout under --output:
  articles/date=YYYY-MM-DD/part-NNNNN.jsonl   one article per line (date=unknown when undated)
  stories/date=YYYY-MM-DD/part-NNNNN.jsonl    one story per line, by first publication date
  dead_letter/part-NNNNN.jsonl                one rejected input per line
  manifest.json, _SUCCESS                     written last

Exit codes: 0 success, 1 pipeline failure or unbalanced counts, 2 usage error,
3 committed but the dead-letter rate exceeded --max_dead_letter_rate,
4 another run is writing the same output.
"""


def _parser() -> argparse.ArgumentParser:
    from pipeline.options import DEFAULT_STATE_RETENTION_DAYS, add_newsbeam_arguments

    parser = argparse.ArgumentParser(prog="newsbeam", description="News ingestion pipeline on Apache Beam.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="Process article files into partitioned JSONL.",
        description="Read article files, normalise, deduplicate, group into stories and write partitioned JSONL.",
        epilog=BEAM_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_newsbeam_arguments(run)
    run.add_argument("--verbose", action="store_true", help="Log at DEBUG, and show Beam's INFO logs.")
    export = sub.add_parser(
        "export",
        help="Write search-index feeds (bulk NDJSON, or index mappings) from a committed output.",
        description="Write OpenSearch/Elasticsearch bulk files or index mappings under <output>/export/.",
    )
    export.add_argument("--output", default="out", help="A newsbeam output directory with _SUCCESS. Default: out")
    export.add_argument(
        "--format",
        required=True,
        choices=["opensearch-bulk", "elasticsearch-bulk", "mapping"],
        help="opensearch-bulk (= elasticsearch-bulk): export/opensearch-bulk/<kind>/date=D/part-N.ndjson action/"
        "document pairs with _id = article id or story id; mapping: export/mappings/<prefix>-<kind>.json",
    )
    export.add_argument(
        "--index_prefix", "--index-prefix", dest="index_prefix", default="newsbeam",
        help="Index names are <prefix>-articles and <prefix>-stories. Default: newsbeam",
    )  # fmt: skip
    watch = sub.add_parser(
        "watch",
        help="Poll a drop folder; add each batch of new or changed files to the output.",
        description="Poll --input (a folder) and run each batch of new or changed files through the same pipeline "
        "as `run`, adding to --output; copies of earlier articles become duplicates, articles about earlier events "
        "join their stories (needs --state). Every `run` option except --since/--until applies. "
        "SIGINT/SIGTERM finish the current batch and exit 0.",
    )
    watch.add_argument("--input", required=True, help="The folder to watch (files in sub-folders too).")
    watch.add_argument("--output", default="out", help="Output directory. Default: out")
    watch.add_argument("--state", required=True, help="State directory; also holds the ledger of processed files.")
    watch.add_argument("--interval", type=float, default=5.0, help="Seconds between polls. Default: 5")
    watch.add_argument(
        "--settle_seconds", "--settle-seconds", dest="settle_seconds", type=float, default=1.0,
        help="A file is read once unmodified for this long (writers finish first). Default: 1",
    )  # fmt: skip
    watch.add_argument("--once", action="store_true", help="Process what is pending (one batch), then exit.")
    watch.add_argument("--verbose", action="store_true", help="Log at DEBUG, and show Beam's INFO logs.")
    rebuild = sub.add_parser(
        "rebuild-state",
        help="Rebuild a --state directory from a committed output.",
        description="Derive the state (content hashes, texts for MinHash and story matching, story membership) "
        "from the articles of a committed output, write it as a new generation and make it current.",
    )
    rebuild.add_argument("--output", default="out", help="A newsbeam output directory with _SUCCESS. Default: out")
    rebuild.add_argument("--state", required=True, help="The state directory to (re)write.")
    rebuild.add_argument(
        "--state_retention_days", "--state-retention-days", dest="state_retention_days", type=int,
        default=DEFAULT_STATE_RETENTION_DAYS, help=f"See `run --help`. Default: {DEFAULT_STATE_RETENTION_DAYS}",
    )  # fmt: skip
    schema = sub.add_parser("schema", help="Print the JSON Schema of the output records.")
    schema.add_argument(
        "--kind",
        choices=["article", "story", "dead_letter", "duplicate_link", "all"],
        default="all",
        help="Which record kind.",
    )
    return parser


def report_error(exc: Exception, failure: str = "run failed", verbose: bool = False) -> int:
    """Print why a command stopped and return its exit code: 2 for usage and state errors, 4 when the output is
    locked, 1 for anything else (logged as ``failure``)."""
    from pipeline.lock import OutputLocked
    from pipeline.run import UsageError
    from pipeline.state import StateError

    if isinstance(exc, UsageError | StateError):
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, OutputLocked):
        print(f"newsbeam: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    import logging

    logging.getLogger("newsbeam").error("%s: %s: %s", failure, type(exc).__name__, exc, exc_info=verbose)
    return EXIT_FAILURE


def _summary(result) -> str:
    c = result.counts
    rows = [
        ("records read", c["records_read"]),
        ("articles written", c["articles_written"]),
        ("duplicates", c["duplicates"]),
        ("  of earlier runs", c.get("duplicates_of_earlier_runs", 0)),
        ("dead letters", c["dead_letters"]),
        ("stories", c["stories"]),
        ("  earlier, updated", c.get("stories_patched_outside_range", 0)),
        ("partitions", c["partitions"]),
        ("time (s)", f"{result.seconds:.2f}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"newsbeam run → {result.output}", "-" * (width + 12)]
    lines += [f"{k:<{width}}  {v:>9}" for k, v in rows]
    return "\n".join(lines)


def _export(args) -> int:
    from pathlib import Path

    from pipeline.export import ExportError, export_bulk, export_mappings

    output = Path(args.output)
    try:
        if args.format == "mapping":
            for path in export_mappings(output, args.index_prefix):
                print(path)
        else:
            counts = export_bulk(output, args.index_prefix)
            print(f"exported {counts['articles']} articles and {counts['stories']} stories to {output}/export/")
    except ExportError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _watch(args, passthrough: list[str]) -> int:
    from pathlib import Path

    from pipeline.watch import WatchConfig, watch

    input_dir = Path(args.input).resolve()
    if not input_dir.is_dir():
        print(f"newsbeam: error: --input {args.input} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    if any(a.split("=", 1)[0] in ("--since", "--until") for a in passthrough):
        print("newsbeam: error: watch takes no --since/--until", file=sys.stderr)
        return EXIT_USAGE
    config = WatchConfig(
        input_dir=input_dir,
        output=Path(args.output).resolve(),
        state_dir=Path(args.state).resolve(),
        interval=args.interval,
        settle_seconds=args.settle_seconds,
        once=args.once,
    )
    run_argv = ["--input", str(input_dir / "**"), "--output", str(config.output), "--state", str(config.state_dir)]
    return watch(config, run_argv + passthrough)


def _rebuild_state(args) -> int:
    from pathlib import Path

    from pipeline.lock import OutputLock
    from pipeline.run import WORK_DIR
    from pipeline.state import rebuild_from_output

    output, state_dir = Path(args.output).resolve(), Path(args.state).resolve()
    try:
        with OutputLock(output / WORK_DIR, "rebuild-state"):
            info = rebuild_from_output(state_dir, output, args.state_retention_days, output / WORK_DIR / "rebuild")
    except Exception as exc:  # noqa: BLE001 - reported with its exit code
        return report_error(exc, "rebuild-state failed")
    print(f"state {state_dir / info.generation}: {info.meta['records']} records from {output}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    configure_logging("--verbose" in argv)  # before Beam is imported: it logs through the root logger
    tune_allocator()  # before the pipeline allocates, and before any worker process starts
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    if args.command == "schema":
        from schemas.export import schema_json

        sys.stdout.write(schema_json(args.kind))
        return EXIT_OK
    if args.command == "export":
        return _export(args)
    if args.command == "rebuild-state":
        return _rebuild_state(args)
    if args.command == "watch":
        return _watch(args, beam_args)
    rest = argv[argv.index("run") + 1 :]
    pipeline_argv = [a for a in rest if a != "--verbose"]
    from pipeline.run import run

    try:
        result = run(pipeline_argv)
    except Exception as exc:  # noqa: BLE001 - any pipeline failure is reported with its exit code
        return report_error(exc, verbose=args.verbose)
    print(_summary(result))
    if result.dead_letter_rate_exceeded:
        print(
            f"newsbeam: dead-letter rate {result.dead_letter_rate:.1%} exceeds --max_dead_letter_rate "
            f"{result.manifest['options']['newsbeam']['max_dead_letter_rate']:.1%}; see {result.output}/dead_letter/",
            file=sys.stderr,
        )
        return EXIT_DEAD_LETTERS
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
