"""Quiet, uniform logging for the CLI."""

from __future__ import annotations

import logging

_NOISE = ("apitools not found", "No module named google.cloud")


class _DropBeamImportNoise(logging.Filter):
    """Drop the warnings Beam logs through the root logger at import time."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in _NOISE)


def configure_logging(verbose: bool = False) -> None:
    """newsbeam logs at INFO (DEBUG with ``verbose``); Beam only at WARNING (INFO with ``verbose``)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropBeamImportNoise())
    logging.getLogger("apache_beam").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("newsbeam").setLevel(logging.DEBUG if verbose else logging.INFO)
