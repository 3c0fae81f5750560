"""Shared fixtures: real files on disk, real Beam pipelines on the FnApiRunner."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NEWSBEAM = Path(sys.executable).with_name("newsbeam")
HUGE_BYTES = 50 * 1024 * 1024
REFERENCE_DATE = "2026-11-23"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """The language model's array cache for this test session (inherited by the CLI and worker processes), so
    tests write nothing under the user's home."""
    from core.language import CACHE_ENV  # noqa: PLC0415

    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(cache))
        yield cache


def beam_pipeline(*flags: str) -> TestPipeline:
    """A TestPipeline on the FnApiRunner (the DirectRunner would try to download Prism)."""
    return TestPipeline(runner="FnApiRunner", options=PipelineOptions(list(flags)), argv=[], blocking=True)


def run_cli(*args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed ``newsbeam`` console script."""
    proc = subprocess.run([str(NEWSBEAM), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"newsbeam {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def read_jsonl_tree(root: Path) -> list[dict]:
    out = []
    for path in sorted(root.rglob("*.jsonl")):
        out.extend(orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
    return out


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, for byte-for-byte comparison."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


GOOD_JSONL = [
    {
        "id": "wire-1",
        "date": "2022-07-07",
        "title": "G20 ministers meet in Bali",
        "text": "BALI (Reuters) - Foreign ministers of the G20 met on Thursday.\nThe talks were tense.",
        "outlet": "Wire",
    },
    {
        "id": "wire-2",
        "date": "26-FEB-1987 15:01:01.79",
        "title": "BAHIA COCOA REVIEW",
        "text": "Showers continued throughout the week in the Bahia cocoa zone.",
    },
    {"id": "wire-3", "date": None, "title": None, "text": "An undated report about a harbour opening in Santos."},
]


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict:
    """A folder of bad inputs next to good ones; maps each bad file name to its expected reason."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good_seed.txt").write_text(
        " date 2022-07-07 Officials met in Bali on Thursday to discuss food security."
    )
    (folder / "good_latin1.txt").write_bytes(
        " date 2022-07-09 Caf\u00e9 owners in Montr\u00e9al said the fa\u00e7ade was repaired.".encode("latin-1")
    )
    (folder / "good.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in GOOD_JSONL))
    with gzip.open(folder / "good_gzip.dat", "wb") as handle:
        handle.write(
            orjson.dumps(
                {"id": "gz-1", "date": "2022-07-08", "title": None, "text": "Compressed article body about ports."}
            )
            + b"\n"
        )
    expected = {
        "empty.txt": "empty_file",
        "no_header.txt": "no_date_header",
        "bad_date.txt": "invalid_date",
        "binary.bin": "binary_content",
        "truncated.jsonl": "invalid_json",
        "not_object.jsonl": "not_an_object",
        "huge.txt": "too_large",
        "future.txt": "date_out_of_range",
        "ancient.txt": "date_out_of_range",
        "whitespace_only.txt": "empty_file",
        "broken.gz": "corrupt_compression",
    }
    (folder / "empty.txt").write_bytes(b"")
    (folder / "whitespace_only.txt").write_bytes(b"  \n\n \t\n")
    (folder / "no_header.txt").write_text("Officials met in Bali on Thursday, without any date header.")
    (folder / "bad_date.txt").write_text(" date 2022-13-45 The month and day do not exist.")
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (folder / "truncated.jsonl").write_bytes(b'{"id": "t-1", "date": "2022-07-07", "text": "cut off')
    (folder / "not_object.jsonl").write_bytes(b"[1, 2, 3]\n")
    (folder / "future.txt").write_text(" date 2099-01-01 A report from the future.")
    (folder / "ancient.txt").write_text(" date 1850-05-01 A report from before 1900.")
    with (folder / "huge.txt").open("wb") as handle:
        handle.write(b" date 2022-07-07 ")
        block = b"The quick brown fox jumps over the lazy dog. " * 1000
        for _ in range(HUGE_BYTES // len(block) + 1):
            handle.write(block)
    good_gz = gzip.compress(orjson.dumps({"id": "gz-2", "text": "x" * 5000}) + b"\n")
    (folder / "broken.gz").write_bytes(good_gz[: len(good_gz) // 2])
    good = {"good_seed.txt": 1, "good_latin1.txt": 1, "good.jsonl": 3, "good_gzip.dat": 1}
    return {"folder": folder, "expected": expected, "good": good}


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    assert (SEEDS / "000_4d1cb5d3b3d210b8.txt").exists()
    return SEEDS
