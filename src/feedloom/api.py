"""The library API: what the command line and the tests call.

``build`` runs the pipeline: read records -> normalise into articles -> select
articles into feeds -> render each feed in each format -> publish files. A
cache beside the project remembers what each stage made, so each build does
only the work that its changes call for.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .articles import Article, ParseSettings, normalise
from .cache import Cache, CacheError, OutputStamp
from .config import INDEX_OPML, INDEX_PAGE, SITE_FILE, Config, ConfigError, Overrides, load_config
from .diagnostics import Diagnostic, Severity
from .formats import FORMATS
from .formats.index_page import render_index
from .formats.opml import render_opml
from .ingest import Ingested, ingest
from .lock import LockTimeout, holding
from .manifest import MANIFEST, FeedEntry, entry_for, parse_manifest, render_manifest
from .parallel import default_jobs
from .probe import ProbeSettings
from .publish import OutputFile, PublishResult, claim, finish, make_folder, sweep_leftovers
from .records import DEFAULT_MAX_BYTES, RecordFile, discover_files, read_record
from .render import plan_jobs, produce, still_current
from .select import Selection, select
from .version import __version__

Progress = Callable[[int, int], None]
"""Called with (records done, records in all) while records are read."""

DEFAULT_CACHE = Path(".feedloom")


class BuildError(Exception):
    """The build cannot run at all (no records, unreadable folders); nothing was written."""


@dataclass(frozen=True, slots=True)
class BuildOptions:
    seeds: Path = Path("seeds")
    feeds: Path = Path("feeds")
    out: Path = Path("output")
    base_url: str | None = None
    limit: int | None = None
    formats: tuple[str, ...] | None = None
    archive: bool | None = None
    """Publish archive documents (RFC 5005); None: as feeds/site.yaml says."""
    include_unpublished: bool = False
    strict: bool = False
    max_record_bytes: int = DEFAULT_MAX_BYTES
    jobs: int | None = None
    """Worker processes; None: one per CPU."""
    wait: float = 60.0
    """Seconds to wait for another build writing into the same output folder."""
    probe_enclosures: bool = False
    """Ask the network for the true size and type of enclosures before rendering."""
    probing: ProbeSettings = field(default_factory=ProbeSettings)
    cache: Path | None = DEFAULT_CACHE
    """The cache folder; None: a throwaway cache, so everything is read and rendered."""


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, in numbers, files and messages."""

    records: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    drafts: int = 0
    feeds: int = 0
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    parsed: int = 0
    """Records parsed this time; the others came from the cache."""
    rendered: int = 0
    """Files rendered this time; the others were known to be unchanged."""
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    """Every message about the records, in the order of the files."""
    notices: tuple[str, ...] = ()
    """Messages about the build itself (the cache)."""
    withheld: str = ""
    """Why nothing was published, when nothing was."""
    seconds: float = 0.0
    timings: tuple[tuple[str, float], ...] = ()
    """Seconds spent in each stage."""
    probed: ProbeReport | None = None
    """What asking for enclosure sizes gave, when the build was told to."""
    announced: tuple[str, ...] = ()
    """Feed URLs the WebSub hub took notice of."""
    push_failures: tuple[str, ...] = ()
    """Feed URLs the hub could not be told about, each with the reason."""

    @property
    def published(self) -> bool:
        return not self.withheld

    @property
    def exit_status(self) -> int:
        """0: all accepted; 3: published, some records rejected; 1: nothing published."""
        if not self.published:
            return 1
        return 3 if self.rejected else 0


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """What asking the enclosures' servers gave."""

    enclosures: int
    """Distinct enclosure URLs in the published documents."""
    asked: int
    """Asked this time: never asked before, or asked too long ago."""
    failed: tuple[str, ...] = ()
    """``URL: reason`` for each URL asked this time that told no size."""
    notices: tuple[str, ...] = ()
    """What happened to the cache, for the user (as BuildReport's)."""


