"""Small helpers shared by the stage transforms."""

from __future__ import annotations

from apache_beam.metrics import Metrics

NAMESPACE = "newsbeam"
DEAD_LETTER = "dead_letter"


def count_dead_letter(record: dict) -> None:
    """Increment the per-stage and per-reason dead-letter counters."""
    Metrics.counter(NAMESPACE, f"dead_letter.{record['stage']}").inc()
    Metrics.counter(NAMESPACE, f"dead_letter_reason.{record['reason']}").inc()
