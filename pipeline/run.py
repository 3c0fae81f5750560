"""The batch driver: list inputs, run the Beam pipeline into staging, check, commit, write the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import apache_beam as beam
import orjson
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from core.clustering import ClusterConfig
from core.entities import EntityConfig
from core.minhash import DedupConfig
from core.normalize import NormalizeConfig
from pipeline import __version__
from pipeline.assemble import STATE_DIR, RunConfig, build_pipeline
from pipeline.commit import (
    MANIFEST,
    SUCCESS_MARKER,
    balance,
    commit,
    commit_append,
    commit_range,
    recover,
    tally_staged,
    write_atomic,
)
from pipeline.inputs import expand_inputs
from pipeline.lock import OutputLock
from pipeline.options import DEFAULT_INPUT, DEFAULT_RUNNER, NewsbeamOptions, newsbeam_option_names
from pipeline.state import StateError, load_state, prepare_generation, rebuild_from_output, switch_to
from transforms.common import NAMESPACE

log = logging.getLogger("newsbeam")

WORK_DIR = ".newsbeam"


class UsageError(Exception):
    """Bad options or inputs, or an unusable --state: exit code 2."""


class BalanceError(RuntimeError):
    """The run's counts do not balance: exit code 1."""


@dataclass(frozen=True)
class Batch:
    """A watch batch: these files are added to the output (no partition is replaced).

    ``state_extras`` are files (name → bytes) stored in the new state
    generation, so they commit atomically with it (the watch ledger).
    """

    specs: list[dict]
    batch_id: str
    state_extras: dict = field(default_factory=dict)


@dataclass
class RunResult:
    """What a finished run reports to the CLI."""

    output: str
    manifest: dict
    seconds: float
    counts: dict = field(default_factory=dict)
    dead_letter_rate: float = 0.0
    dead_letter_rate_exceeded: bool = False


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _run_id(started: dt.datetime, specs: list[dict]) -> str:
    digest = hashlib.sha256("\n".join(s["path"] for s in specs).encode()).hexdigest()[:8]
    return f"{started.strftime('%Y%m%dT%H%M%S%fZ')}-{digest}"


def _metric_counters(result) -> dict[str, int]:
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    except Exception:  # noqa: BLE001 - not every runner reports metrics; the file counts stay authoritative
        return {}
    totals: dict[str, int] = {}
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + int(value or 0)
    return dict(sorted(totals.items()))


def stage_seconds(result) -> dict[str, float]:
    """Execution time per top-level stage (``ReadArticles``, ``EnrichEntities``, ...), where the runner reports it.

    Summed over workers, so with several workers it is CPU time rather than wall time.
    """
    try:
        counters = result.monitoring_metrics().query()["counters"]
    except Exception:  # noqa: BLE001 - optional; not every runner reports execution times
        return {}
    totals: dict[str, float] = {}
    for counter in counters:
        step = counter.key.step or ""
        if (
            counter.key.metric.name.endswith("ptransform_execution_time:total_msecs:v1")
            and step
            and not step.startswith("ref_")
        ):
            stage = step.split("/", 1)[0]
            totals[stage] = totals.get(stage, 0.0) + (counter.committed or 0) / 1000.0
    return {k: round(v, 3) for k, v in sorted(totals.items())}


def pipeline_options_from(argv: list[str]) -> PipelineOptions:
    """Pipeline options with newsbeam's default runner (FnApiRunner) unless ``--runner`` is given."""
    if not any(a == "--runner" or a.startswith("--runner=") for a in argv):
        argv = [*argv, f"--runner={DEFAULT_RUNNER}"]
    return PipelineOptions(argv)


