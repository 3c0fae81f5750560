"""Pydantic v2 models for every record kind newsbeam reads or writes.

Records are validated where they enter the pipeline (``RawArticle``) and where
they leave it (``Article``, ``Story``, ``DeadLetter``). Inside the pipeline they
travel as plain dicts produced by ``model_dump(mode="json")``.

Dates are ISO-8601. ``published`` is either a calendar date (``YYYY-MM-DD``,
no time known) or a date-time with an explicit UTC offset; ``published_tz``
records how the offset was obtained. All run timestamps are UTC.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"

Stage = Literal["read", "parse", "normalize", "window", "dedup", "enrich", "cluster", "validate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceRef(_Model):
    """Where a record came from: the input file and, for JSONL, the 1-based line."""

    path: str = Field(description="Input file path as listed by the run.")
    line: int | None = Field(None, description="1-based line number in a JSONL file; null for a whole file.")


class RawArticle(_Model):
    """An article as parsed from an input file, before normalisation."""

    source_id: str = Field(description="JSONL `id`, or a text file's path relative to its input base directory.")
    source: SourceRef
    input_format: Literal["seed", "jsonl"]
    encoding: str = Field(description="Text encoding used to decode the input (utf-8, or the fallback used).")
    compression: Literal["none", "gzip"] = "none"
    date_raw: str | None = Field(None, description="The date exactly as given in the input.")
    title: str | None = None
    text: str
    extra: dict[str, Any] = Field(default_factory=dict, description="Input fields newsbeam does not interpret.")


class Dateline(_Model):
    """A leading dateline removed from the body, e.g. ``BALI (AFP, XINHUA) -``."""

    raw: str = Field(description="The dateline exactly as it stood in the text.")
    place: str | None = Field(None, description="Place name in normalised case, e.g. `Bali`, `West Palm Beach, Fla.`.")
    date_text: str | None = Field(None, description="A date written in the dateline, e.g. `Feb 26`.")
    agencies: list[str] = Field(default_factory=list, description="News agencies named in the dateline.")


class DuplicateRef(_Model):
    """A copy that was collapsed into the surviving article."""

    source_id: str
    article_id: str
    source: SourceRef
    reason: Literal["exact", "near"]
    similarity: float = Field(description="1.0 for exact copies; the Jaccard similarity of shingles for near copies.")


class Entity(_Model):
    """One canonical entity mentioned in an article."""

    canonical: str = Field(description="Canonical name, e.g. `Sergey Lavrov`.")
    key: str = Field(description="Canonical matching key used to link entities across articles.")
    label: str = Field(description="spaCy label (PERSON, ORG, GPE, LOC, NORP, ...).")
    kb_id: str | None = Field(None, description="ISO 3166-1/3166-2 code, GeoNames id or Wikidata QID when known.")
    surface_forms: list[str] = Field(description="Distinct mention texts, sorted.")
    mentions: int = Field(ge=1)
    first_offset: int = Field(ge=0, description="Character offset of the first mention in `text`.")
    salience: float = Field(ge=0.0, le=1.0, description="Position- and frequency-based weight in [0, 1].")


class Article(_Model):
    """A normalised, deduplicated article as written to ``articles/``."""

    schema_version: str = SCHEMA_VERSION
    id: str = Field(description="Stable id derived from the content hash and the source id.")
    source_id: str
    source: SourceRef
    input_format: Literal["seed", "jsonl"]
    encoding: str
    published: str | None = Field(None, description="ISO-8601 date, or date-time with explicit UTC offset.")
    published_date: str | None = Field(None, description="The `YYYY-MM-DD` partition key; null when unknown.")
    published_tz: str | None = Field(
        None, description="How the offset was set: `given` (in the input), `assumed-utc`, or null for a bare date."
    )
    title: str
    title_derived: bool = Field(description="True when the title was derived from the lead sentence.")
    text: str = Field(description="Normalised body: paragraphs joined by a blank line.")
    paragraphs: list[str]
    dateline: Dateline | None = None
    credits: list[str] = Field(default_factory=list, description="Bylines and credit lines removed from the body.")
    agencies: list[str] = Field(default_factory=list, description="Agencies from the dateline and credits.")
    boilerplate_lines_removed: int = Field(0, ge=0)
    language: str | None = Field(None, description="ISO 639-1 code.")
    language_confidence: float | None = Field(None, ge=0.0, le=1.0)
    content_hash: str = Field(description="sha256 (hex, 32 chars) of the dedup key normalisation of `text`.")
    word_count: int = Field(ge=0)
    duplicates: list[DuplicateRef] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    story_id: str
    extra: dict[str, Any] = Field(default_factory=dict)


class StoryEntity(_Model):
    key: str
    canonical: str
    label: str
    kb_id: str | None = None
    count: int = Field(ge=1, description="Number of member articles that mention the entity.")


class Story(_Model):
    """A group of articles about one real-world event, as written to ``stories/``."""

    schema_version: str = SCHEMA_VERSION
    story_id: str
    title: str
    first_published: str | None
    last_published: str | None
    size: int = Field(ge=1)
    article_ids: list[str]
    source_ids: list[str]
    representative_id: str
    top_entities: list[StoryEntity] = Field(default_factory=list)


class DuplicateLink(_Model):
    """A new copy of an article committed by an earlier run (``--state``), as written to ``duplicates/``.

    The earlier article stays the survivor and its own record is not rewritten;
    this record links the copy to it.
    """

    schema_version: str = SCHEMA_VERSION
    source_id: str
    article_id: str = Field(description="The id the copy would have had as an article.")
    source: SourceRef
    published_date: str | None = Field(None, description="The copy's `YYYY-MM-DD` partition key (UTC).")
    reason: Literal["exact", "near"]
    similarity: float = Field(description="1.0 for exact copies; the Jaccard similarity of shingles for near copies.")
    survivor_id: str = Field(description="Id of the earlier article the copy duplicates.")
    survivor_story_id: str = Field(description="Story id of that article.")


class DeadLetter(_Model):
    """One rejected input, as written to ``dead_letter/``."""

    schema_version: str = SCHEMA_VERSION
    source: SourceRef
    source_id: str | None = None
    stage: Stage
    reason: str = Field(description="Stable machine-readable reason code, e.g. `invalid_date`.")
    message: str
    snippet: str = Field(description="At most 200 characters of the offending input, decoded leniently.")


RECORD_MODELS: dict[str, type[BaseModel]] = {
    "article": Article,
    "story": Story,
    "dead_letter": DeadLetter,
    "duplicate_link": DuplicateLink,
}
