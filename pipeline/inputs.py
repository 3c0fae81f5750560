"""Expand input globs into file specs ``{"path", "base"}``."""

from __future__ import annotations

import glob
import os

from apache_beam.io.filesystems import FileSystems

_GLOB_CHARS = "*?["


def glob_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: ``seeds/*.txt`` → ``seeds``."""
    cut = min((pattern.find(c) for c in _GLOB_CHARS if c in pattern), default=-1)
    if cut < 0:
        return os.path.dirname(pattern) if "://" not in pattern else pattern.rsplit("/", 1)[0]
    head = pattern[:cut]
    return head.rsplit("/", 1)[0] if "/" in head else ""


def expand_inputs(patterns: list[str]) -> tuple[list[dict], list[str]]:
    """Matching files for each pattern, sorted and unique by path.

    Local patterns are matched with ``glob`` (``**`` recurses); others through
    Beam's ``FileSystems``. Returns ``(specs, patterns_with_no_match)``.
    """
    specs: dict[str, dict] = {}
    unmatched = []
    for pattern in patterns:
        if "://" in pattern:
            found = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        else:
            found = [p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)]
        if not found:
            unmatched.append(pattern)
        base = glob_base(pattern)
        for path in found:
            specs.setdefault(path, {"path": path, "base": base})
    return [specs[p] for p in sorted(specs)], unmatched
