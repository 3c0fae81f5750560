"""Parse input files into raw article records or dead letters.

Two input formats, found from content (not the file name), plain or gzip:

* **seed**: the file starts with `` date YYYY-MM-DD `` then the article body;
  one file is one article.
* **JSONL**: one JSON object per line with ``id``, ``date``, ``title``,
  ``text``; any other field is kept under ``extra``.

``parse_stream`` reads a binary stream once, in bounded memory: no article
larger than ``max_article_bytes`` is ever held, and the file's sha256 and size
are computed on the way. Everything it yields is a plain dict.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from core import deadletter as dl

SEED_HEADER = re.compile(r"\A\s*date[ \t]+(\S+)[ \t\r\n]*", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 4096
CHUNK = 1 << 20
# Latin-1 / cp1252 text has almost no C0 control characters; binary data has many.
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}

KNOWN_JSONL_FIELDS = ("id", "date", "title", "text")


@dataclass
class FileStats:
    """What was learnt about one input file while reading it."""

    path: str
    size: int = 0
    sha256: str = ""
    input_format: str = "unknown"
    compression: str = "none"
    records: int = 0
    dead_letters: int = 0
    error: str | None = None
    _hash: object = field(default_factory=hashlib.sha256, repr=False)

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "format": self.input_format,
            "compression": self.compression,
            "records": self.records,
            "dead_letters": self.dead_letters,
            "error": self.error,
        }


class _HashingReader(io.RawIOBase):
    """Wrap a binary stream, feeding every byte read into ``stats``' sha256."""

    def __init__(self, raw, stats: FileStats):
        self._raw = raw
        self._stats = stats

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._stats._hash.update(data)
        self._stats.size += n
        return n


def _drain(reader: _HashingReader) -> None:
    buf = bytearray(CHUNK)
    while reader.readinto(buf):
        pass


def looks_binary(data: bytes) -> bool:
    """True when ``data`` (a sample) is not plausibly text in any 8-bit encoding."""
    if not data:
        return False
    if b"\x00" in data:
        return True
    controls = sum(1 for b in data if b in _CONTROL)
    return controls / len(data) > 0.01


def decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode article bytes: UTF-8 (BOM allowed), else cp1252, else Latin-1.

    Returns ``(text, encoding)`` or None when the bytes are not text.
    """
    if looks_binary(data[:65536]):
        return None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_format(head: bytes) -> str:
    """Classify the first bytes of a (decompressed) file.

    Returns one of ``seed``, ``jsonl``, ``empty``, ``binary``, ``unknown``.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not stripped:
        return "empty"
    if looks_binary(head):
        return "binary"
    if stripped[:1] in (b"{", b"["):
        return "jsonl"
    if re.match(rb"date[ \t]", stripped[:8], re.IGNORECASE):
        return "seed"
    return "unknown"


def parse_stream(
    raw,
    path: str,
    source_id: str,
    max_article_bytes: int,
) -> Iterator[tuple[str, dict]]:
    """Parse one input file.

    ``raw`` is a binary stream positioned at the start. Yields
    ``("article", raw_article_dict)``, ``("dead_letter", dead_letter_dict)``
    and finally exactly one ``("file", file_stats_dict)``.
    """
    stats = FileStats(path=path)
    hashing = _HashingReader(raw, stats)
    try:
        buffered = io.BufferedReader(hashing, buffer_size=CHUNK)
        stream = buffered
        if buffered.peek(2)[:2] == GZIP_MAGIC:
            stats.compression = "gzip"
            stream = io.BufferedReader(gzip.GzipFile(fileobj=buffered, mode="rb"), buffer_size=CHUNK)
        kind = sniff_format(stream.peek(SNIFF_BYTES)[:SNIFF_BYTES])
        stats.input_format = kind
        if kind == "jsonl":
            records = _parse_jsonl(stream, path, stats, max_article_bytes)
        elif kind == "seed":
            records = _parse_seed(stream, path, source_id, stats, max_article_bytes)
        else:
            records = iter([_whole_file_rejection(kind, stream, path, source_id)])
        for tag, record in records:
            if tag == "article":
                stats.records += 1
            else:
                stats.dead_letters += 1
            yield tag, record
        _drain(hashing)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a truncated gzip stream raises EOFError.
        reason = dl.CORRUPT_COMPRESSION if stats.compression == "gzip" else dl.FILE_UNREADABLE
        stats.error = f"{type(exc).__name__}: {exc}"
        stats.dead_letters += 1
        yield "dead_letter", dl.dead_letter(path, None, "read", reason, stats.error, source_id=source_id)
        try:
            _drain(hashing)
        except OSError:
            pass
    stats.sha256 = stats._hash.hexdigest()
    yield "file", stats.as_dict()


