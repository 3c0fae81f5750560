"""Golden tests: each seed file → its normalised record (checked by eye once, then frozen).

Refresh after an intended change with ``NEWSBEAM_UPDATE_GOLDEN=1 pytest tests/test_normalize_golden.py``
and review the diff.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest
from conftest import REFERENCE_DATE, SEEDS

from core.language import load_identifier
from core.normalize import NormalizeConfig, normalize_article, with_paragraphs, without_paragraphs
from core.reading import parse_stream

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def identify():
    return load_identifier()


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_seed_normalises_to_golden(name, identify):
    data = (SEEDS / name).read_bytes()
    (tag, raw), _ = list(parse_stream(io.BytesIO(data), f"seeds/{name}", name, 2_000_000))
    assert tag == "article"
    record = normalize_article(raw, NormalizeConfig(reference_date=REFERENCE_DATE), identify)
    encoded = orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    golden = GOLDEN / f"{Path(name).stem}.json"
    if os.environ.get("NEWSBEAM_UPDATE_GOLDEN"):
        golden.write_bytes(encoded)
    assert encoded.decode() == golden.read_text()
    # inside the pipeline the body travels once; the paragraphs come back exactly
    assert with_paragraphs(without_paragraphs(record)) == record


def test_seed_specifics(identify):
    records = {}
    for path in sorted(SEEDS.glob("*.txt")):
        (_, raw), _ = list(parse_stream(io.BytesIO(path.read_bytes()), str(path), path.name, 2_000_000))
        records[path.name] = normalize_article(raw, NormalizeConfig(reference_date=REFERENCE_DATE), identify)
    wire = records["000_4d1cb5d3b3d210b8.txt"]
    assert "Ukraine ." not in wire["text"] and "Ukraine. Russia" in wire["text"]
    assert wire["credits"] == ["Additional reporting by Reuters"]
    assert wire["agencies"] == ["Reuters"]
    assert wire["title_derived"] and len(wire["title"]) <= 110
    afp = records["002_213fec431d727187.txt"]
    assert afp["dateline"]["place"] == "Bali" and afp["dateline"]["agencies"] == ["AFP", "Xinhua"]
    assert afp["text"].startswith("Chinese Foreign Minister Wang Yi met")
    assert len(afp["paragraphs"]) > 10
    assert all(r["language"] == "en" for r in records.values())
