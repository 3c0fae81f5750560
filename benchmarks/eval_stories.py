"""Score story clustering on a labelled JSONL file by running the real newsbeam pipeline.

    .venv/bin/python -m benchmarks.eval_stories ../shared/eval/gva_dev.jsonl ../shared/eval/ecbplus.jsonl

Each input line has ``id``, ``date``, ``title``, ``text`` and a gold ``event``.
newsbeam runs with its shipped defaults (plus any extra ``newsbeam run``
options given after ``--``); every input article is then mapped to its story:
a written article to its ``story_id``, a collapsed copy to its survivor's, a
dead letter to a story of its own. Prints B-cubed and pairwise precision,
recall and F1 and the cluster counts (see ``../shared/eval/README.md``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson

NEWSBEAM = Path(sys.executable).with_name("newsbeam")


def bcubed_pairwise(pred: dict[str, str], gold: dict[str, str]) -> dict:
    """B-cubed and pairwise P/R/F1 of a predicted clustering against gold labels (same keys)."""
    by_pred, by_gold = defaultdict(set), defaultdict(set)
    for item, label in pred.items():
        by_pred[label].add(item)
    for item, label in gold.items():
        by_gold[label].add(item)
    p = r = 0.0
    for item in gold:
        inter = len(by_pred[pred[item]] & by_gold[gold[item]])
        p += inter / len(by_pred[pred[item]])
        r += inter / len(by_gold[gold[item]])
    p, r = p / len(gold), r / len(gold)
    pairs = lambda n: n * (n - 1) // 2  # noqa: E731
    together = sum(pairs(len(members & by_gold[g])) for members in by_pred.values() for g in {gold[m] for m in members})
    pred_pairs = sum(pairs(len(m)) for m in by_pred.values())
    gold_pairs = sum(pairs(len(m)) for m in by_gold.values())
    pp = together / pred_pairs if pred_pairs else 0.0
    pr = together / gold_pairs if gold_pairs else 0.0
    f = lambda a, b: 2 * a * b / (a + b) if a + b else 0.0  # noqa: E731
    return {"bP": p, "bR": r, "bF1": f(p, r), "pP": pp, "pR": pr, "pF1": f(pp, pr),
            "pred_clusters": len(by_pred), "gold_clusters": len(by_gold)}  # fmt: skip


def predicted_stories(output: Path, ids: list[str]) -> dict[str, str]:
    """source_id → story id, from a newsbeam output directory."""
    story = {}
    for path in sorted((output / "articles").rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            article = orjson.loads(line)
            story[article["source_id"]] = article["story_id"]
            for copy in article["duplicates"]:
                story[copy["source_id"]] = article["story_id"]
    return {i: story.get(i, f"dead-letter:{i}") for i in ids}


def evaluate(path: Path, extra: list[str]) -> tuple[dict, float, int]:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    gold = {r["id"]: r["event"] for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        cmd = [
            str(NEWSBEAM),
            "run",
            "--input",
            str(path),
            "--output",
            str(out),
            "--reference_date",
            "2026-11-23",
            *extra,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        seconds = time.perf_counter() - t0
        pred = predicted_stories(out, list(gold))
    dead = sum(1 for v in pred.values() if v.startswith("dead-letter:"))
    return bcubed_pairwise(pred, gold), seconds, dead


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    header = f"{'file':<22} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'pred':>6} {'gold':>6} {'dead':>5} {'time s':>7}"
    print(header)
    for path in args.files:
        if not path.exists():
            print(f"{path.name:<22} not found: {path}")
            continue
        s, seconds, dead = evaluate(path, extra)
        print(
            f"{path.name:<22} {s['bP']:>6.3f} {s['bR']:>6.3f} {s['bF1']:>6.3f} {s['pP']:>7.3f} {s['pR']:>7.3f} "
            f"{s['pF1']:>7.3f} {s['pred_clusters']:>6} {s['gold_clusters']:>6} {dead:>5} {seconds:>7.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
