"""The library API: what the command line and the tests call.

``build`` runs the pipeline: read records -> normalise into articles -> select
articles into feeds -> render each feed in each format -> publish files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .articles import Article, ParseSettings, normalise
from .config import SITE_FILE, Config, ConfigError, Overrides, load_config
from .diagnostics import Diagnostic, Severity
from .formats import FORMATS, OutputFormat
from .manifest import MANIFEST, FeedEntry, entry_for, parse_manifest, render_manifest
from .publish import OutputFile, PublishResult, publish
from .records import DEFAULT_MAX_BYTES, discover, display_path, read_record
from .select import Selection, select

Progress = Callable[[int, int], None]
"""Called with (records done, records in all) while records are read."""


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
    include_unpublished: bool = False
    strict: bool = False
    max_record_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class ReadReport:
    """What reading and normalising the records gave."""

    records: int
    articles: tuple[Article, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def rejected(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)


@dataclass(frozen=True, slots=True)
class BuildReport:
    read: ReadReport
    selection: Selection | None = None
    published: PublishResult | None = None
    seconds: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    """Every message of the build, in the order of the files."""
    withheld: str = ""
    """Why nothing was published, when nothing was."""

    @property
    def exit_status(self) -> int:
        """0: all accepted; 3: published, some records rejected; 1: nothing published."""
        if self.published is None:
            return 1
        return 3 if self.read.rejected else 0


def read_articles(
    seeds: Path,
    settings: ParseSettings | None = None,
    max_record_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> ReadReport:
    """Read and normalise every record below ``seeds``."""
    if not seeds.is_dir():
        raise BuildError(f"{seeds}: no such folder of records")
    paths = discover(seeds)
    articles: list[Article] = []
    diagnostics: list[Diagnostic] = []
    for done, path in enumerate(paths, start=1):
        record = read_record(path, display_path(seeds, path, str(seeds)), max_record_bytes)
        if isinstance(record, Diagnostic):
            diagnostics.append(record)
        else:
            result = normalise(record, settings)
            diagnostics.extend(result.diagnostics)
            if result.article is not None:
                articles.append(result.article)
        if progress:
            progress(done, len(paths))
    return ReadReport(len(paths), tuple(articles), tuple(diagnostics))


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
    overrides = Overrides(options.base_url, options.limit, options.formats)
    return load_config(options.feeds, FORMATS, overrides)


def parse_settings(config: Config) -> ParseSettings:
    return ParseSettings(record_base_url=config.site.record_base_url)


def build(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build every feed; raises ConfigError or BuildError before writing anything."""
    started = time.perf_counter()
    config = configure(options)
    read = read_articles(options.seeds, parse_settings(config), options.max_record_bytes, progress)
    if read.records == 0:
        raise BuildError(f"{options.seeds}: no records found; refusing to publish empty feeds")
    if options.strict and read.rejected:
        why = f"{read.rejected} record(s) rejected: nothing written (--strict)"
        return BuildReport(read, diagnostics=read.diagnostics, withheld=why)
    selection = select(read.articles, config, include_drafts=options.include_unpublished)
    diagnostics = _in_file_order(read.diagnostics + selection.duplicates)
    if not selection.plans:
        why = "no article to publish: the published feeds are kept as they are"
        return BuildReport(read, selection, diagnostics=diagnostics, withheld=why)
    formats = [FORMATS[name] for name in config.site.formats]
    files = _render(selection, config, formats)
    manifest = render_manifest(entry_for(plan, formats) for plan in selection.plans)
    published = publish(options.out, files, manifest)
    return BuildReport(
        read, selection, published, time.perf_counter() - started, diagnostics=diagnostics
    )


def _render(
    selection: Selection, config: Config, formats: list[OutputFormat]
) -> Iterator[OutputFile]:
    for plan in selection.plans:
        for output in formats:
            yield OutputFile(output.file_for(plan), output.render(plan, config.site))


def _in_file_order(diagnostics: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diagnostics, key=lambda d: (d.path, d.line)))


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
    "ReadReport",
    "build",
    "check",
    "list_feeds",
    "read_articles",
]
