"""Peak RSS, wall time and CPU time of each fused stage of one ``newsbeam run``.

    .venv/bin/python -m benchmarks.stage_memory --limit 5000
    .venv/bin/python -m benchmarks.stage_memory              # the full Reuters-21578 file, one process
    .venv/bin/python -m benchmarks.stage_memory --workers 2  # the runner plus two worker processes

Runs the pipeline from this process on Reuters-21578 records: with one worker
in this process on the in-memory runner (as ``make bench``'s one-worker run),
with ``--workers N`` this process drives N worker processes
(``multi_processing``, as ``make bench``'s two-worker run). Every 50 ms it
samples the RSS of this process (the runner, which also holds every shuffle),
of each worker and of the whole tree, and charges each sample to the fused
stage the runner is executing; it also charges CPU seconds (runner and
workers) and wall seconds to each stage. Prints the stages in execution order,
so a memory peak or a slow stretch can be traced to the stage (and shuffle)
that causes it. A diagnostic: it wraps the FnApiRunner's private
``_execute_bundle`` to know the current stage, so it may need updating with
Beam.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

import psutil
from apache_beam.runners.portability.fn_api_runner import fn_runner

from benchmarks.bench import DEFAULT_DATA, prepare_input


class StageMemory:
    """Charge RSS samples (runner, largest worker, tree), wall time and CPU time to the stage the FnApiRunner
    is executing."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.current = "(start-up)"
        self.order: list[str] = []
        self.peak: dict[str, list[int]] = {}  # stage → [runner, largest worker, tree] peak RSS in bytes
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, list[float]] = {}  # stage → [runner, workers] CPU seconds
        self.gap: dict[str, float] = {}  # stage → CPU seconds of its busiest worker − its least busy one
        self._me = psutil.Process()
        self._children_cache: list[psutil.Process] = []
        self._children_listed = -1.0
        self._worker_pids: set[int] = set()  # the SDK worker processes among the children, listed with them
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()

    def _children(self) -> list[psutil.Process]:
        """The runner's descendants, listed again at most once a second (listing walks all of /proc)."""
        if time.monotonic() >= self._children_listed + 1.0:
            self._children_cache, self._children_listed = self._me.children(recursive=True), time.monotonic()
            self._worker_pids = {child.pid for child in self._children_cache if _is_worker(child)}
        return self._children_cache

    def _workers_cpu(self) -> dict[int, float]:
        """CPU seconds so far of each of the runner's descendants, by pid."""
        seconds = {}
        for child in self._children():
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            seconds[child.pid] = times.user + times.system
        return seconds

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            stage, runner, workers = self.current, self.rss(), []
            for child in self._children():
                try:
                    workers.append(child.memory_info().rss)
                except psutil.Error:
                    continue
            peak = self.peak.setdefault(stage, [0, 0, 0])
            for i, value in enumerate((runner, max(workers, default=0), runner + sum(workers))):
                peak[i] = max(peak[i], value)

    def __enter__(self) -> StageMemory:
        original = fn_runner.FnApiRunner._execute_bundle
        tracker = self

        def execute_bundle(runner, context, bundle_context_manager, bundle_input):
            stage = bundle_context_manager.stage.name
            if stage not in tracker.seconds:
                tracker.order.append(stage)
            tracker.current = stage
            start, own, workers = time.perf_counter(), tracker._me.cpu_times(), tracker._workers_cpu()
            try:
                return original(runner, context, bundle_context_manager, bundle_input)
            finally:
                tracker.seconds[stage] = tracker.seconds.get(stage, 0.0) + time.perf_counter() - start
                now = tracker._me.cpu_times()
                cpu = tracker.cpu.setdefault(stage, [0.0, 0.0])
                cpu[0] += (now.user + now.system) - (own.user + own.system)
                spent = {pid: seconds - workers.get(pid, 0.0) for pid, seconds in tracker._workers_cpu().items()}
                cpu[1] += sum(spent.values())
                busy = sorted(spent[pid] for pid in tracker._worker_pids if pid in spent)
                if len(busy) > 1:
                    tracker.gap[stage] = tracker.gap.get(stage, 0.0) + busy[-1] - busy[0]

        self._original = original
        fn_runner.FnApiRunner._execute_bundle = execute_bundle
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        fn_runner.FnApiRunner._execute_bundle = self._original


def _is_worker(process: psutil.Process) -> bool:
    """Whether a descendant is an SDK worker process (not the shell that starts it)."""
    try:
        return process.name() != "sh" and "sdk_worker_main" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _short(stage: str, width: int = 90) -> str:
    """The first transform labels of a fused stage's long name."""
    labels = ["/".join(part.split("/")[:2]) for part in _labels(stage)]
    text = ", ".join(dict.fromkeys(labels))
    return text if len(text) <= width else text[: width - 1] + "…"


def _labels(stage: str) -> list[str]:
    names = stage.replace("(", " ").replace(")", " ").replace("+", " ").split()
    return [n.removeprefix("ref_AppliedPTransform_").removeprefix("ref_PCollection_") for n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N records only")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (multi_processing) when > 1")
    args = parser.parse_args(argv)
    workers = ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
    extra = workers if args.workers > 1 else []

    from pipeline.cli import main as newsbeam

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = prepare_input(args.data, args.limit, folder)
        run = ["run", "--input", str(source), "--reference_date", "2026-11-23", "--output", str(folder / "out")]
        start = time.perf_counter()
        with StageMemory() as stages:
            code = newsbeam([*run, *extra])
        wall = time.perf_counter() - start
    print(f"\nwall {wall:.1f} s; peak RSS of the runner process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")  # fmt: skip
    print("peak RSS MB: runner process, largest worker process, whole tree; CPU s: runner, workers (all, and the")
    print("busiest worker's minus the least busy one's: with two workers, about the time one of them waits)")
    print(f"{'runner':>7} {'worker':>7} {'tree':>7} {'wall s':>7} {'cpu r':>7} {'cpu w':>7} {'w gap':>6}  stage (first transforms)")  # fmt: skip
    for stage in stages.order:
        peak = [value / 2**20 for value in stages.peak.get(stage, [0, 0, 0])]
        cpu = stages.cpu.get(stage, [0.0, 0.0])
        print(f"{peak[0]:7,.0f} {peak[1]:7,.0f} {peak[2]:7,.0f} {stages.seconds[stage]:7.1f} {cpu[0]:7.1f} {cpu[1]:7.1f}"
              f" {stages.gap.get(stage, 0.0):6.1f}  {_short(stage)}")  # fmt: skip
    return code or 0


if __name__ == "__main__":
    raise SystemExit(main())
