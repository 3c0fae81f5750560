"""Export the JSON Schema of the output records (``newsbeam schema``, ``schemas/json/``)."""

from __future__ import annotations

from pathlib import Path

import orjson

from schemas.models import RECORD_MODELS

JSON_DIR = Path(__file__).parent / "json"


def schema_of(kind: str) -> dict:
    return RECORD_MODELS[kind].model_json_schema()


def schema_json(kind: str = "all") -> str:
    """The JSON Schema of one record kind, or of all kinds keyed by kind."""
    doc = schema_of(kind) if kind != "all" else {k: schema_of(k) for k in RECORD_MODELS}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def write_schemas(directory: Path = JSON_DIR) -> list[Path]:
    """Write ``<kind>.schema.json`` for every record kind; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in RECORD_MODELS:
        path = directory / f"{kind}.schema.json"
        path.write_text(schema_json(kind))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_schemas():
        print(written)
