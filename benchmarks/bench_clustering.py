"""How story clustering scales: 1k, 10k and 100k articles, candidate pairs scored, time ratio.

    .venv/bin/python -m benchmarks.bench_clustering [--articles OUT_DIR] [--sizes 1000,10000,100000]

Input: enriched articles from a newsbeam output directory (``--articles``);
without one, newsbeam is first run on ``../shared/eval/reuters21578.jsonl``
(real wire copy, ~5 minutes). Larger sizes replicate those articles: copy k
has its dates shifted by k × 70 days (the corpus spans about two months) and
its text edited (one sentence dropped, seeded), with new ids, so the set
grows like a longer stream of news rather than piling onto the same days.

For each size, a Beam pipeline (FnApiRunner, 1 worker) reads the JSONL and
runs ``ClusterStories`` alone; the table gives wall time, candidate pairs
scored (Beam counter ``story_pairs_scored``), stories, and the time ratio to
the previous size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import apache_beam as beam
import orjson
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from core.clustering import ClusterConfig
from transforms.cluster import ClusterStories
from transforms.common import NAMESPACE

ROOT = Path(__file__).resolve().parents[1]
REUTERS = ROOT.parent / "shared" / "eval" / "reuters21578.jsonl"
NEWSBEAM = Path(sys.executable).with_name("newsbeam")
SHIFT_DAYS = 70


def load_articles(output: Path) -> list[dict]:
    articles = []
    for path in sorted((output / "articles").rglob("*.jsonl")):
        articles.extend(orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
    return articles


def shifted(iso: str | None, days: int) -> str | None:
    if not iso:
        return iso
    if "T" in iso:
        return (dt.datetime.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()


def replicate(base: list[dict], size: int, seed: int = 0) -> list[dict]:
    """``size`` articles: the base set, then edited copies with shifted dates and new ids."""
    rng = random.Random(seed)
    out = []
    k = 0
    while len(out) < size:
        for article in base:
            if len(out) >= size:
                break
            if k == 0:
                out.append(article)
                continue
            copy = dict(article)
            sentences = article["text"].split(". ")
            if len(sentences) > 2:
                del sentences[rng.randrange(len(sentences))]
            copy["text"] = ". ".join(sentences)
            copy["id"] = f"{article['id']}-r{k}"
            copy["source_id"] = f"{article['source_id']}-r{k}"
            copy["published"] = shifted(article.get("published"), k * SHIFT_DAYS)
            copy["published_date"] = shifted(article.get("published_date"), k * SHIFT_DAYS)
            out.append(copy)
        k += 1
    return out


def time_clustering(path: Path) -> tuple[float, int, int]:
    """Wall seconds, pairs scored and stories for ClusterStories over a JSONL file of articles."""
    options = PipelineOptions(["--runner=FnApiRunner"])
    t0 = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        _ = (
            p
            | "Read" >> beam.io.ReadFromText(str(path))
            | "Parse" >> beam.Map(orjson.loads)
            | "ClusterStories" >> ClusterStories(ClusterConfig())
            | "StoryIds" >> beam.Map(lambda a: a["story_id"])
            | "Distinct" >> beam.Distinct()
            | "Count" >> beam.combiners.Count.Globally()
            | "Report" >> beam.Map(lambda n: Metrics.counter("bench", "stories").inc(n))
        )
    seconds = time.perf_counter() - t0
    metrics = p.result.metrics()
    pairs = sum(
        c.committed
        for c in metrics.query(MetricsFilter().with_namespace(NAMESPACE).with_name("story_pairs_scored"))["counters"]
    )
    stories = sum(c.committed for c in metrics.query(MetricsFilter().with_namespace("bench"))["counters"])
    return seconds, pairs, stories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, help="a newsbeam output directory with enriched articles")
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.articles
        if source is None:
            if not REUTERS.exists():
                print(f"benchmark data not found: {REUTERS}", file=sys.stderr)
                return 2
            from benchmarks.bench import prepare_input

            source = folder / "reuters-out"
            subprocess.run(
                [str(NEWSBEAM), "run", "--input", str(prepare_input(REUTERS, None, folder)), "--output", str(source),
                 "--reference_date", "2026-11-23", "--max_dead_letter_rate", "1"],
                check=True, capture_output=True,
            )  # fmt: skip
        base = load_articles(source)
        print(f"base: {len(base)} enriched articles from {source}")
        print(
            f"{'articles':>9} {'wall s':>8} {'pairs scored':>13} {'pairs/article':>14} {'stories':>8} {'time ratio':>11}"
        )
        previous = None
        for size in sizes:
            path = folder / f"articles-{size}.jsonl"
            path.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in replicate(base, size)))
            seconds, pairs, stories = time_clustering(path)
            ratio = f"{seconds / previous:.1f}" if previous else "-"
            print(
                f"{size:>9,} {seconds:>8.1f} {pairs:>13,} {pairs / size:>14.1f} {stories:>8,} {ratio:>11}", flush=True
            )
            previous = seconds
    return 0


if __name__ == "__main__":
    sys.exit(main())
