"""ReadArticles: input file specs in, raw article dicts out (plus dead letters and file stats)."""

from __future__ import annotations

import posixpath

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from pydantic import ValidationError

from core import deadletter as dl
from core.reading import parse_stream
from schemas.models import RawArticle
from transforms.common import DEAD_LETTER, NAMESPACE, count_dead_letter

FILES = "files"


def source_id_for(path: str, base: str) -> str:
    """A file's path relative to its input base directory (POSIX separators)."""
    norm_path = path.replace("\\", "/")
    norm_base = base.replace("\\", "/").rstrip("/")
    if norm_base and norm_path.startswith(norm_base + "/"):
        return norm_path[len(norm_base) + 1 :]
    return posixpath.basename(norm_path)


class ParseFileFn(beam.DoFn):
    """One input file spec ``{"path", "base"}`` in; raw articles, dead letters and one file-stats dict out."""

    def __init__(self, max_article_bytes: int):
        self.max_article_bytes = max_article_bytes
        self.records_read = Metrics.counter(NAMESPACE, "records_read")
        self.files_read = Metrics.counter(NAMESPACE, "files_read")
        self.parsed = Metrics.counter(NAMESPACE, "articles_parsed")

    def process(self, spec: dict):
        path = spec["path"]
        source_id = source_id_for(path, spec["base"])
        self.files_read.inc()
        try:
            handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as exc:  # noqa: BLE001 - any filesystem error means the file is unreadable
            record = dl.dead_letter(
                path, None, "read", dl.FILE_UNREADABLE, f"{type(exc).__name__}: {exc}", None, source_id
            )
            self.records_read.inc()
            count_dead_letter(record)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
            yield beam.pvalue.TaggedOutput(
                FILES,
                {
                    "path": path,
                    "size": None,
                    "sha256": None,
                    "format": "unknown",
                    "compression": "none",
                    "records": 0,
                    "dead_letters": 1,
                    "error": record["message"],
                },
            )
            return
        with handle:
            for tag, record in parse_stream(handle, path, source_id, self.max_article_bytes):
                if tag == "file":
                    yield beam.pvalue.TaggedOutput(FILES, record)
                    continue
                self.records_read.inc()
                if tag == "article":
                    try:
                        RawArticle.model_validate(record)
                    except ValidationError as exc:
                        record = dl.dead_letter(
                            path,
                            record["source"]["line"],
                            "parse",
                            dl.INVALID_RECORD,
                            str(exc),
                            record["text"],
                            record["source_id"],
                        )
                        tag = DEAD_LETTER
                if tag == "article":
                    self.parsed.inc()
                    yield record
                else:
                    count_dead_letter(record)
                    yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)


class ReadArticles(beam.PTransform):
    """File specs (``{"path", "base"}`` dicts) in; a tagged result out.

    ``result.articles``: raw article dicts (``schemas.RawArticle``);
    ``result.dead_letter``: dead-letter dicts; ``result.files``: per-file stats
    (size, sha256, format, record counts) for the manifest.
    """

    def __init__(self, max_article_bytes: int):
        super().__init__()
        self.max_article_bytes = max_article_bytes

    def expand(self, specs):
        return (
            specs
            # Spread files over workers before the (possibly heavy) read.
            | "SpreadFiles" >> beam.Reshuffle()
            | "ParseFiles"
            >> beam.ParDo(ParseFileFn(self.max_article_bytes)).with_outputs(DEAD_LETTER, FILES, main="articles")
        )
