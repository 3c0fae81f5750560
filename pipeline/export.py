"""``newsbeam export``: feed a search index from a committed output directory.

* ``opensearch-bulk`` (Elasticsearch's ``_bulk`` format is the same): for every
  partition file ``<kind>/date=D/part-N.jsonl`` one NDJSON file
  ``export/opensearch-bulk/<kind>/date=D/part-N.ndjson`` of action/document
  line pairs, ``_id`` = the article id or the story id. One export file per
  output file: re-exporting an unchanged day rewrites identical bytes, and
  loading it again is an idempotent upsert.
* ``mapping``: ``export/mappings/<prefix>-articles.json`` and
  ``<prefix>-stories.json``, index mappings derived from the pydantic schema.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from pydantic import BaseModel

from pipeline.commit import SUCCESS_MARKER, write_atomic
from schemas.models import Article, Story

EXPORT_DIR = "export"
KINDS = {"articles": ("id", Article), "stories": ("story_id", Story)}
TEXT_FIELDS = {"title", "text", "paragraphs", "credits"}
DATE_FIELDS = {"published", "published_date", "first_published", "last_published"}
NESTED_FIELDS = {"entities", "duplicates", "top_entities"}


class ExportError(RuntimeError):
    """The output directory cannot be exported (no committed run)."""


def bulk_lines(records: list[dict], index: str, id_field: str) -> bytes:
    """``{"index": {"_index", "_id"}}`` + document, one pair per record."""
    out = []
    for record in records:
        out.append(orjson.dumps({"index": {"_index": index, "_id": record[id_field]}}))
        out.append(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return b"".join(line + b"\n" for line in out)


def _ensure_committed(output: Path) -> None:
    if not (output / SUCCESS_MARKER).exists():
        raise ExportError(f"{output} has no {SUCCESS_MARKER}: no committed newsbeam run to export")


def export_bulk(output: Path, index_prefix: str = "newsbeam") -> dict[str, int]:
    """Write the bulk files; remove exported files whose source partition file is gone. Returns counts."""
    _ensure_committed(output)
    counts = {}
    for kind, (id_field, _) in KINDS.items():
        source_root = output / kind
        target_root = output / EXPORT_DIR / "opensearch-bulk" / kind
        wanted = set()
        n = 0
        for source in sorted(source_root.rglob("*.jsonl")):
            rel = source.relative_to(source_root).with_suffix(".ndjson")
            wanted.add(rel.as_posix())
            records = [orjson.loads(line) for line in source.read_bytes().splitlines() if line.strip()]
            target = target_root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = bulk_lines(records, f"{index_prefix}-{kind}", id_field)
            if not target.exists() or target.read_bytes() != data:
                write_atomic(target, data)
            n += len(records)
        for stale in sorted(target_root.rglob("*.ndjson")) if target_root.exists() else []:
            if stale.relative_to(target_root).as_posix() not in wanted:
                stale.unlink()
        for folder in sorted(target_root.rglob("*"), reverse=True) if target_root.exists() else []:
            if folder.is_dir() and not any(folder.iterdir()):
                os.rmdir(folder)
        counts[kind] = n
    return counts


def _field_mapping(name: str, schema: dict, defs: dict) -> dict:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # Optional[X]
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return _field_mapping(name, schema, defs)
    kind = schema.get("type")
    if name in DATE_FIELDS:
        return {"type": "date", "format": "strict_date_optional_time"}
    if kind == "array":
        items = schema.get("items", {})
        item_mapping = _field_mapping(name, items, defs)
        if name in NESTED_FIELDS:
            item_mapping = {**item_mapping, "type": "nested"}
        return item_mapping
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        if not props:
            return {"type": "object", "enabled": False}  # free-form (extra)
        return {"properties": {k: _field_mapping(k, v, defs) for k, v in sorted(props.items())}}
    if kind == "string":
        if name in TEXT_FIELDS:
            mapping = {"type": "text"}
            if name == "title":
                mapping["fields"] = {"keyword": {"type": "keyword", "ignore_above": 512}}
            return mapping
        return {"type": "keyword"}
    if kind == "integer":
        return {"type": "long"}
    if kind == "number":
        return {"type": "float"}
    if kind == "boolean":
        return {"type": "boolean"}
    return {"type": "keyword"}


def mapping_for(model: type[BaseModel]) -> dict:
    """An OpenSearch/Elasticsearch index mapping derived from a pydantic model's JSON Schema.

    Ids, codes and labels are ``keyword``; dates ``date``; title and body ``text``
    (title also as ``title.keyword``); entity and duplicate lists ``nested``;
    ``extra`` is stored but not indexed.
    """
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    props = {k: _field_mapping(k, v, defs) for k, v in sorted(schema["properties"].items())}
    return {"mappings": {"dynamic": "strict", "properties": props}}


def export_mappings(output: Path, index_prefix: str = "newsbeam") -> list[Path]:
    folder = output / EXPORT_DIR / "mappings"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, (_, model) in KINDS.items():
        path = folder / f"{index_prefix}-{kind}.json"
        write_atomic(path, orjson.dumps(mapping_for(model), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        paths.append(path)
    return paths
