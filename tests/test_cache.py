"""Incremental and parallel builds: the build cache, its invalidation, and byte-identical output.

Every test builds real record files in its own temporary folder, through the
library API or the command line, and judges the cache by what the builds
report (records parsed, files rendered and written), by the output files on
disk and, where the promise is about the cache itself, by the SQLite file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feedloom.ingest
import feedloom.render
from conftest import WriteRecord, article_fields, cli, files_in, record_text
from feedloom import BuildOptions, build
from feedloom.api import BuildReport

ROBOTS = {"name": "Robot Report", "domain": "robots.example.io"}
CACHE_FILE = "cache.sqlite"

# The 16 feed files three_records() gives, by the feeds each record is in.
FEEDS_OF_ONE = {"all", "topics/ai", "providers/news-example-com", "categories/news"}
FEEDS_OF_TWO = {"all", "topics/robotics", "providers/robots-example-io", "categories/research"}
FEEDS_OF_THREE = {
    "all",
    "topics/ai",
    "topics/computer-vision",
    "providers/news-example-com",
    "categories/news",
}
ALL_FEEDS = FEEDS_OF_ONE | FEEDS_OF_TWO | FEEDS_OF_THREE


# --- helpers -----------------------------------------------------------------


def files_of(feeds: set[str]) -> set[str]:
    return {f"{feed}.{suffix}" for feed in feeds for suffix in ("rss", "atom")}


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    options.setdefault("jobs", 1)
    return build(BuildOptions(seeds=seeds, feeds=feeds, out=out, **options))


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file below ``folder``."""
    stats = {p.relative_to(folder).as_posix(): p.stat() for p in folder.rglob("*") if p.is_file()}
    return {path: (s.st_ino, s.st_mtime_ns) for path, s in stats.items()}


def feeds_only(paths: Any) -> set[str]:
    """The feed files among ``paths`` (not the manifest, index page or OPML list)."""
    return {p for p in paths if p.endswith((".rss", ".atom"))}


def feed_files(out: Path) -> set[str]:
    return feeds_only(files_in(out))


def clean_build(seeds: Path, feeds: Path, folder: Path, **options: Any) -> dict[str, bytes]:
    """The files a build without any cache gives, in a fresh folder."""
    run(seeds, feeds, folder, cache=None, **options)
    return files_in(folder)


def cached_keys(cache: Path) -> set[str]:
    """The record keys (absolute paths; bytes for names that are not UTF-8), via sqlite3."""
    db = sqlite3.connect(cache / CACHE_FILE)
    try:
        return {os.fsdecode(key) for (key,) in db.execute("SELECT key FROM records")}
    finally:
        db.close()


def sql(cache: Path, statement: str) -> None:
    db = sqlite3.connect(cache / CACHE_FILE)
    try:
        with db:
            db.execute(statement)
    finally:
        db.close()


def bump_mtime(path: Path, seconds: int = 10) -> int:
    """Move a file's time forward (same bytes); returns the new mtime_ns."""
    info = path.stat()
    new = info.st_mtime_ns + seconds * 1_000_000_000
    os.utime(path, ns=(info.st_atime_ns, new))
    return new


def three_records(write_record: WriteRecord) -> None:
    """Two providers, two categories, topics AI / Robotics / Computer Vision: 16 files."""
    write_record("one.md", article_fields(1, topics=["AI"]))
    write_record(
        "two.md", article_fields(2, topics=["Robotics"], category="research", provider=ROBOTS)
    )
    write_record("three.md", article_fields(3, topics=["AI", "Computer Vision"]))


def edit_site(feeds: Path, **changes: str) -> None:
    """Replace top-level keys of site.yaml (values written as given)."""
    path = feeds / "site.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    for key, value in changes.items():
        matches = [i for i, line in enumerate(lines) if line.startswith(f"{key}:")]
        assert len(matches) == 1, key
        lines[matches[0]] = f"{key}: {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parsed_in(result: Result) -> int:
    """The 'N parsed' count of the CLI summary line."""
    line = result.stdout.strip().splitlines()[-1]
    return int(line.split("(", 1)[1].split(" parsed)", 1)[0])


