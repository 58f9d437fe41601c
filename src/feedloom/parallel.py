"""Run a function over chunks of work, in worker processes when it pays, results in order."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

Item = TypeVar("Item")
Result = TypeVar("Result")


def default_jobs() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def each_part(
    work: Callable[[Sequence[Item]], list[Result]], parts: list[Sequence[Item]], jobs: int
) -> Iterator[tuple[int, list[Result]]]:
    """(part number, its results) for every part, as the parts finish.

    With one job, or one part, everything runs here, in order: the same
    function over the same parts, so a parallel run gives what a serial one does.
    """
    if jobs <= 1 or len(parts) <= 1:
        for number, part in enumerate(parts):
            yield number, work(part)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed  # only when it pays

    workers = min(jobs, len(parts))
    # Objects the workers inherit stay out of their garbage collector's sight, so a
    # collection there does not touch (and copy) every page of the parent's memory.
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            workers, mp_context=_context(), initializer=_start_worker, initargs=(os.getpid(),)
        ) as pool:
            futures = {pool.submit(work, part): number for number, part in enumerate(parts)}
            for future in as_completed(futures):
                yield futures[future], future.result()
    finally:
        gc.unfreeze()


def run_chunks(
    work: Callable[[Sequence[Item]], list[Result]], parts: list[Sequence[Item]], jobs: int
) -> list[Result]:
    """``work`` applied to every part, results concatenated in the parts' order."""
    finished = dict(each_part(work, parts, jobs))
    return [result for number in range(len(parts)) for result in finished[number]]


def _start_worker(parent: int) -> None:
    """A worker dies with its build (kill -9 included) and holds none of its locks."""
    from .lock import let_go_inherited

    let_go_inherited()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        set_parent_death_signal = 1  # PR_SET_PDEATHSIG
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the signal was set up
        os._exit(1)


def _context() -> BaseContext:
    """fork where it is safe (Linux): workers start at once, with every module loaded."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
