"""End-to-end tests of the command line: click's CliRunner in a project folder, and processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import Result

import feedloom
from conftest import BASE_URL, SHIPPED_SEEDS, article_fields, cli, files_in

SUMMARY = re.compile(
    r"(?P<records>\d+) records \((?P<parsed>\d+) parsed\): "
    r"(?P<accepted>\d+) accepted, (?P<rejected>\d+) rejected, "
    r"(?P<duplicates>\d+) duplicates, (?P<drafts>\d+) drafts left out; "
    r"(?P<feeds>\d+) feeds in (?P<files>\d+) files: (?P<written>\d+) written, "
    r"(?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed; (?P<seconds>\d+\.\d+) s"
)
# seeds/bad.md: a YAML syntax error on line 4 of the file.
YAML_ERROR_ON_LINE_4 = (
    "---\n"
    'title: "Broken"\n'
    "publishedDateTime: 2021-03-01T09:00:00Z\n"
    "excerpt: this: breaks\n"
    "webUrl: https://news.example.com/articles/broken\n"
    "---\n"
)


# --- helpers -----------------------------------------------------------------


@pytest.fixture
def project(seeds: Path, feeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current folder, holding seeds/ (empty) and feeds/ (the shipped ones)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def good_records(write_record) -> None:
    write_record("one.md", article_fields(1))
    write_record("two.md", article_fields(2, topics=["Robotics"]))


def manifest(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "feeds.json").read_text(encoding="utf-8"))["feeds"]


def feed_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.suffix in (".rss", ".atom")}


def titles(path: Path) -> list[str]:
    return [e.title for e in feedparser.parse(path.read_bytes()).entries]


def self_link(path: Path) -> str:
    links = feedparser.parse(path.read_bytes()).feed.links
    return next(link.href for link in links if link.rel == "self")


def summary(result: Result) -> dict[str, str]:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = SUMMARY.fullmatch(lines[0])
    assert match, lines[0]
    return match.groupdict()


# --- build: defaults, summary, exit status ------------------------------------


def test_build_without_options_reads_seeds_and_feeds_and_writes_output(project, write_record):
    good_records(write_record)
    result = cli("build")
    assert result.exit_code == 0, result.output
    assert titles(project / "output" / "all.rss") == ["Article 2", "Article 1"]
    assert (project / "output" / "topics" / "robotics.atom").is_file()
    assert result.stderr == ""


def test_summary_counts_records_duplicates_drafts_and_files(project, write_record):
    write_record("one.md", article_fields(1))
    robots = {"name": "Robot Report", "domain": "robots.example.io"}
    write_record(
        "two.md", article_fields(2, topics=["Robotics"], category="research", provider=robots)
    )
    # A later copy of article 1 (it wins), a draft and a rejected record.
    write_record("copy.md", article_fields(3, webUrl="https://news.example.com/articles/1"))
    write_record("draft.md", article_fields(4, published=False))
    write_record("bad.md", text=YAML_ERROR_ON_LINE_4)
    first = summary(cli("build"))
    assert first | {"seconds": ""} == {
        "records": "5",
        "parsed": "5",
        "accepted": "4",
        "rejected": "1",
        "duplicates": "1",
        "drafts": "1",
        "feeds": "7",  # all; topics ai, robotics; 2 providers; categories news, research
        "files": "14",
        "written": "14",
        "unchanged": "0",
        "removed": "0",
        "seconds": "",
    }
    (project / "seeds" / "two.md").unlink()
    second = summary(cli("build"))
    assert second | {"seconds": ""} == first | {
        "records": "4",
        "parsed": "0",  # the other four come from the cache
        "accepted": "3",
        "feeds": "4",
        "files": "8",
        "written": "2",  # all.rss, all.atom
        "unchanged": "6",  # topics/ai, providers/news-example-com, categories/news
        "removed": "6",  # topics/robotics, providers/robots-example-io, categories/research
        "seconds": "",
    }


def test_strict_exits_1_and_writes_nothing(project, write_record):
    good_records(write_record)
    write_record("bad.md", text=YAML_ERROR_ON_LINE_4)
    result = cli("build", "--strict")
    assert result.exit_code == 1
    assert "seeds/bad.md:4: " in result.stderr
    assert not (project / "output").exists()


@pytest.mark.parametrize(
    "args",
    [("--bogus",), ("--limit", "-1"), ("--format", "xml")],
    ids=["unknown-option", "negative-limit", "unknown-format"],
)
def test_usage_errors_exit_2_and_write_nothing(project, write_record, args):
    good_records(write_record)
    result = cli("build", *args)
    assert result.exit_code == 2
    assert args[0] in result.stderr
    assert not (project / "output").exists()


def test_feed_definition_error_exits_2_naming_file_line_and_key(project, write_record):
    good_records(write_record)
    (project / "feeds" / "topics.yaml").write_text(
        "# One feed per topic.\nkind: topics\ngroup_by: topic\nlimit: many\n"
    )
    result = cli("build")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("feeds/topics.yaml:4: limit: "), lines[0]
    assert not (project / "output").exists()


@pytest.mark.parametrize(
    ("name", "data", "line", "message"),
    [
        ("yaml.md", YAML_ERROR_ON_LINE_4.encode(), 4, "YAML syntax error"),
        ("garbage.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(128, 256)), 1, ""),
        ("empty.md", b"", 1, ""),
        ("list.md", b"---\n- a\n- b\n---\n", 2, ""),
        ("title-list.md", b"---\ntitle: [a, b]\nwebUrl: https://x.example.com/\n---\n", 2, ""),
        (
            "date.md",
            b"---\ntitle: T\nwebUrl: https://x.example.com/\npublishedDateTime: soon-ish\n---\n",
            4,
            "",
        ),
        (
            "impossible-date.md",
            b"---\ntitle: Impossible date\nwebUrl: https://news.example.com/articles/impossible\n"
            b"publishedDateTime: 2021-02-30T09:00:00Z\n---\n",
            4,
            "",
        ),
    ],
    ids=[
        "yaml-syntax-error",
        "binary-garbage",
        "empty-file",
        "front-matter-list",
        "title-list",
        "unparseable-date",
        "impossible-calendar-date",
    ],
)
def test_bad_record_is_one_line_without_traceback(project, write_record, name, data, line, message):
    good_records(write_record)
    (project / "seeds" / name).write_bytes(data)
    result = cli("build")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"seeds/{name}:{line}: {message}"), lines[0]
    assert titles(project / "output" / "all.rss") == ["Article 2", "Article 1"]


def test_missing_seeds_folder_is_a_clear_error(project):
    result = cli("build", "--seeds", "no-such-folder")
    assert result.exit_code == 2
    assert "no-such-folder" in result.stderr
    assert not (project / "output").exists()


def test_output_folder_that_cannot_be_created_is_a_clear_error(project, write_record):
    good_records(write_record)
    (project / "a-file").write_text("in the way")
    result = cli("build", "--out", "a-file/output")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "a-file/output" in lines[0]


# --- build options -------------------------------------------------------------


def test_include_unpublished_publishes_drafts(project, write_record):
    good_records(write_record)
    write_record("draft.md", article_fields(3, published=False))
    cli("build")
    assert "Article 3" not in titles(project / "output" / "all.rss")
    result = cli("build", "--include-unpublished")
    assert result.exit_code == 0
    assert "Article 3" in titles(project / "output" / "all.rss")


def test_limit_1_gives_one_item_per_feed(project, write_record):
    good_records(write_record)
    write_record("three.md", article_fields(3))
    assert cli("build", "--limit", "1").exit_code == 0
    out = project / "output"
    assert {f["items"] for f in manifest(out)} == {1}
    for path in feed_files(out):
        assert len(titles(out / path)) == 1, path
    assert titles(out / "all.rss") == ["Article 3"]  # the newest


def test_format_atom_writes_only_atom_files(project, write_record):
    good_records(write_record)
    assert cli("build", "--format", "atom").exit_code == 0
    out = project / "output"
    files = feed_files(out)
    assert files
    assert all(path.endswith(".atom") for path in files)
    assert all(set(f["files"]) == {"atom"} for f in manifest(out))


def test_base_url_changes_self_links(project, write_record):
    good_records(write_record)
    cli("build")
    out = project / "output"
    assert self_link(out / "all.atom") == BASE_URL + "all.atom"
    assert cli("build", "--base-url", "https://mirror.example.net/news").exit_code == 0
    assert self_link(out / "all.atom") == "https://mirror.example.net/news/all.atom"
    assert self_link(out / "topics" / "ai.rss") == "https://mirror.example.net/news/topics/ai.rss"


def test_quiet_prints_only_rejections(project, write_record):
    good_records(write_record)
    write_record("copy.md", article_fields(3, webUrl="https://news.example.com/articles/1"))
    write_record("odd.md", article_fields(4, topics=[7]))
    write_record("bad.md", text=YAML_ERROR_ON_LINE_4)
    loud = cli("build")
    assert len(loud.stderr.splitlines()) == 3  # the notice, the warning, the rejection
    quiet = cli("build", "-q")
    assert quiet.exit_code == 3
    assert quiet.stdout == ""
    assert [line.split(":")[0] for line in quiet.stderr.splitlines()] == ["seeds/bad.md"]


def test_verbose_lists_every_file_written_and_removed(project, write_record):
    good_records(write_record)
    result = cli("build", "-v")
    wrote = {line.removeprefix("wrote ") for line in result.stdout.splitlines()[:-1]}
    assert wrote == feed_files(project / "output")
    assert SUMMARY.fullmatch(result.stdout.splitlines()[-1])
    write_record("two.md", article_fields(2, topics=["AI"]))
    again = cli("build", "-v").stdout.splitlines()
    assert "removed topics/robotics.rss" in again
    assert "removed topics/robotics.atom" in again
    assert "wrote topics/ai.rss" in again


# --- check and list -------------------------------------------------------------


def test_check_exits_0_for_good_records_and_writes_nothing(project, write_record):
    good_records(write_record)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "2 records" in result.stdout
    assert not (project / "output").exists()


def test_check_exits_3_with_the_same_rejection_lines_as_build(project, write_record):
    good_records(write_record)
    write_record("bad.md", text=YAML_ERROR_ON_LINE_4)
    (project / "seeds" / "empty.md").write_bytes(b"")
    checked = cli("check", "--seeds", "seeds")
    assert checked.exit_code == 3, checked.output
    assert not (project / "output").exists()
    assert cli("check", "--strict").exit_code == 1
    assert not (project / "output").exists()
    built = cli("build")
    assert checked.stderr.splitlines() == built.stderr.splitlines()
    assert len(built.stderr.splitlines()) == 2


def test_check_needs_only_the_records(tmp_path, monkeypatch):
    records = tmp_path / "records"
    records.mkdir()
    (records / "one.md").write_text(
        "---\ntitle: One\nwebUrl: https://x.example.com/1\npublishedDateTime: 2021-01-01\n---\n"
    )
    monkeypatch.chdir(tmp_path)  # no feeds/ here
    result = cli("check", "--seeds", "records")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 records: 1 accepted, 0 rejected")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records"]


def test_list_prints_every_feed_with_its_item_count_and_newest_date(project, write_record):
    good_records(write_record)
    cli("build")
    result = cli("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    feeds = manifest(project / "output")
    assert len(lines) == len(feeds) == 5
    for feed in feeds:
        line = next(x for x in lines if x.split()[0] == f"{feed['kind']}/{feed['slug']}")
        assert f"{feed['items']} items" in line
        assert feed["newest"] in line
    everything = next(x for x in lines if x.startswith("all/all "))
    assert re.search(r"\b2 items\b", everything)
    assert "2021-03-03T09:02:00Z" in everything


def test_list_without_a_manifest_fails_with_one_line(project):
    result = cli("list")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert "feeds.json" in result.stderr
    assert result.stdout == ""


# --- real processes ------------------------------------------------------------


def feedloom_process(
    cwd: Path, *args: str, hash_seed: str = "0", tz: str = "UTC"
) -> subprocess.CompletedProcess:
    """``python -m feedloom ARGS`` in ``cwd``, under umask 022."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "TZ": tz}
    return subprocess.run(
        [sys.executable, "-m", "feedloom", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
        check=False,
    )


def test_python_m_feedloom_version():
    result = subprocess.run(
        [sys.executable, "-m", "feedloom", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"feedloom, version {feedloom.__version__}"


def test_python_m_feedloom_build_of_shipped_seeds_with_defaults_is_deterministic(
    seeds, feeds_dir, tmp_path
):
    shutil.copytree(SHIPPED_SEEDS, seeds, dirs_exist_ok=True)
    first = feedloom_process(tmp_path, "build", hash_seed="1", tz="Pacific/Kiritimati")
    assert first.returncode == 0, first.stderr
    assert SUMMARY.fullmatch(first.stdout.strip()), first.stdout
    out = tmp_path / "output"
    written = files_in(out)
    assert len(written) == 51  # 24 feeds in two formats, feeds.json, index.opml, index.html
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in out.rglob("*") if p.is_file())
    second = feedloom_process(tmp_path, "build", "--out", "again", hash_seed="2", tz="America/Adak")
    assert second.returncode == 0, second.stderr
    assert files_in(tmp_path / "again") == written


def test_bad_input_in_a_real_process_gives_lines_not_tracebacks(seeds, feeds_dir, tmp_path):
    (seeds / "good.md").write_text(
        "---\ntitle: Good\nwebUrl: https://x.example.com/a\npublishedDateTime: 2021-01-01\n---\n"
    )
    (seeds / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (seeds / "empty.md").write_bytes(b"")
    (seeds / "list.md").write_text("---\n- a\n---\n")
    (seeds / "title.md").write_text("---\ntitle: {a: 1}\n---\n")
    (seeds / "date.md").write_text(
        "---\ntitle: T\nwebUrl: https://x.example.com/b\npublishedDateTime: 31/31/31\n---\n"
    )
    result = feedloom_process(tmp_path, "build")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    named = sorted(line.split(":")[0] for line in result.stderr.splitlines())
    assert named == [
        f"seeds/{n}" for n in ("date.md", "empty.md", "garbage.bin", "list.md", "title.md")
    ]
    missing = feedloom_process(tmp_path, "build", "--seeds", "nowhere")
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "nowhere" in missing.stderr


def test_the_package_exports_everything_the_api_does():
    for name in feedloom.api.__all__:
        assert getattr(feedloom, name) is getattr(feedloom.api, name), name
    assert set(feedloom.__all__) == {*feedloom.api.__all__, "__version__"}
