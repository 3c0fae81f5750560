"""Peak RSS and wall time of each fused stage of one ``newsbeam run``, in one process.

    .venv/bin/python -m benchmarks.stage_memory --limit 5000
    .venv/bin/python -m benchmarks.stage_memory            # the full Reuters-21578 file

Runs the pipeline in this process on the in-memory runner (one process, as
``make bench``'s one-worker run) on Reuters-21578 records, samples this
process's RSS every 50 ms, and charges each sample to the fused stage the
runner is executing. Prints the stages in execution order with their peak RSS
and seconds, so a memory peak can be traced to the stage (and shuffle) that
causes it. A diagnostic: it wraps the FnApiRunner's private
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

from apache_beam.runners.portability.fn_api_runner import fn_runner

from benchmarks.bench import DEFAULT_DATA, prepare_input


class StageMemory:
    """Charge RSS samples and wall time to the stage the FnApiRunner is executing."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.current = "(start-up)"
        self.order: list[str] = []
        self.peak: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            stage = self.current
            self.peak[stage] = max(self.peak.get(stage, 0), self.rss())

    def __enter__(self) -> StageMemory:
        original = fn_runner.FnApiRunner._execute_bundle
        tracker = self

        def execute_bundle(runner, context, bundle_context_manager, bundle_input):
            stage = bundle_context_manager.stage.name
            if stage not in tracker.seconds:
                tracker.order.append(stage)
            tracker.current = stage
            start = time.perf_counter()
            try:
                return original(runner, context, bundle_context_manager, bundle_input)
            finally:
                tracker.seconds[stage] = tracker.seconds.get(stage, 0.0) + time.perf_counter() - start

        self._original = original
        fn_runner.FnApiRunner._execute_bundle = execute_bundle
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        fn_runner.FnApiRunner._execute_bundle = self._original


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
    args = parser.parse_args(argv)

    from pipeline.cli import main as newsbeam

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = prepare_input(args.data, args.limit, folder)
        run = ["run", "--input", str(source), "--reference_date", "2026-11-23", "--output", str(folder / "out")]
        with StageMemory() as stages:
            code = newsbeam(run)
    print(f"\npeak RSS of the run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"{'peak MB':>8} {'s':>7}  stage (first transforms)")
    for stage in stages.order:
        print(f"{stages.peak.get(stage, 0) / 2**20:8,.0f} {stages.seconds[stage]:7.1f}  {_short(stage)}")
    return code or 0


if __name__ == "__main__":
    raise SystemExit(main())