# --- cache hits ----------------------------------------------------------------


def test_second_build_parses_renders_and_writes_nothing(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    first = run(seeds, feeds_dir, out, cache=cache)
    assert first.parsed == 3
    assert first.rendered == 16
    assert feeds_only(first.written) == files_of(ALL_FEEDS)
    before, contents = stamps(out), files_in(out)

    second = run(seeds, feeds_dir, out, cache=cache)
    assert second.parsed == 0
    assert second.rendered == 0
    assert second.written == ()
    assert second.removed == ()
    assert feeds_only(second.unchanged) == files_of(ALL_FEEDS)
    # The report of a build that did nothing still describes what is published.
    assert (second.records, second.accepted, second.feeds) == (3, 3, 8)
    assert stamps(out) == before  # inode and mtime_ns of every file, the manifest included
    assert files_in(out) == contents


def test_no_op_build_reports_the_files_the_build_before_reported(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    first = run(seeds, feeds_dir, out, cache=cache)
    bump_mtime(seeds / "one.md")
    incremental = run(seeds, feeds_dir, out, cache=cache)  # cached records, no shortcut
    replayed = run(seeds, feeds_dir, out, cache=cache)  # nothing new at all: the shortcut
    published = {*first.written, *first.unchanged}
    assert {*incremental.written, *incremental.unchanged} == published
    assert replayed.written == ()
    assert set(replayed.unchanged) == published


def test_cli_rebuild_reports_zero_parsed_and_zero_written(write_record, seeds, feeds_dir):
    three_records(write_record)
    first = cli("build")
    assert first.exit_code == 0, first.output
    assert "3 records (3 parsed)" in first.stdout
    files = first.stdout.split(" feeds in ")[1].split(" files")[0]
    second = cli("build")
    assert second.exit_code == 0, second.output
    assert "3 records (0 parsed)" in second.stdout
    assert f" feeds in {files} files: 0 written, {files} unchanged, 0 removed" in second.stdout


def test_cached_build_repeats_the_diagnostics_and_exit_status(write_record, seeds, feeds_dir):
    three_records(write_record)
    write_record("bad.md", text="---\ntitle: No link here\n---\n")
    write_record("dup.md", article_fields(1, title="Article 1, a copy"))  # same link as one.md
    first = cli("build")
    assert first.exit_code == 3
    assert "bad.md" in first.stderr
    replayed = cli("build")  # nothing changed: the shortcut
    bump_mtime(seeds / "three.md")
    incremental = cli("build")  # a record's time changed: cached results, no shortcut
    for later in (replayed, incremental):
        assert later.exit_code == 3
        assert later.stderr == first.stderr
        assert parsed_in(later) == 0
        summary = first.stdout.split("; ")[0]  # records, rejected, duplicates, drafts
        assert later.stdout.split("; ")[0] == summary.replace("(5 parsed)", "(0 parsed)")


def test_two_output_folders_share_the_parsed_records(write_record, seeds, feeds_dir, tmp_path):
    three_records(write_record)
    cache = tmp_path / "cache"
    run(seeds, feeds_dir, tmp_path / "a", cache=cache)
    other = run(seeds, feeds_dir, tmp_path / "b", cache=cache)
    assert other.parsed == 0  # the records are known
    assert feeds_only(other.written) == files_of(ALL_FEEDS)  # but these files were never written
    again = run(seeds, feeds_dir, tmp_path / "a", cache=cache)
    assert (again.parsed, again.rendered, again.written) == (0, 0, ())
    assert files_in(tmp_path / "a") == files_in(tmp_path / "b")


def test_seeds_folders_sharing_a_cache_never_show_each_others_articles(
    feeds_dir, tmp_path, monkeypatch
):
    """Two projects, one cache, records at the same relative paths: each feed shows its own."""
    cache = tmp_path / "cache"
    options = BuildOptions(seeds=Path("seeds"), feeds=feeds_dir, out=Path("out"), cache=cache)

    def build_project(name: str, titles: dict[int, str]) -> None:
        (tmp_path / name / "seeds").mkdir(parents=True, exist_ok=True)
        for n, title in titles.items():
            fields = article_fields(n, title=title)
            (tmp_path / name / "seeds" / f"{n}.md").write_text(record_text(fields))
        monkeypatch.chdir(tmp_path / name)
        assert build(replace(options, jobs=1)).exit_status == 0

    build_project("p1", {1: "p1 one", 2: "p1 two"})
    build_project("p2", {1: "p2 one", 2: "p2 two"})
    build_project("p1", {2: "p1 two, edited"})  # p1's seeds/2.md is the newer row now
    build_project("p2", {1: "p2 one, edited"})  # p2's feeds render again, with its seeds/2.md
    items = ElementTree.parse(tmp_path / "p2/out/all.rss").iter("item")
    titles = [item.findtext("title") for item in items]
    assert titles == ["p2 two", "p2 one, edited"]


# --- record changes -----------------------------------------------------------------


def test_editing_a_title_reparses_one_record_and_rewrites_only_its_feeds(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    before = stamps(out)
    write_record("one.md", article_fields(1, topics=["AI"], title="Article 1, revised"))
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert report.rendered == len(files_of(FEEDS_OF_ONE))
    assert feeds_only(report.written) == files_of(FEEDS_OF_ONE)
    assert feeds_only(report.unchanged) == files_of(ALL_FEEDS - FEEDS_OF_ONE)
    after = stamps(out)
    assert feeds_only(p for p in after if after[p] != before[p]) == files_of(FEEDS_OF_ONE)
    assert b"Article 1, revised" in (out / "all.rss").read_bytes()
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_touching_a_record_parses_nothing_and_writes_nothing(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    before = stamps(out)
    new_mtime = bump_mtime(seeds / "two.md")
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0  # size equal, time not: the content hash matched
    assert report.rendered == 0
    assert report.written == ()
    assert stamps(out) == before
    # The cache learned the new time, so the file need not be hashed again.
    db = sqlite3.connect(cache / CACHE_FILE)
    try:
        rows = db.execute("SELECT key, mtime_ns FROM records").fetchall()
    finally:
        db.close()
    assert {mtime for key, mtime in rows if os.fsdecode(key).endswith("/two.md")} == {new_mtime}


def test_same_size_edit_is_caught_by_the_content_hash(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    path = seeds / "two.md"
    text = path.read_text()
    path.write_text(text.replace("Article 2", "Brticle 2"))
    assert path.stat().st_size == len(text.encode())
    bump_mtime(path)  # a time surely different from the one the cache saw
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert feeds_only(report.written) == files_of(FEEDS_OF_TWO)
    assert b"Brticle 2" in (out / "topics" / "robotics.atom").read_bytes()


def test_size_change_under_the_old_time_is_reparsed(write_record, seeds, feeds_dir, out):
    # Tools that keep times (cp -p, rsync -t, archive extraction) can change a file
    # without changing its mtime: the size alone must then be enough.
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    path = seeds / "two.md"
    old = path.stat()
    write_record(
        "two.md",
        article_fields(2, topics=["Robotics"], category="research", provider=ROBOTS, title="Two"),
    )
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert path.stat().st_size != old.st_size
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert b"<title>Two</title>" in (out / "all.rss").read_bytes()


def test_editing_only_the_body_reparses_but_renders_and_writes_nothing(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    before = stamps(out)
    write_record("one.md", text=record_text(article_fields(1, topics=["AI"]), "A body.\n" * 20))
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert report.rendered == 0  # the article is what it was: no feed's fingerprint changed
    assert report.written == ()
    assert stamps(out) == before


def test_deleting_a_record_updates_its_feeds_and_the_cache_forgets_it(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    assert {Path(k).name for k in cached_keys(cache)} == {"one.md", "two.md", "three.md"}
    (seeds / "two.md").unlink()
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0
    assert (report.records, report.accepted) == (2, 2)
    gone = FEEDS_OF_TWO - {"all"}
    assert set(report.removed) == files_of(gone)
    assert feeds_only(report.written) == files_of({"all"})
    assert b"Article 2" not in (out / "all.rss").read_bytes()
    assert {Path(k).name for k in cached_keys(cache)} == {"one.md", "three.md"}
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_renaming_a_record_publishes_it_once_and_forgets_the_old_name(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    (seeds / "one.md").rename(seeds / "renamed.md")
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert (report.records, report.accepted, report.duplicates) == (3, 3, 0)
    assert report.diagnostics == ()  # no 'duplicate of one.md' notice
    assert (out / "all.rss").read_bytes().count(b"<link>https://news.example.com/articles/1<") == 1
    assert files_in(out) == contents  # the same article, published the same way
    assert {Path(k).name for k in cached_keys(cache)} == {"renamed.md", "two.md", "three.md"}


def test_adding_a_record_parses_only_it(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    write_record("four.md", article_fields(4, topics=["Robotics"], category="research"))
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 1
    assert feeds_only(report.written) == files_of(
        {"all", "topics/robotics", "categories/research", "providers/news-example-com"}
    )
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


# --- settings ------------------------------------------------------------------------


def test_changing_record_base_url_reparses_every_record_with_the_new_setting(
    write_record, seeds, feeds_dir, out
):
    for n in (1, 2, 3):
        write_record(f"r{n}.md", article_fields(n, images=[{"url": f"/img/{n}.jpg"}]))
    cache = out.parent / "cache"
    edit_site(feeds_dir, record_base_url='"https://old.example.net/"')
    first = run(seeds, feeds_dir, out, cache=cache)
    assert b"https://old.example.net/img/1.jpg" in (out / "all.rss").read_bytes()
    assert first.parsed == 3
    edit_site(feeds_dir, record_base_url='"https://new.example.net/"')
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 3
    assert any("settings" in notice for notice in report.notices), report.notices
    data = (out / "all.rss").read_bytes()
    assert b"https://new.example.net/img/1.jpg" in data
    assert b"old.example.net" not in data
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_changing_max_record_bytes_reparses_every_record(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    write_record("big.md", article_fields(4, excerpt="long " * 400))
    cache = out.parent / "cache"
    small = run(seeds, feeds_dir, out, cache=cache, max_record_bytes=1500)
    assert (small.parsed, small.rejected) == (4, 1)
    report = run(seeds, feeds_dir, out, cache=cache)
    assert (report.parsed, report.rejected, report.accepted) == (4, 0, 4)
    assert b"Article 4" in (out / "all.rss").read_bytes()


def test_changing_the_limit_parses_nothing_and_rewrites_only_the_longer_feeds(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    edit_site(feeds_dir, limit="1")
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0
    assert report.rendered == 16  # a site setting is part of every file's fingerprint
    # Only feeds that held more than one item change.
    longer = {"all", "topics/ai", "providers/news-example-com", "categories/news"}
    assert feeds_only(report.written) == files_of(longer)
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_changing_the_site_title_parses_nothing_and_rewrites_every_feed(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    edit_site(feeds_dir, title='"Machines Daily"')
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0
    assert feeds_only(report.written) == files_of(ALL_FEEDS)
    assert b"Machines Daily" in (out / "topics" / "robotics.rss").read_bytes()
    assert b"Machines Daily" in (out / "feeds.json").read_bytes()
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_changing_one_family_rewrites_only_its_feeds(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    path = feeds_dir / "topics.yaml"
    path.write_text(path.read_text().replace('title: "{site}: {label}"', 'title: "About {label}"'))
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0
    topics = {"topics/ai", "topics/robotics", "topics/computer-vision"}
    assert report.rendered == len(files_of(topics))
    assert feeds_only(report.written) == files_of(topics)
    assert b"About Robotics" in (out / "topics" / "robotics.atom").read_bytes()


def test_include_unpublished_is_not_answered_from_the_last_build(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    write_record("draft.md", article_fields(9, title="A draft", published=False))
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    assert b"A draft" not in (out / "all.rss").read_bytes()
    report = run(seeds, feeds_dir, out, cache=cache, include_unpublished=True)
    assert report.parsed == 0
    assert "all.rss" in report.written
    assert b"A draft" in (out / "all.rss").read_bytes()


# --- identity: version, schema, python, settings ------------------------------------


@pytest.mark.parametrize("name", ["feedloom", "schema", "python", "settings"])
def test_cache_of_another_identity_is_emptied_with_a_notice(
    name, write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    sql(cache, f"UPDATE meta SET value = '0.0.0-old' WHERE name = '{name}'")
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 3
    assert report.rendered == 16  # nothing rendered by another version is trusted
    assert len(report.notices) == 1
    assert name in report.notices[0] and "cache" in report.notices[0]
    assert files_in(out) == contents
    again = run(seeds, feeds_dir, out, cache=cache)
    assert (again.parsed, again.notices) == (0, ())


def test_version_change_through_the_cli_prints_a_notice(write_record, seeds, feeds_dir):
    three_records(write_record)
    cli("build")
    sql(Path(".feedloom"), "UPDATE meta SET value = '0.0.0-old' WHERE name = 'feedloom'")
    result = cli("build")
    assert result.exit_code == 0
    assert parsed_in(result) == 3
    notices = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(notices) == 1 and "feedloom" in notices[0], result.stderr


# --- damaged or missing cache ----------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:4096])


def _half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _sqlite_header_then_garbage(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xa5" * (len(data) - 100))


@pytest.mark.parametrize(
    "damage", [_garbage, _header_only, _half, _sqlite_header_then_garbage], ids=lambda f: f.__name__
)
def test_damaged_cache_file_is_replaced_with_a_notice(damage, write_record, seeds, feeds_dir):
    three_records(write_record)
    assert cli("build", "--cache", "cache").exit_code == 0
    damage(Path("cache") / CACHE_FILE)
    # Change a record too, so that a build which trusted stale data would show it.
    write_record("one.md", article_fields(1, topics=["AI"], title="Article 1, revised"))
    result = cli("build", "--cache", "cache")
    assert result.exit_code == 0, result.output
    assert parsed_in(result) == 3
    notices = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(notices) == 1, result.stderr
    assert notices[0].startswith("feedloom: ")
    assert files_in(Path("output")) == clean_build(seeds, feeds_dir, Path("clean"))
    again = cli("build", "--cache", "cache")  # and the new cache works
    assert (again.exit_code, parsed_in(again), again.stderr) == (0, 0, "")


def test_undecodable_cache_rows_are_replaced_with_a_notice(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    sql(cache, "UPDATE records SET entry = X'00', article = X'00'")
    write_record("two.md", article_fields(2, topics=["Robotics"], title="Article 2, revised"))
    report = run(seeds, feeds_dir, out, cache=cache)
    assert any("cache" in notice for notice in report.notices), report.notices
    assert report.parsed == 3
    assert files_in(out) == clean_build(seeds, feeds_dir, out.parent / "clean")


def test_folder_in_place_of_the_cache_file_is_no_crash(write_record, seeds, feeds_dir):
    three_records(write_record)
    (Path("cache") / CACHE_FILE).mkdir(parents=True)
    result = cli("build", "--cache", "cache")  # a traceback fails in cli()
    assert result.exit_code in (0, 1), result.output
    assert "cache" in result.stderr


def test_missing_cache_folder_is_created(write_record, seeds, feeds_dir, tmp_path):
    three_records(write_record)
    cache = tmp_path / "deep" / "er" / "cache"
    result = cli("build", "--cache", str(cache))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # a cache that was never there needs no notice
    assert (cache / CACHE_FILE).is_file()
    assert parsed_in(cli("build", "--cache", str(cache))) == 0


def test_deleted_cache_folder_means_everything_is_read_again(write_record, seeds, feeds_dir):
    three_records(write_record)
    cli("build")
    before = stamps(Path("output"))
    shutil.rmtree(".feedloom")
    result = cli("build")
    assert result.exit_code == 0
    assert parsed_in(result) == 3
    assert ": 0 written," in result.stdout
    assert stamps(Path("output")) == before


# --- where the cache lives -----------------------------------------------------------------


def test_default_cache_is_dot_feedloom_in_the_current_folder_and_not_published(
    write_record, seeds, feeds_dir, tmp_path
):
    three_records(write_record)
    assert cli("build").exit_code == 0
    assert (tmp_path / ".feedloom" / CACHE_FILE).is_file()
    published = files_in(tmp_path / "output")
    assert not any(".feedloom" in p or "sqlite" in p for p in published)


def test_cache_option_puts_the_database_there(write_record, seeds, feeds_dir, tmp_path):
    three_records(write_record)
    assert cli("build", "--cache", "elsewhere/c").exit_code == 0
    assert (tmp_path / "elsewhere" / "c" / CACHE_FILE).is_file()
    assert not (tmp_path / ".feedloom").exists()


def test_no_cache_keeps_no_cache_and_gives_the_same_output(
    write_record, seeds, feeds_dir, tmp_path
):
    three_records(write_record)
    first = cli("build", "--no-cache", "--out", "plain")
    assert first.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds", "plain", "seeds"]
    assert parsed_in(cli("build", "--no-cache", "--out", "plain")) == 3  # every time
    assert cli("build", "--out", "cached").exit_code == 0
    assert files_in(tmp_path / "plain") == files_in(tmp_path / "cached")


def test_no_cache_leaves_an_existing_cache_alone(write_record, seeds, feeds_dir, tmp_path):
    three_records(write_record)
    cli("build")
    cache = stamps(tmp_path / ".feedloom")
    write_record("one.md", article_fields(1, topics=["AI"], title="Article 1, revised"))
    result = cli("build", "--no-cache")
    assert result.exit_code == 0
    assert b"Article 1, revised" in (tmp_path / "output" / "all.rss").read_bytes()
    assert stamps(tmp_path / ".feedloom") == cache


@pytest.mark.parametrize(
    "where", ["output", "output/cache", "./output/.cache", "sub/../output/cache", "link/cache"]
)
def test_cache_inside_the_output_folder_is_refused(where, write_record, seeds, feeds_dir, tmp_path):
    three_records(write_record)
    (tmp_path / "sub").mkdir()
    (tmp_path / "output").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "output", target_is_directory=True)
    result = cli("build", "--cache", where)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cache" in lines[0] and "output" in lines[0], result.stderr
    assert list((tmp_path / "output").iterdir()) == []  # nothing written, no cache made there


# --- what the cache holds ----------------------------------------------------------------


def test_cache_never_holds_secured_values_unknown_fields_or_bodies(
    write_record, seeds, feeds_dir, tmp_path
):
    secrets = [
        "SECURED-7f3a9c-TOP-LEVEL",
        "UNKNOWN-FIELD-51d2e8",
        "NESTED-PROVIDER-SECRET-0b94",
        "IMAGE-CREDIT-UNKNOWN-4c1d",
        "BODY-TEXT-NOT-PUBLISHED-88e1",
        "SECURED-OF-A-REJECTED-RECORD-2af0",
    ]
    for n in (1, 2):
        fields = article_fields(
            n,
            secured=secrets[0],
            internalNote=secrets[1],
            provider={"name": "Example News", "domain": "news.example.com", "token": secrets[2]},
            images=[{"url": f"https://img.example.com/{n}.jpg", "credit": secrets[3]}],
        )
        write_record(f"r{n}.md", text=record_text(fields, f"{secrets[4]}\n"))
    write_record("rejected.md", {"title": "No link", "secured": secrets[5]})
    cache = tmp_path / "cache"
    report = run(seeds, feeds_dir, tmp_path / "output", cache=cache)
    assert (report.accepted, report.rejected) == (2, 1)
    # The cache did store the records: their published fields are there.
    raw = b"".join(files_in(cache).values())
    assert b"Article 1" in raw and b"Example News" in raw
    for secret in secrets:
        assert secret.encode() not in raw, secret


# --- serial and parallel -----------------------------------------------------------------

TOPICS = ["AI", "Robotics", "Computer Vision", "Healthcare", "Chips", "Language", "Policy", "Law"]
PROVIDERS = [(f"Provider {i}", f"p{i}.example.com") for i in range(5)]
CATEGORIES = ["news", "research", "opinion"]


def many_records(seeds: Path, count: int = 600) -> None:
    """``count`` records in subfolders: 8 topics, 5 providers, 3 categories (34 feed files),
    with some duplicates (same link) and some rejected records (no link)."""
    for n in range(count):
        name, domain = PROVIDERS[n % 5]
        fields = article_fields(
            n,
            topics=sorted({TOPICS[n % 8], TOPICS[(n * 3 + 1) % 8]}),
            provider={"name": name, "domain": domain},
            category=CATEGORIES[n % 3],
            publishedDateTime=f"2021-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:{n % 7}0:00Z",
        )
        if n % 97 == 50:
            fields["webUrl"] = f"https://news.example.com/articles/{n - 50}"  # a duplicate
        if n % 151 == 7:
            del fields["webUrl"]  # rejected
        path = seeds / f"batch-{n // 100}" / f"rec-{n:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record_text(fields))


def test_serial_and_parallel_builds_give_byte_identical_output(
    seeds, feeds_dir, tmp_path, monkeypatch
):
    many_records(seeds)
    log = tmp_path / "workers.log"
    parse, write = feedloom.ingest._parse, feedloom.render.write_files

    def logged_parse(*args: Any, **kwargs: Any) -> Any:
        with open(log, "a") as stream:
            stream.write(f"parse {os.getpid()}\n")
        return parse(*args, **kwargs)

    def logged_write(*args: Any, **kwargs: Any) -> Any:
        with open(log, "a") as stream:
            stream.write(f"render {os.getpid()}\n")
        return write(*args, **kwargs)

    monkeypatch.setattr(feedloom.ingest, "_parse", logged_parse)
    monkeypatch.setattr(feedloom.render, "write_files", logged_write)

    serial = run(seeds, feeds_dir, tmp_path / "serial", cache=tmp_path / "c1", jobs=1)
    assert {line.split()[1] for line in log.read_text().splitlines()} == {str(os.getpid())}
    log.unlink()
    parallel = run(seeds, feeds_dir, tmp_path / "parallel", cache=tmp_path / "c2", jobs=2)
    lines = [line.split() for line in log.read_text().splitlines()]
    log.unlink()
    # The work really was done in worker processes: 600 records, 34 files.
    assert sum(stage == "parse" for stage, _ in lines) == 600
    assert sum(stage == "render" for stage, _ in lines) >= 2  # 34 files, in parts
    assert str(os.getpid()) not in {pid for _, pid in lines}
    uncached = run(seeds, feeds_dir, tmp_path / "uncached", cache=None, jobs=2)

    assert serial.parsed == parallel.parsed == 600
    assert serial.duplicates > 0 and serial.rejected > 0
    assert len(feed_files(tmp_path / "serial")) == 34
    reference = files_in(tmp_path / "serial")
    assert files_in(tmp_path / "parallel") == reference
    assert files_in(tmp_path / "uncached") == reference
    assert (parallel.written, parallel.unchanged) == (serial.written, serial.unchanged)
    for report in (parallel, uncached):
        assert report.diagnostics == serial.diagnostics
        assert (report.accepted, report.rejected, report.duplicates) == (
            serial.accepted,
            serial.rejected,
            serial.duplicates,
        )

    # An incremental parallel build agrees with a clean serial one.
    path = seeds / "batch-3" / "rec-0333.md"
    path.write_text(path.read_text().replace("Article 333", "Article 333, revised"))
    incremental = run(seeds, feeds_dir, tmp_path / "parallel", cache=tmp_path / "c2", jobs=2)
    assert incremental.parsed == 1
    assert 0 < len(incremental.written) < 34
    assert files_in(tmp_path / "parallel") == clean_build(
        seeds, feeds_dir, tmp_path / "clean", jobs=1
    )


# --- the shortcut for builds with nothing new ---------------------------------------------


def test_deleted_output_file_is_restored(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    (out / "topics" / "robotics.rss").unlink()
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.written == ("topics/robotics.rss",)
    assert files_in(out) == contents


def test_deleted_manifest_is_restored(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    (out / "feeds.json").unlink()
    run(seeds, feeds_dir, out, cache=cache)
    assert files_in(out) == contents


def test_deleted_output_folder_is_written_again(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    shutil.rmtree(out)
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.parsed == 0
    assert feeds_only(report.written) == files_of(ALL_FEEDS)
    assert files_in(out) == contents


@pytest.mark.parametrize("same_size", [False, True], ids=["appended", "same-size"])
def test_output_file_changed_by_hand_is_rewritten(same_size, write_record, seeds, feeds_dir, out):
    three_records(write_record)
    cache = out.parent / "cache"
    run(seeds, feeds_dir, out, cache=cache)
    contents = files_in(out)
    target = out / "topics" / "ai.atom"
    data = target.read_bytes()
    target.write_bytes(data.replace(b"Article", b"Brticle") if same_size else data + b"<!-- -->")
    bump_mtime(target)
    report = run(seeds, feeds_dir, out, cache=cache)
    assert report.written == ("topics/ai.atom",)
    assert files_in(out) == contents


# --- strict and the shortcut ---------------------------------------------------------------


def test_strict_build_after_a_published_one_still_refuses(write_record, seeds, feeds_dir):
    three_records(write_record)
    write_record("bad.md", text="---\ntitle: No link here\n---\n")
    assert cli("build").exit_code == 3
    strict = cli("build", "--strict")
    assert strict.exit_code == 1, strict.output
    assert "nothing written (--strict)" in strict.stderr


# --- names the cache must store -----------------------------------------------------------


def test_record_with_an_undecodable_file_name_is_built(write_record, seeds, feeds_dir):
    three_records(write_record)
    name = os.fsencode(seeds) + b"/caf\xe9.md"
    try:
        with open(name, "wb") as stream:
            stream.write(record_text(article_fields(7, title="Cafe")).encode())
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    result = cli("build")  # a traceback fails in cli()
    assert result.exit_code == 0, result.output
    assert b"Cafe" in Path("output/all.rss").read_bytes()


# --- property: an incremental build equals a clean one ----------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["title", "topic", "body", "touch", "delete", "add", "rename"]),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS)
def test_incremental_build_equals_a_clean_build_after_any_edits(operations, feeds_dir, tmp_path):
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    seeds, out, cache = base / "seeds", base / "out", base / "cache"
    seeds.mkdir()
    clock = [1_600_000_000 * 10**9]

    def write(name: str, fields: dict[str, Any], body: str = "") -> bool:
        """Write a record; True when its bytes are new for this name."""
        path = seeds / name
        text = record_text(fields, body)
        new = not path.exists() or path.read_text() != text
        path.write_text(text)
        stamp(path)
        return new

    def stamp(path: Path) -> None:  # a time the cache has surely not seen for this file
        clock[0] += 10**9
        os.utime(path, ns=(clock[0], clock[0]))

    records: dict[str, dict[str, Any]] = {}
    for n in range(3):
        records[f"r{n}.md"] = article_fields(n, topics=[TOPICS[n]])
        write(f"r{n}.md", records[f"r{n}.md"])
    run(seeds, feeds_dir, out, cache=cache)
    serial = 100
    for step, (operation, index) in enumerate(operations):
        names = sorted(records)
        name = names[index % len(names)]
        changed = 0  # records whose bytes this step changes (or that are new)
        if operation == "title":
            records[name]["title"] += " (revised)"
            changed = write(name, records[name])
        elif operation == "topic":
            records[name]["topics"] = [TOPICS[(index + step) % len(TOPICS)]]
            changed = write(name, records[name])
        elif operation == "body":
            changed = write(name, records[name], f"body {step}\n")
        elif operation == "touch":
            stamp(seeds / name)
        elif operation == "delete" and len(records) > 1:
            del records[name]
            (seeds / name).unlink()
        elif operation == "add":
            serial += 1
            records[f"n{serial}.md"] = article_fields(serial, topics=[TOPICS[index]])
            changed = write(f"n{serial}.md", records[f"n{serial}.md"])
        elif operation == "rename":
            serial += 1
            records[f"m{serial}.md"] = records.pop(name)
            (seeds / name).rename(seeds / f"m{serial}.md")
            changed = 1  # a new name is a new record to the cache
        report = run(seeds, feeds_dir, out, cache=cache)
        reference = base / f"clean-{step}"
        expected = run(seeds, feeds_dir, reference, cache=None)
        assert files_in(out) == files_in(reference), (step, operation)
        assert report.diagnostics == expected.diagnostics
        assert report.parsed == int(changed), (step, operation)
