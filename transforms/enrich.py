"""EnrichEntities: deduplicated articles in, the same articles with canonical, linked ``entities`` out."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from core.entities import EntityConfig, Gazetteer, Span, canonicalise
from transforms.common import NAMESPACE

# Pipes other than `ner`; in the sm/md pipelines `ner` has its own embedding layer, so entities are identical.
NON_NER_PIPES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"]


def load_ner(model: str):
    """Load a spaCy pipeline with only its `ner` component (from an installed package; nothing downloads)."""
    import spacy

    return spacy.load(model, exclude=NON_NER_PIPES)


def should_tag(article: dict) -> bool:
    """The English model runs on English (or undetected) text only; other languages pass through untagged."""
    return article.get("language") in ("en", None)


class NerCost:
    """An article in; its share of the NER stage's work out: the characters spaCy reads, 0 if it skips the article."""

    def __init__(self, config: EntityConfig):
        self.max_chars = config.max_chars

    def __call__(self, article: dict) -> int:
        return min(len(article["text"]), self.max_chars) if should_tag(article) else 0


class EnrichBatchFn(beam.DoFn):
    """A batch (list) of article dicts in; each article with ``entities`` filled in out."""

    def __init__(self, config: EntityConfig):
        self.config = config
        self.nlp = None
        self.gazetteer = None
        self.tagged = Metrics.counter(NAMESPACE, "articles_ner_tagged")
        self.words = Metrics.counter(NAMESPACE, "ner_words")
        self.entities = Metrics.counter(NAMESPACE, "entities_linked")

    def setup(self):
        self.nlp = load_ner(self.config.model)
        self.gazetteer = Gazetteer()
        self.gazetteer.warm()

    def process(self, batch: list[dict]):
        todo = [a for a in batch if should_tag(a)]
        docs = self.nlp.pipe((a["text"][: self.config.max_chars] for a in todo), batch_size=self.config.batch_size)
        enriched = {}
        for article, doc in zip(todo, docs, strict=True):
            spans = [Span(e.text, e.label_, e.start_char) for e in doc.ents]
            place = (article.get("dateline") or {}).get("place")
            out = dict(article)
            out["entities"] = canonicalise(article["text"], spans, place, self.gazetteer)
            enriched[article["id"]] = out
            self.tagged.inc()
            self.words.inc(article["word_count"])
            self.entities.inc(len(out["entities"]))
        for article in batch:
            yield enriched.get(article["id"]) or {**article, "entities": []}


class EnrichEntities(beam.PTransform):
    """Article dicts in; article dicts with ``entities`` (``schemas.Entity`` dicts) out.

    Articles are batched (``config.batch_size``) so spaCy's ``nlp.pipe`` sees
    whole batches; the model is loaded once per worker in ``DoFn.setup``.
    """

    def __init__(self, config: EntityConfig):
        super().__init__()
        self.config = config

    def expand(self, articles):
        size = self.config.batch_size
        return (
            articles
            | "BatchForNer" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "TagAndLink" >> beam.ParDo(EnrichBatchFn(self.config))
        )