def _whole_file_rejection(kind: str, stream, path: str, source_id: str) -> tuple[str, dict]:
    head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if kind == "empty":
        # Whitespace-only files count as empty too.
        return "dead_letter", dl.dead_letter(path, None, "parse", dl.EMPTY_FILE, "file is empty", head, source_id)
    if kind == "binary":
        return "dead_letter", dl.dead_letter(
            path, None, "parse", dl.BINARY_CONTENT, "file content is binary, not text", head, source_id
        )
    return "dead_letter", dl.dead_letter(
        path,
        None,
        "parse",
        dl.NO_DATE_HEADER,
        "not JSONL and no ' date YYYY-MM-DD ' header at the start of the file",
        head,
        source_id,
    )


def _read_bounded(stream, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes; the flag says whether more remained."""
    data = stream.read(limit + 1)
    return data[:limit], len(data) > limit


def _parse_seed(stream, path: str, source_id: str, stats: FileStats, max_bytes: int):
    data, truncated = _read_bounded(stream, max_bytes)
    if truncated:
        yield (
            "dead_letter",
            dl.dead_letter(
                path,
                None,
                "parse",
                dl.TOO_LARGE,
                f"article is larger than --max_article_bytes={max_bytes}",
                data,
                source_id,
            ),
        )
        return
    decoded = decode_text(data)
    if decoded is None:
        yield (
            "dead_letter",
            dl.dead_letter(path, None, "parse", dl.BINARY_CONTENT, "file content is binary, not text", data, source_id),
        )
        return
    text, encoding = decoded
    match = SEED_HEADER.match(text)
    if match is None:  # sniffed as seed, so only a header with no value gets here
        yield (
            "dead_letter",
            dl.dead_letter(path, None, "parse", dl.NO_DATE_HEADER, "date header has no value", data, source_id),
        )
        return
    yield (
        "article",
        {
            "source_id": source_id,
            "source": {"path": path, "line": None},
            "input_format": "seed",
            "encoding": encoding,
            "compression": stats.compression,
            "date_raw": match.group(1),
            "title": None,
            "text": text[match.end() :],
            "extra": {},
        },
    )


def _skip_rest_of_line(stream) -> None:
    while True:
        chunk = stream.readline(CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


def _parse_jsonl(stream, path: str, stats: FileStats, max_bytes: int):
    line_no = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        line_no += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield (
                "dead_letter",
                dl.dead_letter(
                    path, line_no, "parse", dl.TOO_LARGE, f"line is larger than --max_article_bytes={max_bytes}", line
                ),
            )
            continue
        if not line.strip():
            continue
        yield parse_jsonl_line(line, path, line_no, stats.compression)


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(type(value).__name__)


def parse_jsonl_line(line: bytes, path: str, line_no: int, compression: str = "none") -> tuple[str, dict]:
    """Parse one JSONL line into ``("article", raw)`` or ``("dead_letter", dl)``."""
    encoding = "utf-8"
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        decoded = decode_text(line)
        if decoded is None:
            return "dead_letter", dl.dead_letter(path, line_no, "parse", dl.BINARY_CONTENT, "line is binary", line)
        text, encoding = decoded
        if encoding == "utf-8":
            return "dead_letter", dl.dead_letter(path, line_no, "parse", dl.INVALID_JSON, f"invalid JSON: {exc}", line)
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc2:
            return "dead_letter", dl.dead_letter(path, line_no, "parse", dl.INVALID_JSON, f"invalid JSON: {exc2}", line)
    if not isinstance(obj, dict):
        return "dead_letter", dl.dead_letter(
            path, line_no, "parse", dl.NOT_AN_OBJECT, f"JSON value is a {type(obj).__name__}, not an object", line
        )
    try:
        source_id = _as_text(obj.get("id"))
        text = _as_text(obj.get("text"))
        title = _as_text(obj.get("title"))
        date_raw = _as_text(obj.get("date"))
    except TypeError as exc:
        return "dead_letter", dl.dead_letter(
            path, line_no, "parse", dl.INVALID_FIELD, f"id, date, title and text must be strings, got {exc}", line
        )
    missing = [name for name, value in (("id", source_id), ("text", text)) if not value]
    if missing:
        return "dead_letter", dl.dead_letter(
            path,
            line_no,
            "parse",
            dl.MISSING_FIELD,
            f"missing or empty field(s): {', '.join(missing)}",
            line,
            source_id,
        )
    return "article", {
        "source_id": source_id,
        "source": {"path": path, "line": line_no},
        "input_format": "jsonl",
        "encoding": encoding,
        "compression": compression,
        "date_raw": date_raw,
        "title": title,
        "text": text,
        "extra": {k: v for k, v in obj.items() if k not in KNOWN_JSONL_FIELDS},
    }
