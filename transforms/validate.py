"""ValidateRecords: check records against their pydantic model where they leave the pipeline."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from pydantic import ValidationError

from core import deadletter as dl
from schemas.models import RECORD_MODELS
from transforms.common import DEAD_LETTER, NAMESPACE, count_dead_letter


class ValidateFn(beam.DoFn):
    """A record dict in; the validated, schema-shaped dict out, or a dead letter."""

    def __init__(self, kind: str):
        self.kind = kind
        self.valid = Metrics.counter(NAMESPACE, f"{kind}_validated")

    def process(self, record: dict):
        try:
            model = RECORD_MODELS[self.kind].model_validate(record)
        except ValidationError as exc:
            source = record.get("source") or {"path": "", "line": None}
            letter = dl.dead_letter(
                source.get("path", ""),
                source.get("line"),
                "validate",
                dl.INVALID_RECORD,
                f"{self.kind} failed schema validation: {exc}",
                record.get("text") or repr(record),
                record.get("source_id"),
            )
            count_dead_letter(letter)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, letter)
            return
        self.valid.inc()
        yield model.model_dump(mode="json")


class ValidateRecords(beam.PTransform):
    """Record dicts of one kind (``article``, ``story``, ``dead_letter``) in; ``result.valid`` and ``result.dead_letter`` out."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def expand(self, records):
        return records | "Validate" >> beam.ParDo(ValidateFn(self.kind)).with_outputs(DEAD_LETTER, main="valid")
