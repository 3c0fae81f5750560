"""An exclusive lock on an output directory, so two runs never write the same output at once."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path


class OutputLocked(RuntimeError):
    """Another run holds the output's lock."""


class OutputLock:
    """``fcntl.flock`` on ``<output>/.newsbeam/lock``, held for the life of the run.

    The kernel releases the lock when the process exits, however it exits
    (SIGKILL included), so a crashed run never leaves a stale lock. Advisory and
    local: it protects against runs on the same machine or a shared POSIX
    filesystem that supports ``flock``, not against writers on object stores.
    """

    def __init__(self, work_dir: Path, run_id: str):
        self.path = work_dir / "lock"
        self.run_id = run_id
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 400, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputLocked(f"another newsbeam run is writing to this output ({holder}); try again later") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, run {self.run_id}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
