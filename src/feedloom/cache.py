"""The build cache: an embedded SQLite database beside the project, never published.

It remembers, per record file, what parsing it gave (the article, its entry
and its messages) with the file's size, modification time and content hash,
so an unchanged record is never parsed twice; per output file, the
fingerprint of what it was rendered from, so an unchanged feed is never
rendered twice; and per output folder, a stamp of the last build's whole
input, so a build with nothing new stops after looking at the files.

It holds only what feedloom publishes from a record: never ``secured`` or
unknown fields. A cache written by another version of feedloom or with other
parsing settings is emptied; a damaged one is replaced. Either way the build
goes on, with a notice.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .articles import Article, Entry, Image, Provider, Related
from .diagnostics import Diagnostic, Severity
from .probe import Probe
from .version import __version__

CACHE_FILE = "cache.sqlite"
SCHEMA = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CacheError(Exception):
    """The cache cannot be used at all (its folder cannot be created)."""


class CacheDamaged(sqlite3.DatabaseError):
    """A row of the cache cannot be decoded: the file was damaged or tampered with."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a record file looked like when it was parsed."""

    display: str
    size: int
    mtime_ns: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one record file gave, encoded for the cache."""

    key: str
    stamp: Stamp
    entry: bytes | None
    article: bytes | None
    diagnostics: bytes
    digest: str | None = None
    """The accepted article's digest (Entry.digest), by which renderers find it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A record's cached result: its entry (None when rejected) and its messages."""

    entry: Entry | None
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class OutputStamp:
    """What an output file was rendered from, and what it looked like once written."""

    fingerprint: str
    size: int
    mtime_ns: int

    def matches(self, path: Path) -> bool:
        """True when the file at ``path`` is still the one this stamp saw written."""
        try:
            info = path.stat()
        except OSError:
            return False
        return (info.st_size, info.st_mtime_ns) == (self.size, self.mtime_ns)


_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    key BLOB PRIMARY KEY, display BLOB NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, hash BLOB NOT NULL,
    entry BLOB, article BLOB, diagnostics BLOB NOT NULL, digest TEXT);
CREATE TABLE IF NOT EXISTS outputs (
    out BLOB NOT NULL, file TEXT NOT NULL, fingerprint TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, PRIMARY KEY (out, file));
CREATE TABLE IF NOT EXISTS builds (out BLOB PRIMARY KEY, stamp TEXT NOT NULL, report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_digest ON records (digest);
CREATE TABLE IF NOT EXISTS pushes (url TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS probes (
    url TEXT PRIMARY KEY, checked REAL NOT NULL, size INTEGER, type TEXT, error TEXT NOT NULL);
"""