@dataclass(frozen=True, slots=True)
class ReadReport:
    """What reading and normalising the records gave."""

    records: int
    articles: tuple[Article, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def rejected(self) -> int:
        return _count_rejected(self.diagnostics)

    @property
    def exit_status(self) -> int:
        """0: every record accepted; 3: some rejected (as a build's status would say)."""
        return 3 if self.rejected else 0


def _count_rejected(diagnostics: tuple[Diagnostic, ...]) -> int:
    return sum(d.severity is Severity.ERROR for d in diagnostics)


def read_articles(
    seeds: Path,
    settings: ParseSettings | None = None,
    max_record_bytes: int = DEFAULT_MAX_BYTES,
) -> ReadReport:
    """Read and normalise every record below ``seeds``, whole, without a cache."""
    _require_folder(seeds)
    files = discover_files(seeds, str(seeds))
    articles: list[Article] = []
    diagnostics: list[Diagnostic] = []
    for file in files:
        record = read_record(Path(file.path), file.display, max_record_bytes)
        if isinstance(record, Diagnostic):
            diagnostics.append(record)
            continue
        result = normalise(record, settings)
        diagnostics.extend(result.diagnostics)
        if result.article is not None:
            articles.append(result.article)
    return ReadReport(len(files), tuple(articles), tuple(diagnostics))


def check(options: BuildOptions) -> ReadReport:
    """Validate records only; writes nothing.

    The feed definitions' parse settings apply where there are definitions;
    a folder of records alone can be checked too.
    """
    has_definitions = (options.feeds / SITE_FILE).is_file()
    settings = parse_settings(configure(options)) if has_definitions else ParseSettings()
    return read_articles(options.seeds, settings, options.max_record_bytes)


def configure(options: BuildOptions) -> Config:
    """The feed definitions with the command line's overrides applied."""
    overrides = Overrides(options.base_url, options.limit, options.formats, options.archive)
    return load_config(options.feeds, FORMATS, overrides)


def parse_settings(config: Config) -> ParseSettings:
    return ParseSettings(record_base_url=config.site.record_base_url)


def build(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build every feed; raises ConfigError or BuildError before writing anything."""
    started = time.perf_counter()
    config = configure(options)
    _require_folder(options.seeds)
    _require_cache_outside_output(options)
    files = discover_files(options.seeds, str(options.seeds))
    if not files:
        raise BuildError(f"{options.seeds}: no records found; refusing to publish empty feeds")
    with _open_cache(options, config) as cache:
        try:
            report = _build(options, config, files, cache, progress)
        except sqlite3.DatabaseError as exc:  # damaged while in use: start afresh once
            try:
                cache.reset(f"cache: {exc}; starting a new one")
                report = _build(options, config, files, cache, progress)
            except (sqlite3.DatabaseError, CacheError) as again:  # a full disk, say
                raise BuildError(f"cache {cache.path}: {again}") from None
        if config.site.websub_hub and report.published:
            report = _push(report, config, cache)
        report = replace(report, notices=(*cache.notices, *report.notices))
    return replace(report, seconds=time.perf_counter() - started)


def _build(
    options: BuildOptions,
    config: Config,
    files: list[RecordFile],
    cache: Cache,
    progress: Progress | None,
) -> BuildReport:
    out = str(options.out.absolute())
    stamp = _input_stamp(options, config, files, cache.probes_version())
    # Probing asks the network for news, which no stamp of the input can foresee.
    replayed = None if options.probe_enclosures else _replay(cache, out, stamp, options.out)
    if replayed is not None:
        return replayed
    watch = _Stopwatch()
    read = _ingest(options, config, files, cache, progress)
    watch.lap("read")
    rejected = _count_rejected(read.diagnostics)
    if options.strict and rejected:
        cache.forget_build(out)
        return _report(read, withheld=f"{rejected} record(s) rejected: nothing written (--strict)")
    selection = select(read.entries, config, include_drafts=options.include_unpublished)
    watch.lap("select")
    probed = _probe(selection, cache, options.probing) if options.probe_enclosures else None
    if not selection.plans:
        cache.forget_build(out)
        why = "no article to publish: the published feeds are kept as they are"
        return _report(read, selection, withheld=why)
    make_folder(options.out)
    try:
        with holding(options.out, options.wait):
            report = _publish(options, config, selection, read, cache, watch)
            # Inside the lock: a build that starts after this one lets go must not
            # find this build's stamp beside another build's files.
            cache.save_build(out, stamp, _storable(report))
    except LockTimeout as exc:
        raise BuildError(str(exc)) from None
    return replace(report, probed=probed, timings=watch.laps)


def _ingest(
    options: BuildOptions,
    config: Config,
    files: list[RecordFile],
    cache: Cache,
    progress: Progress | None,
) -> Ingested:
    """Stages 1 and 2 with the cache: every record's entry and messages."""
    jobs = options.jobs or default_jobs()
    settings = parse_settings(config)
    return ingest(options.seeds, files, settings, options.max_record_bytes, cache, jobs, progress)


def _push(report: BuildReport, config: Config, cache: Cache) -> BuildReport:
    """Tell the hub about every feed whose subscription document changed.

    Feeds the hub could not be told about are kept in the cache and told again
    with the next build, even a build with nothing new.
    """
    pending = cache.pending_pushes()
    changed = [config.site.url_for(f) for f in report.written if _is_subscription(f)]
    urls = sorted({*changed, *pending})
    if not urls:
        return report
    from .websub import announce  # only sites with a hub need HTTP

    said = announce(config.site.websub_hub or "", urls)
    cache.set_pending_pushes(a.url for a in said if a.error)
    return replace(
        report,
        announced=tuple(a.url for a in said if not a.error),
        push_failures=tuple(f"{a.url}: {a.error}" for a in said if a.error),
    )


_ARCHIVE_FILE = re.compile(r".*/archive/\d+\.[a-z]+")


def _is_subscription(feed_file: str) -> bool:
    """A feed's subscription document, not one of its archive pages."""
    return not _ARCHIVE_FILE.fullmatch(feed_file)


def _publish(
    options: BuildOptions,
    config: Config,
    selection: Selection,
    read: Ingested,
    cache: Cache,
    watch: _Stopwatch,
) -> BuildReport:
    """Render what changed and publish it; the caller holds the output folder."""
    out = str(options.out.absolute())
    sweep_leftovers(options.out)
    formats = [FORMATS[name] for name in config.site.formats]
    before = cache.output_stamps(out)
    todo, kept = [], []
    for job in plan_jobs(selection.documents, formats, config.site, cache.probes_version()):
        (kept if still_current(job, before.get(job.file), options.out) else todo).append(job)
    claim(options.out, (job.file for job in todo))
    jobs = options.jobs or default_jobs()
    results = produce(todo, config.site, cache.path, options.out, jobs)
    watch.lap("render")
    entries = [entry_for(plan, formats) for plan in selection.plans]
    manifest = render_manifest(entries)
    site_files = _site_files(entries, config)
    published = finish(options.out, results, site_files, manifest, (job.file for job in kept))
    fingerprints = {job.file: job.fingerprint for job in (*todo, *kept)}
    # Site files are rendered on every build; their stamps only tell a replay they are intact.
    fingerprints.update((path, "") for path in _SITE_FILES)
    cache.save_outputs(out, _stamp_outputs(options.out, fingerprints))
    watch.lap("publish")
    return _report(read, selection, published, rendered=len(todo))


_SITE_FILES = (MANIFEST, INDEX_OPML, INDEX_PAGE)


def probe(options: BuildOptions, progress: Progress | None = None) -> ProbeReport:
    """Ask for the size and type of every enclosure the feeds publish (``feedloom probe``).

    Reads the records as a build would (with the same cache), writes no feed.
    """
    config = configure(options)
    _require_folder(options.seeds)
    files = discover_files(options.seeds, str(options.seeds))
    with _open_cache(options, config) as cache:
        read = _ingest(options, config, files, cache, progress)
        selection = select(read.entries, config, include_drafts=options.include_unpublished)
        report = _probe(selection, cache, options.probing)
        return replace(report, notices=tuple(cache.notices))


def _probe(selection: Selection, cache: Cache, settings: ProbeSettings) -> ProbeReport:
    from .probe import due, probe_all  # only probing needs HTTP

    digests = sorted({item.digest for document in selection.documents for item in document.items})
    urls = {image.url for article in cache.articles(digests).values() for image in article.images}
    asking = due(urls, cache.probes(urls), settings, time.time())
    answers = probe_all(asking, settings)
    cache.save_probes(answers)
    failed = tuple(f"{a.url}: {a.error}" for a in answers if a.size is None)
    return ProbeReport(len(urls), len(asking), failed)


def _site_files(entries: list[FeedEntry], config: Config) -> list[OutputFile]:
    """The files about all the feeds besides the manifest: the OPML list and the HTML index."""
    return [
        OutputFile(INDEX_OPML, render_opml(entries, config.site)),
        OutputFile(INDEX_PAGE, render_index(entries, config.site)),
    ]


class _Stopwatch:
    """Seconds spent in each stage, for ``-v`` and for finding where time goes."""

    def __init__(self) -> None:
        self.laps: tuple[tuple[str, float], ...] = ()
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps += ((stage, now - self._last),)
        self._last = now


def _report(
    read: Ingested,
    selection: Selection | None = None,
    published: PublishResult | None = None,
    rendered: int = 0,
    withheld: str = "",
) -> BuildReport:
    duplicates = selection.duplicates if selection else ()
    warnings = selection.warnings if selection else ()
    return BuildReport(
        records=read.records,
        accepted=len(read.entries),
        rejected=_count_rejected(read.diagnostics),
        duplicates=len(duplicates),
        drafts=selection.drafts if selection else 0,
        feeds=len(selection.plans) if selection else 0,
        written=published.written if published else (),
        unchanged=published.unchanged if published else (),
        removed=published.removed if published else (),
        parsed=read.parsed,
        rendered=rendered,
        diagnostics=tuple(
            sorted(read.diagnostics + duplicates + warnings, key=lambda d: (d.path, d.line))
        ),
        withheld=withheld,
    )


# --- the shortcut for builds with nothing new -----------------------------------------


def _input_stamp(
    options: BuildOptions, config: Config, files: list[RecordFile], probes: str
) -> str:
    """Changes whenever anything the build reads changes: records, definitions, options,
    learnt enclosure sizes."""
    digest = hashlib.blake2b()
    settings = (__version__, config, options.include_unpublished, options.strict, probes)
    settings += (options.max_record_bytes,)
    digest.update(repr(settings).encode("utf-8", "surrogatepass"))
    for f in files:
        digest.update(
            f"\n{f.path}\0{f.display}\0{f.size}\0{f.mtime_ns}".encode("utf-8", "surrogateescape")
        )
    return digest.hexdigest()


def _replay(cache: Cache, out: str, stamp: str, out_dir: Path) -> BuildReport | None:
    """The last build's report when its input is unchanged and its files are as it left them."""
    last = cache.last_build(out)
    if last is None or last[0] != stamp:
        return None
    outputs = cache.output_stamps(out)
    if not outputs or not all(s.matches(out_dir / f) for f, s in outputs.items()):
        return None
    try:
        report = _restore(last[1])
    except (KeyError, TypeError, ValueError):
        return None
    files = tuple(sorted(f for f in outputs if f not in _SITE_FILES))
    return replace(report, unchanged=files, parsed=0, rendered=0)


def _stamp_outputs(out_dir: Path, fingerprints: dict[str, str]) -> dict[str, OutputStamp]:
    stamps = {}
    for file, fingerprint in fingerprints.items():
        info = (out_dir / file).stat()
        stamps[file] = OutputStamp(fingerprint, info.st_size, info.st_mtime_ns)
    return stamps


def _storable(report: BuildReport) -> dict:
    stored = asdict(report)
    for key in (
        "written",
        "unchanged",
        "removed",
        "notices",
        "seconds",
        "parsed",
        "rendered",
        "timings",
        "announced",
        "push_failures",
        "probed",
    ):
        del stored[key]
    stored["diagnostics"] = [
        [d.path, d.line, d.message, d.severity.value] for d in report.diagnostics
    ]
    return stored


def _restore(stored: dict) -> BuildReport:
    diagnostics = tuple(
        Diagnostic(p, ln, m, Severity(s)) for p, ln, m, s in stored.pop("diagnostics")
    )
    return BuildReport(**stored, diagnostics=diagnostics)


# --- folders and the cache ---------------------------------------------------------------


def _require_folder(seeds: Path) -> None:
    if not seeds.is_dir():
        raise BuildError(f"{seeds}: no such folder of records")


def _require_cache_outside_output(options: BuildOptions) -> None:
    if options.cache is None:
        return
    cache, out = options.cache.resolve(), options.out.resolve()
    if cache == out or out in cache.parents:
        raise BuildError(f"{options.cache}: the cache may not be inside the output folder")


@contextmanager
def _open_cache(options: BuildOptions, config: Config) -> Iterator[Cache]:
    """The cache, or a throwaway one in a temporary folder for --no-cache."""
    settings = repr((parse_settings(config), options.max_record_bytes))
    with ExitStack() as stack:

        def scratch() -> Path:
            return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="feedloom-")))

        folder = options.cache if options.cache is not None else scratch()
        try:
            cache = Cache.open(folder, settings)
        except CacheError as exc:  # an unwritable cache folder: build, only without memory
            cache = Cache.open(scratch(), settings)
            cache.notices.append(f"{exc}; building without a cache")
        try:
            yield cache
        finally:
            cache.close()


def list_feeds(out: Path) -> list[FeedEntry]:
    """The feeds the last build published, from its manifest."""
    try:
        data = (out / MANIFEST).read_bytes()
    except OSError as exc:
        raise BuildError(
            f"{out / MANIFEST}: {exc.strerror or exc}; run 'feedloom build' first"
        ) from None
    return parse_manifest(data)


__all__ = [
    "BuildError",
    "BuildOptions",
    "BuildReport",
    "ConfigError",
    "ProbeReport",
    "ProbeSettings",
    "ReadReport",
    "build",
    "check",
    "list_feeds",
    "probe",
    "read_articles",
]
