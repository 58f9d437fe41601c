"""Reading with memory: record files -> entries, parsing only what changed, in parallel.

Stages 1 and 2 (records, articles) run here for every record file whose
size, time or place changed since the cache last saw it; every other
record's result comes from the cache. What comes out is one light Entry per
accepted record and every record's messages, in file order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .articles import Entry, ParseSettings, entry_of, normalise
from .cache import (
    Cache,
    Parsed,
    Stamp,
    attach,
    encode_article,
    encode_diagnostics,
    encode_entry,
)
from .diagnostics import Diagnostic
from .parallel import chunks, each_part
from .records import RecordFile, parse_record, read_bytes

_CHUNK = 256  # records a worker parses between two reports back


@dataclass(frozen=True, slots=True)
class Ingested:
    records: int
    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...]
    parsed: int
    """Records parsed this time; the others came from the cache."""


@dataclass(frozen=True, slots=True)
class _Task:
    file: RecordFile
    known_hash: bytes | None
    """The content hash the cache holds for a file of the same size, if any."""


@dataclass(frozen=True, slots=True)
class _Touched:
    """A file whose time changed but whose content did not."""

    key: str
    stamp: Stamp


def ingest(
    seeds: Path,
    files: list[RecordFile],
    settings: ParseSettings,
    max_bytes: int,
    cache: Cache,
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> Ingested:
    known = cache.stamps()
    tasks = [task for task in map(partial(_task, known), files) if task is not None]
    counter = _Counter(len(files) - len(tasks), len(files), progress)
    work = partial(_parse_part, settings=settings, max_bytes=max_bytes, cache_path=cache.path)
    parts = chunks(tasks, _CHUNK)
    parsed = 0
    for number, results in each_part(work, parts, jobs):
        parsed += sum(results)
        counter.add(len(parts[number]))
    present = {f.path for f in files}
    # Records gone from this seeds folder; other folders' records sharing the cache stay.
    root = str(seeds.absolute()) + "/"
    cache.forget(key for key in known if key.startswith(root) and key not in present)
    entries, diagnostics = [], []
    for outcome in cache.outcomes(present):
        if outcome.entry is not None:
            entries.append(outcome.entry)
        diagnostics.extend(outcome.diagnostics)
    return Ingested(len(files), tuple(entries), tuple(diagnostics), parsed)


def _task(known: dict[str, Stamp], file: RecordFile) -> _Task | None:
    """None when the cache's result still holds; else what to parse, with a hash to try first."""
    old = known.get(file.path)
    if old is None or old.display != file.display or old.size != file.size:
        return _Task(file, None)
    if old.mtime_ns == file.mtime_ns:
        return None
    return _Task(file, old.hash)


def _parse_part(
    tasks: Sequence[_Task], settings: ParseSettings, max_bytes: int, cache_path: Path
) -> list[int]:
    """Parse a part of the records and store the results: [how many were parsed].

    Each worker writes its own results to the cache (SQLite lets one writer
    in at a time, briefly), so results never travel back to the parent.
    """
    results = [_parse(task, settings, max_bytes) for task in tasks]
    fresh = [r for r in results if isinstance(r, Parsed)]
    writer = attach(cache_path)
    try:
        writer.save(fresh)
        writer.touch((r.key, r.stamp) for r in results if isinstance(r, _Touched))
    finally:
        writer.close()
    return [len(fresh)]


def _parse(task: _Task, settings: ParseSettings, max_bytes: int) -> Parsed | _Touched:
    file = task.file
    data = read_bytes(file.path, file.display, max_bytes)
    if isinstance(data, Diagnostic):  # unreadable now, maybe not next time: never a cache hit
        return Parsed(
            file.path, Stamp(file.display, -1, 0, b""), None, None, encode_diagnostics([data])
        )
    stamp = Stamp(
        file.display, file.size, file.mtime_ns, hashlib.blake2b(data, digest_size=16).digest()
    )
    if stamp.hash == task.known_hash:
        return _Touched(file.path, stamp)
    record = parse_record(data, file.display)
    if isinstance(record, Diagnostic):
        return Parsed(file.path, stamp, None, None, encode_diagnostics([record]))
    outcome = normalise(record, settings)
    notes = encode_diagnostics(outcome.diagnostics)
    if outcome.article is None:
        return Parsed(file.path, stamp, None, None, notes)
    blob = encode_article(outcome.article)
    digest = hashlib.blake2b(blob, digest_size=16).hexdigest()
    entry = entry_of(outcome.article, digest)
    return Parsed(file.path, stamp, encode_entry(entry), blob, notes, digest)


class _Counter:
    """Turns 'a part is done' into the (done, total) a progress callback wants."""

    def __init__(self, done: int, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.progress = done, total, progress

    def add(self, count: int) -> None:
        self.done += count
        if self.progress:
            self.progress(self.done, self.total)
