"""ReadState: the files of a state generation in; state records (``core.state``) out."""

from __future__ import annotations

import apache_beam as beam
import orjson
from apache_beam.io.textio import ReadAllFromText


class ReadState(beam.PTransform):
    """A pipeline root in; one dict per state record out (none when ``files`` is empty).

    ``files`` are the JSONL files listed in the state generation's ``meta.json``;
    they are read with Beam IO, so they may live on any filesystem Beam supports.
    """

    def __init__(self, files: list[str]):
        super().__init__()
        self.files = sorted(files)

    def expand(self, pbegin):
        return (
            pbegin
            | "ListStateFiles" >> beam.Create(self.files)
            | "ReadStateLines" >> ReadAllFromText()
            | "ParseState" >> beam.Map(orjson.loads)
        )
