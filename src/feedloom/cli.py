"""The command line: parses options, calls the library API, prints. No logic of its own."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click

from . import api, watch
from .config import ConfigError
from .diagnostics import Severity
from .formats import FORMATS
from .records import DEFAULT_MAX_BYTES
from .version import __version__

EXIT_FAILED, EXIT_USAGE = 1, 2
_PROGRESS_FROM = 500  # records; fewer finish before a bar would help


def _folder(must_exist: bool) -> click.Path:
    return click.Path(file_okay=False, path_type=Path, exists=must_exist)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedloom")
def main() -> None:
    """Publish RSS 2.0 and Atom 1.0 feeds from article records."""


_SEEDS = click.option(
    "--seeds", type=_folder(True), default="seeds", show_default=True, help="Folder of records."
)


def _feeds(must_exist: bool) -> Callable:
    return click.option(
        "--feeds",
        type=_folder(must_exist),
        default="feeds",
        show_default=True,
        help="Feed definitions.",
    )


_OUT = click.option(
    "--out", type=_folder(False), default="output", show_default=True, help="The output folder."
)
_MAX_RECORD_BYTES = click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Reject record files larger than this.",
)
_JOBS = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Worker processes  [default: one per CPU]"
)
_QUIET = click.option("-q", "--quiet", is_flag=True, help="Print only rejected records.")


@main.command()
@_SEEDS
@_feeds(must_exist=True)
@_OUT
@click.option("--base-url", help="URL the output folder is published at (overrides site.yaml).")
@click.option(
    "--limit", type=click.IntRange(min=0), help="Items per feed; 0 for all (overrides site.yaml)."
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(sorted(FORMATS)),
    help="Format to write; repeatable.",
)
@click.option(
    "--archive/--no-archive",
    default=None,
    help="Publish older items in archive documents (RFC 5005)  [default: as site.yaml says]",
)
@click.option(
    "--include-unpublished", is_flag=True, help="Publish records marked 'published: false' too."
)
@click.option("--strict", is_flag=True, help="Write nothing if any record is rejected (exit 1).")
@_MAX_RECORD_BYTES
@_JOBS
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=api.DEFAULT_CACHE,
    show_default=True,
    help="Folder of the build cache.",
)
@click.option("--no-cache", is_flag=True, help="Read and render everything; keep no cache.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for another build writing into the same output folder.",
)
@click.option(
    "--probe-enclosures",
    is_flag=True,
    help="First ask enclosure URLs for their size and type (as 'feedloom probe').",
)
@_QUIET
@click.option("-v", "--verbose", is_flag=True, help="Also list every file written and removed.")
@click.option(
    "--watch", "watching", is_flag=True, help="Rebuild whenever records or definitions change."
)
def build(**options) -> None:
    """Build every feed from the records."""
    quiet, verbose, watching = options.pop("quiet"), options.pop("verbose"), options.pop("watching")
    if options.pop("no_cache"):
        options["cache"] = None
    options["formats"] = options["formats"] or None
    build_options = api.BuildOptions(**options)
    if watching:
        _build_and_watch(build_options, quiet, verbose)
    with _failures(), _progress(enabled=not quiet) as progress:
        report = api.build(build_options, progress)
    _show(report, quiet, verbose)
    sys.exit(report.exit_status)


def _show(report: api.BuildReport, quiet: bool, verbose: bool) -> None:
    if not quiet:
        _print_notices(report.notices)
    _print_diagnostics(report.diagnostics, quiet)
    for failure in report.push_failures:
        click.echo(f"feedloom: warning: the WebSub hub was not told of {failure}", err=True)
    if report.probed is not None and not quiet:
        _print_probe(report.probed, verbose)
    if not report.published:
        click.echo(f"feedloom: {report.withheld}", err=True)
    elif verbose:
        for url in report.announced:
            click.echo(f"announced {url}")
        _print_files(report)
        if report.timings:
            click.echo(
                "time: " + ", ".join(f"{stage} {secs:.2f} s" for stage, secs in report.timings),
                err=True,
            )
    if not quiet:
        click.echo(_summary(report))


def _build_and_watch(options: api.BuildOptions, quiet: bool, verbose: bool) -> None:
    """Build, then rebuild on every change until Ctrl-C; mistakes are shown, not fatal."""

    def show(outcome: watch.Outcome) -> None:
        if isinstance(outcome, Exception):
            _explain(outcome)
        else:
            _show(outcome, quiet, verbose)

    since = watch.snapshot(options)
    show(watch.rebuild(options))
    click.echo(f"watching {options.seeds} and {options.feeds} (Ctrl-C to stop)", err=True)
    with suppress(KeyboardInterrupt):
        watch.watch(options, since, show, threading.Event())
    sys.exit(0)


@main.command()
@_SEEDS
@_feeds(must_exist=False)
@click.option("--strict", is_flag=True, help="Exit 1 instead of 3 when a record is rejected.")
@_MAX_RECORD_BYTES
@_QUIET
def check(seeds: Path, feeds: Path, strict: bool, max_record_bytes: int, quiet: bool) -> None:
    """Check the records without writing anything."""
    options = api.BuildOptions(seeds=seeds, feeds=feeds, max_record_bytes=max_record_bytes)
    with _failures():
        report = api.check(options)
    _print_diagnostics(report.diagnostics, quiet)
    if not quiet:
        click.echo(
            f"{report.records} records: {len(report.articles)} accepted, {report.rejected} rejected"
        )
    sys.exit(EXIT_FAILED if strict and report.rejected else report.exit_status)


@main.command()
@_SEEDS
@_feeds(must_exist=True)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=api.DEFAULT_CACHE,
    show_default=True,
    help="Folder of the build cache, where answers are kept.",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--per-host",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Seconds between two requests to one host.",
)
@click.option("--max-redirects", type=click.IntRange(min=0), default=5, show_default=True)
@click.option(
    "--max-age",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Days after which a URL is asked again.",
)
@click.option("--include-unpublished", is_flag=True, help="Probe drafts' enclosures too.")
@_MAX_RECORD_BYTES
@_JOBS
@click.option("-v", "--verbose", is_flag=True, help="List every URL that told no size.")
def probe(
    seeds: Path,
    feeds: Path,
    cache: Path,
    include_unpublished: bool,
    max_record_bytes: int,
    jobs: int | None,
    verbose: bool,
    **how,
) -> None:
    """Ask every enclosure URL for its true size and type; builds then use the answers."""
    settings = api.ProbeSettings(
        timeout=how["timeout"],
        concurrency=how["concurrency"],
        per_host=how["per_host"],
        max_redirects=how["max_redirects"],
        max_age=how["max_age"] * 86400,
    )
    options = api.BuildOptions(
        seeds=seeds,
        feeds=feeds,
        cache=cache,
        include_unpublished=include_unpublished,
        max_record_bytes=max_record_bytes,
        jobs=jobs,
        probing=settings,
    )
    with _failures():
        report = api.probe(options)
    _print_notices(report.notices)
    _print_probe(report, verbose)


def _print_probe(report: api.ProbeReport, verbose: bool) -> None:
    click.echo(
        f"{report.enclosures} enclosures: {report.asked} asked, "
        f"{report.enclosures - report.asked} answered before, {len(report.failed)} told no size"
    )
    if verbose:
        for failure in report.failed:
            click.echo(f"no size: {failure}", err=True)


@main.command(name="list")
@_OUT
def list_(out: Path) -> None:
    """List the published feeds, from the manifest."""
    with _failures():
        entries = api.list_feeds(out)
    width = max((len(f"{e.kind}/{e.slug}") for e in entries), default=0)
    for entry in entries:
        name = f"{entry.kind}/{entry.slug}"
        click.echo(f"{name:<{width}}  {entry.items:>5} items  newest {entry.newest}  {entry.title}")


@contextmanager
def _failures(*also: type[Exception]) -> Iterator[None]:
    """Turn the API's errors (and ``also``) into one clear line each and an exit status."""
    try:
        yield
    except (*watch.EXPECTED_ERRORS, *also) as exc:
        _explain(exc)
        sys.exit(EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED)


