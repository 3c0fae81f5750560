"""The exported JSON Schema files match the pydantic models; models pickle."""

from __future__ import annotations

import pickle

import orjson

from schemas.export import JSON_DIR, schema_json
from schemas.models import RECORD_MODELS, Article


def test_exported_schema_files_are_current():
    for kind in RECORD_MODELS:
        path = JSON_DIR / f"{kind}.schema.json"
        assert path.read_text() == schema_json(kind), f"run `make schemas` to refresh {path.name}"


def test_article_schema_documents_dates_and_ids():
    props = orjson.loads(schema_json("article"))["properties"]
    assert "UTC" in props["published"]["description"]
    assert {"id", "source_id", "content_hash", "story_id", "paragraphs", "dateline", "credits"} <= set(props)


def test_models_pickle():
    model = Article.model_json_schema()
    assert pickle.loads(pickle.dumps(Article)) is Article
    assert model["title"] == "Article"
