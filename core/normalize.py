"""Turn a raw article dict into a normalised article dict (plain function)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

from core import dates
from core import text as T

LANG_SAMPLE_CHARS = 1500


@dataclass(frozen=True)
class NormalizeConfig:
    """Tuning for normalisation; recorded in the manifest."""

    reference_date: str  # ISO date; dates after reference + tolerance are rejected
    future_tolerance_days: int = 2
    title_max_chars: int = T.TITLE_MAX

    def as_dict(self) -> dict:
        return asdict(self)


class NormalizeError(ValueError):
    """An article that cannot be normalised; ``reason`` is a dead-letter reason code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def content_hash(text: str) -> str:
    """sha256 (first 32 hex chars) of the dedup key of ``text``."""
    return hashlib.sha256(T.dedup_key(text).encode("utf-8")).hexdigest()[:32]


def article_id(source_id: str, chash: str) -> str:
    """Stable article id from the source id and the content hash."""
    return hashlib.sha256(f"{source_id}\x1f{chash}".encode()).hexdigest()[:20]


def clean_body(text: str) -> dict:
    """Characters, paragraphs, spacing, boilerplate, dateline and credits of a body.

    Returns a dict with ``paragraphs``, ``dateline``, ``credits``, ``agencies``
    and ``boilerplate_lines_removed``.
    """
    paragraphs = [T.fix_spacing(p) for p in T.split_paragraphs(T.fix_characters(text))]
    paragraphs, removed = T.remove_boilerplate(paragraphs)
    credits, paragraphs = T.extract_credits(paragraphs)
    dateline = None
    if paragraphs:
        dateline, first = T.extract_dateline(paragraphs[0])
        if first:
            paragraphs[0] = first
        else:
            paragraphs.pop(0)
    agencies: list[str] = []
    for name in (dateline["agencies"] if dateline else []) + T.agencies_in_credits(credits):
        if name not in agencies:
            agencies.append(name)
    return {
        "paragraphs": paragraphs,
        "dateline": dateline,
        "credits": credits,
        "agencies": agencies,
        "boilerplate_lines_removed": removed,
    }


def normalize_article(raw: dict, config: NormalizeConfig, identify_language=None) -> dict:
    """Normalise one raw article (``schemas.RawArticle`` as dict).

    ``identify_language(text) -> (code, confidence)`` is optional. Raises
    ``NormalizeError`` for an unusable date or an empty body. The returned
    dict has every ``schemas.Article`` field but ``story_id``.
    """
    published = None
    if raw.get("date_raw"):
        try:
            published = dates.parse_date(raw["date_raw"])
            dates.check_range(published, dt.date.fromisoformat(config.reference_date), config.future_tolerance_days)
        except dates.DateError as exc:
            raise NormalizeError(exc.reason, str(exc)) from None
    body = clean_body(raw["text"])
    paragraphs = body["paragraphs"]
    if not paragraphs:
        raise NormalizeError("empty_text", "no article text left after cleaning")
    text = "\n\n".join(paragraphs)
    title = T.fix_spacing(" ".join(T.fix_characters(raw["title"]).split())) if raw.get("title") else ""
    title_derived = not title
    if title_derived:
        title = T.derive_title(text, config.title_max_chars)
    language, confidence = (None, None)
    if identify_language is not None:
        language, confidence = identify_language(text[:LANG_SAMPLE_CHARS])
    chash = content_hash(text)
    return {
        "schema_version": "1",
        "id": article_id(raw["source_id"], chash),
        "source_id": raw["source_id"],
        "source": raw["source"],
        "input_format": raw["input_format"],
        "encoding": raw["encoding"],
        "published": published.iso if published else None,
        "published_date": published.date if published else None,
        "published_tz": published.tz if published else None,
        "title": title,
        "title_derived": title_derived,
        "text": text,
        "paragraphs": paragraphs,
        "dateline": body["dateline"],
        "credits": body["credits"],
        "agencies": body["agencies"],
        "boilerplate_lines_removed": body["boilerplate_lines_removed"],
        "language": language,
        "language_confidence": None if confidence is None else round(float(confidence), 4),
        "content_hash": chash,
        "word_count": T.word_count(text),
        "duplicates": [],
        "entities": [],
        "extra": raw.get("extra") or {},
    }


def published_sort_key(article: dict) -> str:
    """Sort key putting earlier publication first and unknown dates last."""
    iso = article.get("published")
    return dates.iso_sort_key(iso) if iso else "~"


def without_paragraphs(article: dict) -> dict:
    """An article in; the same without ``paragraphs`` out (inside the pipeline the body travels once, as ``text``)."""
    return {k: v for k, v in article.items() if k != "paragraphs"}


def with_paragraphs(article: dict) -> dict:
    """An article in; the same with ``paragraphs`` re-derived from ``text`` out.

    Exact: ``text`` is the paragraphs joined by a blank line, and a paragraph
    never contains a line break (``core.text.split_paragraphs``).
    """
    return {**article, "paragraphs": article["text"].split("\n\n")}
