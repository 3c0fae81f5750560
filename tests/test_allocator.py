"""Allocator settings: applied to newsbeam's process and inherited by the worker processes it starts."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc allocator settings only")

PROBE = """
import os, subprocess, sys
from pipeline.allocator import tune_allocator
print(sorted(tune_allocator().items()))
child = "import os; print(os.environ.get('MALLOC_ARENA_MAX'), os.environ.get('MALLOC_MMAP_THRESHOLD_'))"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout.strip())
"""


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()


def test_settings_reach_child_processes():
    settings, child = _probe()
    assert settings == "[('MALLOC_ARENA_MAX', '2'), ('MALLOC_MMAP_THRESHOLD_', '4194304')]"
    assert child == "2 4194304"


def test_a_setting_the_operator_exported_is_kept():
    settings, child = _probe(MALLOC_ARENA_MAX="4")
    assert settings == "[('MALLOC_ARENA_MAX', '4'), ('MALLOC_MMAP_THRESHOLD_', '4194304')]"
    assert child == "4 4194304"
