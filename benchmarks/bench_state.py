"""What ``--state`` costs and finds: a nightly run over one day, with and without the state of earlier days.

    .venv/bin/python -m benchmarks.bench_state                  # Reuters-21578, last busy day as "tonight"
    .venv/bin/python -m benchmarks.bench_state --limit 5000

Steps, on ``../shared/eval/reuters21578.jsonl``: (1) ``newsbeam run --state``
over every day before "tonight" (builds the state); (2) tonight's ranged run
with that state; (3) the same ranged run without a state, into a copy of the
output. Prints one table: wall time and peak RSS of each, state records and
size, and what the state found tonight (copies of earlier articles, stories
continued from earlier days).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import orjson

from benchmarks.bench import DEFAULT_DATA, prepare_input, run_newsbeam

REFERENCE_DATE = "2026-11-23"


def _days(path: Path) -> Counter:
    """Records per UTC publication date."""
    from core.dates import DateError, parse_date

    days: Counter = Counter()
    with path.open("rb") as handle:
        for line in handle:
            raw = orjson.loads(line)["date"]
            try:
                days[parse_date(raw).date] += 1
            except (DateError, TypeError, AttributeError):
                continue
    return days


def _manifest(out: Path) -> dict:
    return orjson.loads((out / "manifest.json").read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="Use only the first N records.")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"{args.data} not found: the shared evaluation data is not beside the repository")
        return 2
    with tempfile.TemporaryDirectory(prefix="newsbeam-bench-state-") as tmp:
        folder = Path(tmp)
        source = prepare_input(args.data, args.limit, folder)
        days = _days(source)
        ordered = sorted(days)
        tonight = max((d for d in ordered[len(ordered) // 2 :]), key=lambda d: (days[d], d))
        before = (ordered[0], (_previous(tonight)))
        common = ["--input", str(source), "--reference_date", REFERENCE_DATE]
        out, state = folder / "out", folder / "state"
        build = run_newsbeam(["run", *common, "--output", str(out), "--state", str(state),
                              "--since", before[0], "--until", before[1]])  # fmt: skip
        bare_out = folder / "bare"
        shutil.copytree(out, bare_out, ignore=shutil.ignore_patterns(".newsbeam"))
        night = ["--since", tonight, "--until", tonight]
        with_state = run_newsbeam(["run", *common, "--output", str(out), "--state", str(state), *night])
        without = run_newsbeam(["run", *common, "--output", str(bare_out), *night])
        m_state, m_bare = _manifest(out), _manifest(bare_out)
        state_bytes = sum(p.stat().st_size for p in state.rglob("*.jsonl"))
        earlier_records = m_state["state"]["earlier_records"]
        rows = [
            ("days before tonight", f"{before[0]}..{before[1]}", ""),
            ("tonight", f"{tonight} ({days[tonight]} records)", ""),
            ("build state: wall s / peak RSS MB", f"{build[0]:.1f} / {build[1] / 2**20:,.0f}", ""),
            ("state records / MB on disk", f"{earlier_records:,} / {state_bytes / 2**20:.1f}", ""),
            ("", "with --state", "without"),
            ("tonight: wall s", f"{with_state[0]:.1f}", f"{without[0]:.1f}"),
            ("tonight: peak RSS MB (tree)", f"{with_state[1] / 2**20:,.0f}", f"{without[1] / 2**20:,.0f}"),
            ("articles written", m_state["counts"]["articles_written"], m_bare["counts"]["articles_written"]),
            ("copies of earlier articles", m_state["counts"]["duplicates_of_earlier_runs"], "-"),
            ("earlier stories updated", m_state["counts"]["stories_patched_outside_range"], "-"),
            ("stories in tonight's partition", m_state["counts"]["stories"], m_bare["counts"]["stories"]),
        ]
        width = max(len(str(r[0])) for r in rows)
        for label, a, b in rows:
            print(f"{label:<{width}}  {a!s:>24}  {b!s:>10}")
    return 0


def _previous(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


if __name__ == "__main__":
    raise SystemExit(main())
