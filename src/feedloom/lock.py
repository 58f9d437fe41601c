"""One build at a time per output folder.

The lock is the output folder itself (``flock`` on its directory handle):
no lock file to publish by mistake or to leave behind, and the kernel
releases it when a build dies, however it dies. Where ``flock`` does not
exist (Windows), builds are not serialised.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockTimeout(Exception):
    """Another build kept the output folder for longer than we would wait."""


_held: set[int] = set()
"""Handles this process holds locks through (a forked worker inherits them)."""


@contextmanager
def holding(folder: Path, wait: float) -> Iterator[None]:
    """Hold ``folder`` (which must exist) for this build, waiting up to ``wait`` seconds."""
    if fcntl is None:
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        _acquire(handle, folder, wait)
        _held.add(handle)
        yield
    finally:
        _held.discard(handle)
        os.close(handle)  # closing releases the lock


def let_go_inherited() -> None:
    """In a forked worker: close the handles its parent locks through.

    A lock lasts while any process has its handle open; a worker that outlived
    a killed build would otherwise keep every later build waiting.
    """
    for handle in list(_held):
        os.close(handle)
    _held.clear()


def _acquire(handle: int, folder: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{folder}: another build is writing here (waited {wait:g} s); "
                    "try again when it is done, or raise --wait"
                ) from None
            time.sleep(0.05)
