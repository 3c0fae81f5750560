"""Unit tests for core.reading: format sniffing, decoding, bounded reads, dead-letter reasons."""

from __future__ import annotations

import gzip
import io

import orjson

from core.reading import decode_text, looks_binary, parse_jsonl_line, parse_stream, sniff_format


def parse(data: bytes, max_bytes: int = 10_000):
    out = list(parse_stream(io.BytesIO(data), "in/x", "x", max_bytes))
    tag, stats = out[-1]
    assert tag == "file"
    return out[:-1], stats


def test_seed_file_is_one_article_with_header_date():
    data = b" date 2022-07-07 Beijing and Moscow are expanding cooperation."
    records, stats = parse(data)
    assert [t for t, _ in records] == ["article"]
    article = records[0][1]
    assert article["date_raw"] == "2022-07-07"
    assert article["text"] == "Beijing and Moscow are expanding cooperation."
    assert stats["format"] == "seed" and stats["records"] == 1 and stats["size"] == len(data)
    assert len(stats["sha256"]) == 64


def test_latin1_falls_back_and_records_encoding():
    records, _ = parse(" date 2022-07-07 Caf\u00e9 in Montr\u00e9al".encode("latin-1"))
    ((tag, article),) = records
    assert tag == "article"
    assert article["encoding"] == "cp1252"
    assert "Café in Montréal" in article["text"]


def test_binary_and_empty_and_headerless_files_have_their_own_reasons():
    assert parse(bytes(range(256)) * 10)[0][0][1]["reason"] == "binary_content"
    assert parse(b"")[0][0][1]["reason"] == "empty_file"
    assert parse(b"Just text, no header")[0][0][1]["reason"] == "no_date_header"


def test_too_large_seed_is_rejected_without_reading_it_whole():
    records, stats = parse(b" date 2022-07-07 " + b"word " * 5000, max_bytes=1000)
    assert records[0][1]["reason"] == "too_large"
    assert stats["size"] == 17 + 5 * 5000  # the whole file was still hashed


def test_jsonl_lines_each_become_a_record_with_line_numbers():
    data = (
        orjson.dumps({"id": "a", "date": "2022-07-07", "title": "T", "text": "Body A.", "url": "u"})
        + b"\n\n"
        + b'{"id": "b", "text": "trunc'
    )
    records, stats = parse(data)
    assert [(t, r["source"]["line"]) for t, r in records] == [("article", 1), ("dead_letter", 3)]
    assert records[0][1]["extra"] == {"url": "u"}
    assert records[1][1]["reason"] == "invalid_json"
    assert stats["records"] == 1 and stats["dead_letters"] == 1


def test_jsonl_oversized_line_is_skipped_and_reading_continues():
    big = orjson.dumps({"id": "big", "text": "x" * 5000})
    small = orjson.dumps({"id": "small", "text": "ok"})
    records, _ = parse(big + b"\n" + small + b"\n", max_bytes=1000)
    assert [(t, r.get("reason") or r["source_id"]) for t, r in records] == [
        ("dead_letter", "too_large"),
        ("article", "small"),
    ]


def test_jsonl_field_errors():
    assert parse_jsonl_line(b"[1, 2]", "p", 1)[1]["reason"] == "not_an_object"
    assert parse_jsonl_line(b'{"id": "x"}', "p", 1)[1]["reason"] == "missing_field"
    assert parse_jsonl_line(b'{"id": "x", "text": {"a": 1}}', "p", 1)[1]["reason"] == "invalid_field"
    tag, rec = parse_jsonl_line(b'{"id": 7, "text": "numeric id"}', "p", 1)
    assert tag == "article" and rec["source_id"] == "7"


def test_gzip_is_detected_from_content_and_truncation_is_reported():
    payload = orjson.dumps({"id": "g", "date": "2022-07-07", "text": "zipped"}) + b"\n"
    records, stats = parse(gzip.compress(payload))
    assert stats["compression"] == "gzip" and records[0][1]["text"] == "zipped"
    broken = gzip.compress(payload * 200)[:60]
    records, stats = parse(broken)
    assert records[-1][1]["reason"] == "corrupt_compression"


def test_sniff_and_decode_helpers():
    assert sniff_format(b'  {"id": 1}') == "jsonl"
    assert sniff_format(b" date 2022-07-07 x") == "seed"
    assert sniff_format(b"\n \t") == "empty"
    assert looks_binary(b"abc\x00def") and not looks_binary("Caf\u00e9".encode("latin-1"))
    assert decode_text("naïve".encode()) == ("naïve", "utf-8")
    assert decode_text(b"\x00\x01\x02") is None
