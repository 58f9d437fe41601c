"""Run a function over chunks of work, in worker processes when it pays, results in order."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

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


def run_chunks(
    work: Callable[[Sequence[Item]], list[Result]],
    parts: list[Sequence[Item]],
    jobs: int,
    done: Callable[[int], None] | None = None,
) -> list[Result]:
    """``work`` applied to every part, results concatenated in the parts' order.

    With one job, or one part, everything runs here: the same function over
    the same parts, so a parallel run gives what a serial one does.
    ``done`` is told how many items each finished part held.
    """
    if jobs <= 1 or len(parts) <= 1:
        results: list[Result] = []
        for part in parts:
            results.extend(work(part))
            if done:
                done(len(part))
        return results
    finished: dict[int, list[Result]] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(parts)), mp_context=_context()) as pool:
        futures = {pool.submit(work, part): number for number, part in enumerate(parts)}
        for future in as_completed(futures):
            number = futures[future]
            finished[number] = future.result()
            if done:
                done(len(parts[number]))
    return [result for number in range(len(parts)) for result in finished[number]]


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux): workers start at once, with every module loaded."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()
