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
from .manifest import ManifestError
from .publish import PublishError
from .records import discover_files

EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    BuildError,
    PublishError,
    ManifestError,
)
"""The errors a person can fix: shown in a line by the command line, survived by a watch."""

Outcome = BuildReport | Exception
"""What one rebuild gave: its report, or the error that stopped it (or a scan of the files)."""

Snapshot = frozenset[tuple[str, int, int]]


def snapshot(options: BuildOptions) -> Snapshot:
    """What the build reads, as (path, size, mtime) of every record and definition."""
    found = set()
    for folder in (options.seeds, options.feeds):
        if folder.is_dir():
            found.update((f.path, f.size, f.mtime_ns) for f in discover_files(folder, str(folder)))
    return frozenset(found)


def watch(
    options: BuildOptions,
    since: Snapshot,
    on_build: Callable[[Outcome], None],
    stop: threading.Event,
    interval: float = 0.5,
    settle: float = 0.3,
) -> None:
    """Rebuild after every change since the snapshot ``since`` until ``stop`` is set.

    Take ``since`` before the build the watch follows, so a change made while
    that build ran is not missed. Each rebuild's outcome goes to ``on_build``,
    and so does the error of a scan that failed (once, until it fails otherwise).
    """
    scan = _Scanner(options, on_build)
    seen = since
    while not stop.wait(interval):
        now = scan()
        if now is None or now == seen:
            continue
        seen = _settled(scan, now, settle, stop)
        if stop.is_set():
            return
        on_build(rebuild(options))


def _settled(
    scan: Callable[[], Snapshot | None], now: Snapshot, settle: float, stop: threading.Event
) -> Snapshot:
    """Wait until nothing has changed for ``settle`` seconds; the files as they then are."""
    while not stop.wait(settle):
        later = scan()
        if later == now:
            return now
        if later is not None:
            now = later
    return now


class _Scanner:
    """Snapshots for a watch: a scan that fails gives None, its error told once, not raised."""

    def __init__(self, options: BuildOptions, tell: Callable[[Outcome], None]) -> None:
        self.options = options
        self.tell = tell
        self.problem = ""

    def __call__(self) -> Snapshot | None:
        try:
            found = snapshot(self.options)
        except OSError as exc:  # a folder gone or unreadable mid-scan
            if str(exc) != self.problem:
                self.tell(exc)
            self.problem = str(exc)
            return None
        self.problem = ""
        return found


def rebuild(options: BuildOptions) -> Outcome:
    """One build; the errors a person can fix while watching are returned, not raised."""
    try:
        return build(options)
    except EXPECTED_ERRORS as exc:
        return exc
