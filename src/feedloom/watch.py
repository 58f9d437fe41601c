"""Rebuild when a record or a feed definition changes (``feedloom build --watch``).

Polls the files' sizes and times: no dependency, works on every file system
(network shares included) and costs a directory scan per interval, which the
build cache makes the only cost of a build with nothing new anyway. A burst
of changes (an editor saving several files, a sync tool) becomes one
rebuild: the build waits until the files have been quiet for ``settle``
seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .api import BuildError, BuildOptions, BuildReport, build
from .config import ConfigError
from .publish import PublishError
from .records import discover_files

Outcome = BuildReport | Exception
"""What one rebuild gave: its report, or the error that stopped it."""


def snapshot(options: BuildOptions) -> frozenset[tuple[str, int, int]]:
    """What the build reads, as (path, size, mtime) of every record and definition."""
    found = set()
    for folder in (options.seeds, options.feeds):
        if folder.is_dir():
            found.update((f.path, f.size, f.mtime_ns) for f in discover_files(folder, str(folder)))
    return frozenset(found)


def watch(
    options: BuildOptions,
    since: frozenset[tuple[str, int, int]],
    on_build: Callable[[Outcome], None],
    stop: threading.Event,
    interval: float = 0.5,
    settle: float = 0.3,
) -> None:
    """Rebuild after every change since the snapshot ``since`` until ``stop`` is set.

    Take ``since`` before the build the watch follows, so a change made while
    that build ran is not missed. Each rebuild's outcome goes to ``on_build``.
    """
    seen = since
    while not stop.wait(interval):
        now = snapshot(options)
        if now == seen:
            continue
        seen = _settled(options, now, settle, stop)
        if stop.is_set():
            return
        on_build(rebuild(options))


def _settled(
    options: BuildOptions, now: frozenset, settle: float, stop: threading.Event
) -> frozenset:
    """Wait until nothing has changed for ``settle`` seconds; the files as they then are."""
    while not stop.wait(settle):
        later = snapshot(options)
        if later == now:
            return now
        now = later
    return now


def rebuild(options: BuildOptions) -> Outcome:
    """One build; the errors a person can fix while watching are returned, not raised."""
    try:
        return build(options)
    except (ConfigError, BuildError, PublishError) as exc:
        return exc
