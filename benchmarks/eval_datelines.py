"""Dateline extraction precision and recall on Reuters-21578 (its ``dateline`` field is the truth).

    .venv/bin/python -m benchmarks.eval_datelines [--data ../shared/eval/reuters21578.jsonl] [--sample 100] [--seed 0]

The corpus keeps datelines apart from the body, so each sampled article is
scored twice: as wire copy (``dateline + " " + body``, the dateline must be
found with the right place and date) and as the bare body (nothing may be
found). Precision = correct extractions / all extractions; recall = correct
extractions / sampled datelines.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import orjson

from core.normalize import clean_body
from core.text import normalise_place

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "reuters21578.jsonl"


_DATE_AT_END = re.compile(r",?\s*([A-Z][a-z]{2,8}\.?\s+\d{1,2})$")


def expected(dateline: str) -> tuple[str, str | None]:
    """``'SALVADOR, Feb 26 -'`` → ``('Salvador', 'Feb 26')``; ``'COLUMBIA, Md. March 3 -'`` → ``('Columbia, Md.', 'March 3')``."""
    head = dateline.rstrip(" -").strip()
    m = _DATE_AT_END.search(head)
    date = m.group(1) if m else None
    places = [p.strip() for p in (head[: m.start()] if m else head).split(",") if p.strip()]
    return ", ".join(normalise_place(p) for p in places), date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"eval data not found: {args.data}", file=sys.stderr)
        return 2
    rows = [orjson.loads(line) for line in args.data.read_bytes().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("dateline") and r["text"].strip()]
    sample = random.Random(args.seed).sample(rows, args.sample)
    found = correct = false_positive = 0
    for row in sample:
        place, date = expected(row["dateline"])
        got = clean_body(row["dateline"] + " " + row["text"])["dateline"]
        if got:
            found += 1
            if got["place"] == place and got["date_text"] == date:
                correct += 1
            elif args.show_errors:
                print(f"wrong: {row['id']} {row['dateline']!r} → {got['place']!r} {got['date_text']!r}")
        elif args.show_errors:
            print(f"missed: {row['id']} {row['dateline']!r} {row['text'][:60]!r}")
        bare = clean_body(row["text"])["dateline"]
        if bare:
            false_positive += 1
            if args.show_errors:
                print(f"false positive: {row['id']} {bare['raw']!r}")
    extractions = found + false_positive
    precision = correct / extractions if extractions else 0.0
    recall = correct / len(sample)
    print(f"Reuters-21578 datelines, {len(sample)} sampled (seed {args.seed})")
    print(f"with dateline: found {found}, correct {correct};  bare body: false positives {false_positive}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