def run(argv: list[str], batch: Batch | None = None) -> RunResult:
    """Run newsbeam over the inputs named in ``argv`` (newsbeam and Beam options), or over a watch ``batch``."""
    options = pipeline_options_from(argv)
    opts = options.view_as(NewsbeamOptions)
    patterns = opts.input or [DEFAULT_INPUT]
    if batch is not None:
        specs, unmatched = batch.specs, []
        if not opts.state or opts.since or opts.until:
            raise UsageError("a watch batch needs --state and takes no --since/--until")
    else:
        specs, unmatched = expand_inputs(patterns)
    if unmatched:
        raise UsageError(f"no input files match: {', '.join(unmatched)}")
    if opts.since and opts.until and opts.since > opts.until:
        raise UsageError(f"--since {opts.since} is after --until {opts.until}")

    started = _utc_now()
    t0 = time.monotonic()
    run_id = _run_id(started, specs)
    output = Path(opts.output).resolve()
    work = output / WORK_DIR
    staging = work / f"staging-{run_id}"
    state_dir = Path(opts.state).resolve() if opts.state else None
    config = RunConfig(
        staging_dir=str(staging),
        max_article_bytes=opts.max_article_bytes,
        normalize=NormalizeConfig(
            reference_date=opts.reference_date or started.date().isoformat(),
            future_tolerance_days=opts.future_tolerance_days,
        ),
        entities=EntityConfig(model=opts.ner_model, batch_size=opts.ner_batch_size),
        dedup=DedupConfig(jaccard_threshold=opts.near_duplicate_threshold),
        cluster=ClusterConfig(threshold=opts.story_threshold),
        num_shards=opts.num_shards,
        since=opts.since,
        until=opts.until,
        state_retention_days=opts.state_retention_days,
        append=batch is not None,
    )
    log.info("run %s: %d input file(s) → %s", run_id, len(specs), output)
    with OutputLock(work, run_id):
        for path in recover(output):
            log.warning("restored %s, left half-swapped by an interrupted run", path)
        state = None
        if state_dir is not None:
            try:
                if opts.rebuild_state:
                    state = rebuild_from_output(
                        state_dir, output, opts.state_retention_days, work / f"rebuild-{run_id}"
                    )
                    log.info("state rebuilt from %s: %d records", output, state.meta.get("records", 0))
                else:
                    state = load_state(state_dir, output)
            except StateError as exc:
                raise UsageError(str(exc)) from None
            if state.generation is None:
                log.info("no state in %s yet: this run starts it", state_dir)
            config = replace(config, state_files=tuple(state.files))
        replaced = None
        generation = None
        try:
            with beam.Pipeline(options=options) as p:
                build_pipeline(p, specs, config)
            metrics = _metric_counters(p.result)
            seconds_by_stage = stage_seconds(p.result)
            tally = tally_staged(staging)
            check = balance(tally["counts"])
            if not check["ok"]:
                raise BalanceError(
                    f"counts do not balance: {check['records_read']} records read but "
                    f"{check['accounted']} accounted for (articles + duplicates + dead letters + skipped)"
                )
            if state is not None:
                generation = prepare_generation(
                    state_dir,
                    staging / STATE_DIR,
                    run_id,
                    run_id,
                    config.state_retention_days,
                    extras=batch.state_extras if batch else None,
                )
            if batch is not None:
                replaced = commit_append(staging, output, run_id, batch.batch_id, config.num_shards)
            elif config.ranged:
                since, until = config.since or "0000-01-01", config.until or "9999-12-31"
                replaced = commit_range(staging, output, run_id, since, until, config.num_shards)
            else:
                commit(staging, output, run_id)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

        finished = _utc_now()
        seconds = round(time.monotonic() - t0, 3)
        counts = tally["counts"]
        rate = counts["dead_letters"] / counts["records_read"] if counts["records_read"] else 0.0
        manifest = {
            "run_id": run_id,
            "newsbeam_version": __version__,
            "started_at": started.isoformat(),
            "finished_at": finished.isoformat(),
            "duration_seconds": seconds,
            "options": {
                "input": patterns,
                "output": str(output),
                "runner": options.view_as(StandardOptions).runner,
                "newsbeam": {
                    **{k: v for k, v in sorted(opts.get_all_options().items()) if k in newsbeam_option_names()},
                    "input": patterns,
                },
                "beam": {
                    k: v
                    for k, v in sorted(options.get_all_options(drop_default=True).items())
                    if k not in newsbeam_option_names()
                },
            },
            "config": {
                "normalize": asdict(config.normalize),
                "entities": asdict(config.entities),
                "dedup": asdict(config.dedup),
                "cluster": asdict(config.cluster),
                "num_shards": config.num_shards,
            },
            "range": {"since": config.since, "until": config.until, "replaced": replaced} if config.ranged else None,
            "batch": {"batch_id": batch.batch_id, "files": len(specs), "changed": replaced} if batch else None,
            "state": {
                "directory": str(state_dir),
                "previous_generation": state.generation,
                "generation": generation,
                "earlier_records": state.meta.get("records", 0),
                "used_earlier_records": config.ranged,
                "retention_days": config.state_retention_days,
            }
            if state is not None
            else None,
            "inputs": tally["inputs"],
            "counts": counts,
            "balance": check,
            "dead_letter_rate": round(rate, 6),
            "metrics": metrics,
            "stage_seconds": seconds_by_stage,
            "outputs": tally["outputs"],
        }
        write_atomic(output / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        write_atomic(output / SUCCESS_MARKER, f"{run_id}\n".encode())
        if generation is not None:
            switch_to(state_dir, generation)  # last: a crash before this leaves a state the next run refuses
    return RunResult(
        output=str(output),
        manifest=manifest,
        seconds=seconds,
        counts=counts,
        dead_letter_rate=rate,
        dead_letter_rate_exceeded=rate > opts.max_dead_letter_rate,
    )