def _explain(error: Exception) -> None:
    """An error as the user sees it: each problem of a ConfigError, else one line."""
    problems = error.problems if isinstance(error, ConfigError) else [f"feedloom: {error}"]
    for problem in problems:
        click.echo(str(problem), err=True)


@contextmanager
def _progress(enabled: bool) -> Iterator[api.Progress | None]:
    """A progress bar on stderr for long runs, when stderr is a terminal."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    bars: list = []

    def update(done: int, total: int) -> None:
        if total < _PROGRESS_FROM:
            return
        if not bars:
            bars.append(click.progressbar(length=total, label="reading records", file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(done - bars[0].pos)

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def _print_notices(notices: tuple[str, ...]) -> None:
    for line in notices:
        click.echo(f"feedloom: {line}", err=True)


def _print_diagnostics(diagnostics, quiet: bool) -> None:
    for diagnostic in diagnostics:
        if not quiet or diagnostic.severity is Severity.ERROR:
            click.echo(str(diagnostic), err=True)


def _print_files(report: api.BuildReport) -> None:
    for path in report.written:
        click.echo(f"wrote {path}")
    for path in report.removed:
        click.echo(f"removed {path}")


def _summary(report: api.BuildReport) -> str:
    records = (
        f"{report.records} records ({report.parsed} parsed): {report.accepted} accepted, "
        f"{report.rejected} rejected"
    )
    if not report.published:
        return records
    files = len(report.written) + len(report.unchanged)
    return (
        f"{records}, {report.duplicates} duplicates, {report.drafts} drafts left out; "
        f"{report.feeds} feeds in {files} files: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; {report.seconds:.2f} s"
    )


@main.command()
@_OUT
@click.option(
    "--bind",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback exposes the folder to the network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 for any free one.",
)
@click.option("-q", "--quiet", is_flag=True, help="Log no requests.")
def serve(out: Path, bind: str, port: int, quiet: bool) -> None:
    """Preview the output folder over HTTP, until Ctrl-C."""
    from . import serve as preview  # only this command needs a web server

    def log(line: str) -> None:
        click.echo(line, err=True)

    with _failures(preview.ServeError):
        server = preview.make_server(out, bind, port, None if quiet else log)
    if preview.exposed(server):
        click.echo(f"feedloom: warning: {out} is exposed to the network on {bind}", err=True)
    click.echo(f"serving {out} at {preview.url(server)} (Ctrl-C to stop)")
    preview.run(server)
