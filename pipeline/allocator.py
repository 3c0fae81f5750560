"""Memory allocator settings for newsbeam's processes (glibc only; elsewhere nothing changes).

With glibc's defaults a long-running Beam process keeps much of the memory it
has freed: every thread that allocates gets its own arena (up to eight per
core; the runner and the SDK workers run many gRPC threads), and once a large
buffer is freed glibc raises its mmap threshold, so later large buffers, such
as the encoded element streams between the runner and its workers, come from
the heap and fragment it. Two settings stop that; what they cost in speed was
within this machine's noise (at most about 5% on raw NER; README, Performance):

* ``MALLOC_ARENA_MAX=2``: at most two arenas per process;
* ``MALLOC_MMAP_THRESHOLD_=4194304``: a block of 4 MiB or more is always its
  own mapping, returned to the system when freed.

``tune_allocator`` applies them to this process (``mallopt``) and, through the
environment, to the worker processes it starts (the local runners' workers
inherit it). A setting the operator already exported is left alone; exporting
``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_`` is how to choose another
value. Workers of a distributed runner start in their own environment: set the
variables there (README, Running beyond one machine).
"""

from __future__ import annotations

import ctypes
import os
import platform

SETTINGS = {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 4 << 20}
_MALLOPT = {"MALLOC_ARENA_MAX": -8, "MALLOC_MMAP_THRESHOLD_": -3}  # M_ARENA_MAX, M_MMAP_THRESHOLD in malloc.h


def tune_allocator() -> dict[str, str]:
    """Apply ``SETTINGS`` not already in the environment; returns the settings now in effect (empty if not glibc)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return {}
    libc = ctypes.CDLL(None)
    for name, value in SETTINGS.items():
        if name in os.environ:
            continue  # the operator's choice; glibc read it when this process started
        os.environ[name] = str(value)
        libc.mallopt(_MALLOPT[name], value)
    return {name: os.environ[name] for name in SETTINGS}
