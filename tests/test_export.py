"""Search-index feed: export bulk files and mappings, then load them into a real search engine (tantivy)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
import tantivy
from conftest import REFERENCE_DATE, run_cli, tree_bytes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "out"
    run_cli("run", "--input", "seeds/*.txt", "--output", str(out), "--reference_date", REFERENCE_DATE)
    run_cli("export", "--output", str(out), "--format", "opensearch-bulk")
    run_cli("export", "--output", str(out), "--format", "mapping")
    return out


def _bulk(root: Path) -> list[tuple[dict, dict]]:
    pairs = []
    for path in sorted(root.rglob("*.ndjson")):
        lines = path.read_bytes().splitlines()
        assert len(lines) % 2 == 0
        pairs += [(orjson.loads(lines[i]), orjson.loads(lines[i + 1])) for i in range(0, len(lines), 2)]
    return pairs


def test_bulk_pairs_use_article_and_story_ids(exported):
    articles = _bulk(exported / "export" / "opensearch-bulk" / "articles")
    stories = _bulk(exported / "export" / "opensearch-bulk" / "stories")
    assert len(articles) == 2 and len(stories) == 1
    for action, doc in articles:
        assert action == {"index": {"_index": "newsbeam-articles", "_id": doc["id"]}}
    ((action, story),) = stories
    assert action["index"]["_id"] == story["story_id"] and story["size"] == 2


def test_reexport_is_identical(exported):
    before = tree_bytes(exported / "export")
    run_cli("export", "--output", str(exported), "--format", "opensearch-bulk")
    assert tree_bytes(exported / "export") == before


def test_mapping_types(exported):
    mapping = orjson.loads((exported / "export" / "mappings" / "newsbeam-articles.json").read_bytes())
    props = mapping["mappings"]["properties"]
    assert props["id"]["type"] == "keyword" and props["story_id"]["type"] == "keyword"
    assert props["published"]["type"] == "date" and props["text"]["type"] == "text"
    assert props["title"]["fields"]["keyword"]["type"] == "keyword"
    assert props["entities"]["type"] == "nested"
    assert props["entities"]["properties"]["kb_id"]["type"] == "keyword"
    stories = orjson.loads((exported / "export" / "mappings" / "newsbeam-stories.json").read_bytes())
    assert stories["mappings"]["properties"]["first_published"]["type"] == "date"


def test_export_refuses_an_uncommitted_output(tmp_path):
    proc = run_cli("export", "--output", str(tmp_path), "--format", "opensearch-bulk", check=False)
    assert proc.returncode == 2 and "_SUCCESS" in proc.stderr


def _index(docs: list[dict], fields: dict[str, str]) -> tuple[tantivy.Index, tantivy.Schema]:
    builder = tantivy.SchemaBuilder()
    for name, kind in fields.items():
        if kind == "date":
            builder.add_date_field(name, stored=True, indexed=True, fast=True)
        else:
            builder.add_text_field(name, stored=True, tokenizer_name="raw" if kind == "keyword" else "default")
    schema = builder.build()
    index = tantivy.Index(schema)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for doc in docs:
        document = tantivy.Document()
        for name, kind in fields.items():
            values = doc.get(name)
            for value in values if isinstance(values, list) else [values]:
                if value is None:
                    continue
                if kind == "date":
                    document.add_date(name, dt.datetime.fromisoformat(value[:10]))
                else:
                    document.add_text(name, value)
        writer.add_document(document)
    writer.commit()
    index.reload()
    return index, schema


def test_search_engine_answers_from_the_exported_feed(exported):
    articles = []
    for _, doc in _bulk(exported / "export" / "opensearch-bulk" / "articles"):
        doc["entity_ids"] = [e["kb_id"] for e in doc["entities"] if e["kb_id"]]
        articles.append(doc)
    fields = {"id": "keyword", "source_id": "keyword", "title": "text", "text": "text", "entity_ids": "keyword",
              "published": "date", "story_id": "keyword"}  # fmt: skip
    index, schema = _index(articles, fields)
    searcher = index.searcher()

    def sources(query):
        return sorted(searcher.doc(address)["source_id"][0] for _, address in searcher.search(query, 10).hits)

    both = ["000_4d1cb5d3b3d210b8.txt", "002_213fec431d727187.txt"]
    assert sources(index.parse_query("Lavrov Bali", ["title", "text"])) == both
    assert sources(index.parse_query("denazify", ["title", "text"])) == ["002_213fec431d727187.txt"]
    assert sources(tantivy.Query.term_query(schema, "entity_ids", "RU")) == both
    assert sources(tantivy.Query.term_query(schema, "entity_ids", "Q7184")) == ["000_4d1cb5d3b3d210b8.txt"]
    day = tantivy.Query.range_query(
        schema, "published", tantivy.FieldType.Date, dt.datetime(2022, 7, 8), dt.datetime(2022, 7, 8, 23, 59)
    )
    assert sources(day) == ["002_213fec431d727187.txt"]

    stories = [doc for _, doc in _bulk(exported / "export" / "opensearch-bulk" / "stories")]
    story_index, story_schema = _index(stories, {"story_id": "keyword", "title": "text", "article_ids": "keyword"})
    hits = story_index.searcher().search(tantivy.Query.all_query(), 10).hits
    assert len(hits) == 1
    story = story_index.searcher().doc(hits[0][1])
    assert sorted(story["article_ids"]) == sorted(a["id"] for a in articles)
    assert {a["story_id"] for a in articles} == {story["story_id"][0]}