class Cache:
    """One open cache database."""

    def __init__(self, path: Path, settings: str, notices: list[str]) -> None:
        self.path = path
        self.notices = notices
        self._identity = {"schema": str(SCHEMA), "feedloom": __version__, "python": sys.version}
        self._identity["settings"] = settings
        self._db = _connect(path)
        every = dict(self._db.execute("SELECT name, value FROM meta"))
        stored = {k: v for k, v in every.items() if k in self._identity}
        if stored and stored != self._identity:
            changed = sorted(k for k in self._identity if stored.get(k) != self._identity[k])
            notices.append(f"cache: {', '.join(changed)} changed; reading every record again")
        if stored != self._identity:
            self._clear()

    def _clear(self) -> None:
        """Empty what depends on the identity; tables are made anew, as their shape may
        have changed with the schema. Probes and pending pushes are facts about the web."""
        with self._db:
            for table in ("meta", "records", "outputs", "builds"):
                self._db.execute(f"DROP TABLE {table}")
        self._db.executescript(_TABLES)
        with self._db:
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", self._identity.items())

    def reset(self, reason: str) -> None:
        """Start again with an empty database file, after damage found while in use."""
        self.notices.append(reason)
        self._db.close()
        _remove_database(self.path)
        self._db = _connect(self.path)
        self._clear()

    @classmethod
    def open(cls, folder: Path, settings: str) -> Cache:
        """Open (or create) the cache in ``folder``; a damaged one is replaced with a notice."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create cache folder {folder}: {exc.strerror or exc}"
            ) from None
        path = folder / CACHE_FILE
        notices: list[str] = []
        try:
            return cls(path, settings, notices)
        except sqlite3.DatabaseError as exc:
            notices.append(f"cache: {path} is damaged ({exc}); starting a new one")
            _remove_database(path)
        try:
            return cls(path, settings, notices)
        except sqlite3.DatabaseError as exc:  # not damage: the folder cannot be written
            raise CacheError(f"cache: cannot use {path} ({exc})") from None

    def close(self) -> None:
        self._db.close()

    # --- records ------------------------------------------------------------------

    def stamps(self) -> dict[str, Stamp]:
        rows = self._db.execute("SELECT key, display, size, mtime_ns, hash FROM records")
        return {
            _name(key): Stamp(_name(display), size, mtime, digest)
            for key, display, size, mtime, digest in rows
        }

    def save(self, parsed: Iterable[Parsed]) -> None:
        rows = (
            (
                _blob(p.key),
                _blob(p.stamp.display),
                p.stamp.size,
                p.stamp.mtime_ns,
                p.stamp.hash,
                p.entry,
                p.article,
                p.diagnostics,
                p.digest,
            )
            for p in parsed
        )
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def touch(self, stamps: Iterable[tuple[str, Stamp]]) -> None:
        """Record new times of files whose content turned out unchanged."""
        rows = ((s.size, s.mtime_ns, _blob(key)) for key, s in stamps)
        with self._db:
            self._db.executemany("UPDATE records SET size = ?, mtime_ns = ? WHERE key = ?", rows)

    def forget(self, keys: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM records WHERE key = ?", ((_blob(k),) for k in keys))

    def outcomes(self, keys: set[str]) -> Iterator[Outcome]:
        """The outcomes of the records ``keys`` names, in the order of their keys.

        (A cache may hold the records of other seeds folders too.) Articles of one
        provider share one Provider object: less memory, less time.
        """
        rows = self._db.execute("SELECT key, entry, diagnostics FROM records ORDER BY key")
        providers: dict[tuple, Provider] = {}
        for key, entry, diagnostics in rows:
            if _name(key) not in keys:
                continue
            try:
                outcome = Outcome(
                    decode_entry(entry, providers) if entry else None,
                    decode_diagnostics(diagnostics) if diagnostics != _NO_DIAGNOSTICS else (),
                )
            except _UNDECODABLE as exc:
                raise CacheDamaged(f"undecodable row ({exc})") from None
            yield outcome

    def articles(self, digests: Sequence[str]) -> dict[str, Article]:
        """Whole articles by their digest (Entry.digest).

        A digest names an article's content, so it finds the right article even
        when several seeds folders that share this cache have a record at the
        same relative path.
        """
        found: dict[str, Article] = {}
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT digest, article FROM records WHERE digest IN ({marks})", chunk
            )
            for digest, blob in rows:
                try:
                    found[digest] = decode_article(blob)
                except _UNDECODABLE as exc:
                    raise CacheDamaged(f"undecodable row ({exc})") from None
        return found

    # --- enclosure probes ----------------------------------------------------------

    def probes(self, urls: Iterable[str]) -> dict[str, Probe]:
        """What asking each of ``urls`` gave, for those asked."""
        query = "SELECT url, checked, size, type, error FROM probes"
        wanted = sorted(set(urls))
        rows = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self._db.execute(f"{query} WHERE url IN ({marks})", chunk).fetchall()
        return {
            url: Probe(url, checked, size, kind, error) for url, checked, size, kind, error in rows
        }

    def save_probes(self, probes: Iterable[Probe]) -> None:
        """Store answers; when a size or type changed, feeds using them render again."""
        probes = list(probes)
        before = self.probes(p.url for p in probes)
        changed = any(
            (p.size, p.type) != ((b.size, b.type) if (b := before.get(p.url)) else (None, None))
            for p in probes
        )
        rows = ((p.url, p.checked, p.size, p.type, p.error) for p in probes)
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO probes VALUES (?, ?, ?, ?, ?)", rows)
            if changed:
                token = hashlib.blake2b(
                    repr(sorted(before.items())).encode() + repr(probes).encode()
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('probes', ?)", (token.hexdigest(),)
                )

    def probes_version(self) -> str:
        """Changes whenever a stored size or type changes: part of every feed's fingerprint."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'probes'").fetchone()
        return row[0] if row else ""

    # --- WebSub announcements the hub did not take ---------------------------------

    def pending_pushes(self) -> list[str]:
        return [url for (url,) in self._db.execute("SELECT url FROM pushes ORDER BY url")]

    def set_pending_pushes(self, urls: Iterable[str]) -> None:
        with self._db:
            self._db.execute("DELETE FROM pushes")
            self._db.executemany("INSERT OR IGNORE INTO pushes VALUES (?)", ((u,) for u in urls))

    # --- outputs and builds --------------------------------------------------------

    def output_stamps(self, out: str) -> dict[str, OutputStamp]:
        rows = self._db.execute(
            "SELECT file, fingerprint, size, mtime_ns FROM outputs WHERE out = ?", (_blob(out),)
        )
        return {file: OutputStamp(fp, size, mtime) for file, fp, size, mtime in rows}

    def save_outputs(self, out: str, stamps: dict[str, OutputStamp]) -> None:
        rows = ((_blob(out), f, s.fingerprint, s.size, s.mtime_ns) for f, s in stamps.items())
        with self._db:
            self._db.execute("DELETE FROM outputs WHERE out = ?", (_blob(out),))
            self._db.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)", rows)

    def last_build(self, out: str) -> tuple[str, dict] | None:
        query = "SELECT stamp, report FROM builds WHERE out = ?"
        row = self._db.execute(query, (_blob(out),)).fetchone()
        if row is None:
            return None
        try:
            return row[0], json.loads(row[1])
        except ValueError:
            return None

    def save_build(self, out: str, stamp: str, report: dict) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO builds VALUES (?, ?, ?)",
                (_blob(out), stamp, json.dumps(report)),
            )

    def forget_build(self, out: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM builds WHERE out = ?", (_blob(out),))


def _blob(name: str) -> str | bytes:
    """A path as SQLite can store it: as text, or as bytes for a name that is not UTF-8."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape")
    return name


def _name(stored: str | bytes) -> str:
    return stored if isinstance(stored, str) else stored.decode("utf-8", "surrogateescape")


def _remove_database(path: Path) -> None:
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            part.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CacheError(f"cannot replace the damaged cache {part}: {exc.strerror}") from None


# What decoding a damaged or tampered row raises.
_UNDECODABLE = (ValueError, EOFError, TypeError, IndexError)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_TABLES)
    db.execute("SELECT count(*) FROM records").fetchone()  # a damaged file fails here
    return db


def attach(path: Path, read_only: bool = False) -> Cache:
    """Another connection to a cache the parent process opened (and checked), for a worker."""
    other = Cache.__new__(Cache)
    other.path, other.notices = path, []
    mode = "ro" if read_only else "rw"
    other._db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=60)
    return other


# --- codecs: plain tuples through marshal, the fastest safe format in the stdlib -------


def _time(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def _image(i: Image | None) -> tuple | None:
    return None if i is None else (i.url, i.type, i.width, i.height, i.title)


def _provider(p: Provider | None) -> tuple | None:
    return None if p is None else (p.key, p.name, p.url, _image(p.logo))


def _from_provider(t: tuple | None) -> Provider | None:
    return None if t is None else Provider(t[0], t[1], t[2], Image(*t[3]) if t[3] else None)


def encode_article(a: Article) -> bytes:
    return marshal.dumps(
        (
            a.id, a.link, a.title, _time(a.published), a.path, a.line, a.excerpt,
            _provider(a.provider), a.topics, a.category, a.type, a.quality, a.heat,
            tuple(_image(i) for i in a.images),
            tuple((r.title, r.link, r.excerpt, r.provider, _time(r.published)) for r in a.related),
            a.draft,
        )
    )  # fmt: skip


def decode_article(blob: bytes) -> Article:
    (id_, link, title, published, path, line, excerpt, provider, topics, category, kind,
     quality, heat, images, related, draft) = marshal.loads(blob)  # fmt: skip
    return Article(
        id=id_,
        link=link,
        title=title,
        published=_moment(published),
        path=path,
        line=line,
        excerpt=excerpt,
        provider=_from_provider(provider),
        topics=topics,
        category=category,
        type=kind,
        quality=quality,
        heat=heat,
        images=tuple(Image(*i) for i in images),
        related=tuple(Related(t, lk, ex, pr, _moment(pub)) for t, lk, ex, pr, pub in related),
        draft=draft,
    )


def encode_entry(e: Entry) -> bytes:
    return marshal.dumps(
        (
            e.id, e.link, e.title, _time(e.published), e.path, e.line, e.draft, e.topics,
            _provider(e.provider), e.category, e.type, e.quality, e.heat, e.digest,
        )
    )  # fmt: skip


def decode_entry(blob: bytes, providers: dict[tuple, Provider] | None = None) -> Entry:
    """An Entry; ``providers`` (when given) makes equal providers one shared object."""
    t = marshal.loads(blob)
    provider = t[8]
    if provider is not None and providers is not None:
        shared = providers.get(provider)
        if shared is None:
            shared = providers[provider] = _from_provider(provider)
        provider = shared
    else:
        provider = _from_provider(provider)
    return Entry(t[0], t[1], t[2], _moment(t[3]), t[4], t[5], t[6], t[7], provider, *t[9:])


def encode_diagnostics(diagnostics: Iterable[Diagnostic]) -> bytes:
    return marshal.dumps(tuple((d.path, d.line, d.message, d.severity.value) for d in diagnostics))


_NO_DIAGNOSTICS = marshal.dumps(())


def decode_diagnostics(blob: bytes) -> tuple[Diagnostic, ...]:
    return tuple(Diagnostic(p, ln, m, Severity(s)) for p, ln, m, s in marshal.loads(blob))
