"""Dead-letter records: one rejected input with its source, stage and reason."""

from __future__ import annotations

SNIPPET_CHARS = 200

# Reason codes. Stable strings: downstream alerting keys on them.
EMPTY_FILE = "empty_file"
NO_DATE_HEADER = "no_date_header"
INVALID_DATE = "invalid_date"
DATE_OUT_OF_RANGE = "date_out_of_range"
BINARY_CONTENT = "binary_content"
DECODE_ERROR = "decode_error"
TOO_LARGE = "too_large"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
MISSING_FIELD = "missing_field"
INVALID_FIELD = "invalid_field"
EMPTY_TEXT = "empty_text"
FILE_UNREADABLE = "file_unreadable"
CORRUPT_COMPRESSION = "corrupt_compression"
INVALID_RECORD = "invalid_record"
INTERNAL_ERROR = "internal_error"


def snippet(data: bytes | str | None, limit: int = SNIPPET_CHARS) -> str:
    """Return at most ``limit`` characters of ``data``, decoding bytes leniently."""
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data[: limit * 4].decode("utf-8", errors="backslashreplace")
    return data[:limit]


def dead_letter(
    path: str,
    line: int | None,
    stage: str,
    reason: str,
    message: str,
    data: bytes | str | None = None,
    source_id: str | None = None,
) -> dict:
    """Build a dead-letter dict matching ``schemas.models.DeadLetter``."""
    return {
        "schema_version": "1",
        "source": {"path": path, "line": line},
        "source_id": source_id,
        "stage": stage,
        "reason": reason,
        "message": message[:1000],
        "snippet": snippet(data),
    }


def dead_letter_sort_key(record: dict) -> tuple:
    """Total order over dead letters, for deterministic output files."""
    src = record["source"]
    return (src["path"], src["line"] or 0, record["stage"], record["reason"], record["message"])
