"""build --watch: a change to a record or a definition rebuilds, once per burst."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SHIPPED_FEEDS, article_fields
from feedloom import watch as watch_module
from feedloom.api import BuildOptions, BuildReport, build
from feedloom.config import ConfigError
from feedloom.watch import Outcome, snapshot, watch

FAST = {"interval": 0.05, "settle": 0.2}


@pytest.fixture
def watching(write_record, seeds: Path, feeds_dir: Path, out: Path, tmp_path: Path) -> Iterator:
    """A watcher running in a thread; yields the queue its outcomes arrive on."""
    write_record("one.md", article_fields(1))
    options = BuildOptions(seeds=seeds, feeds=feeds_dir, out=out, cache=tmp_path / "cache")
    since = snapshot(options)
    build(options)
    outcomes: queue.Queue[Outcome] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(options, since, outcomes.put, stop), kwargs=FAST)
    thread.start()
    yield outcomes
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def next_outcome(outcomes: queue.Queue) -> Outcome:
    return outcomes.get(timeout=10)


def test_a_new_record_is_published_by_the_next_rebuild(watching, write_record, out):
    write_record("two.md", article_fields(2, title="Arrived while watching"))
    report = next_outcome(watching)
    assert isinstance(report, BuildReport)
    assert "all.rss" in report.written
    assert b"Arrived while watching" in (out / "all.rss").read_bytes()


def test_a_burst_of_changes_gives_one_rebuild(watching, write_record):
    for n in range(2, 6):
        write_record(f"{n}.md", article_fields(n))
        time.sleep(0.02)
    report = next_outcome(watching)
    assert isinstance(report, BuildReport) and report.records == 5
    with pytest.raises(queue.Empty):
        watching.get(timeout=0.8)


def test_a_broken_definition_is_reported_and_watching_goes_on(watching, feeds_dir, write_record):
    site = feeds_dir / "site.yaml"
    good = site.read_text()
    site.write_text(good + "limt: 5\n")
    problem = next_outcome(watching)
    assert isinstance(problem, ConfigError)
    assert "limt" in str(problem)
    site.write_text(good)
    assert isinstance(next_outcome(watching), BuildReport)


def test_a_failing_scan_is_told_once_and_watching_goes_on(
    watching, write_record, monkeypatch: pytest.MonkeyPatch
):
    gone = FileNotFoundError(2, "No such file or directory", "seeds")
    failing = [True]
    real = watch_module.discover_files

    def discover_files(*args: object) -> object:
        if failing[0]:
            raise gone
        return real(*args)

    monkeypatch.setattr(watch_module, "discover_files", discover_files)
    assert next_outcome(watching) is gone
    time.sleep(0.3)  # more scans fail, untold
    failing[0] = False
    write_record("two.md", article_fields(2))
    report = next_outcome(watching)
    assert isinstance(report, BuildReport) and report.records == 2


def test_a_change_made_during_the_first_build_is_not_missed(
    write_record, seeds, feeds_dir, out, tmp_path
):
    write_record("one.md", article_fields(1))
    options = BuildOptions(seeds=seeds, feeds=feeds_dir, out=out, cache=tmp_path / "cache")
    since = snapshot(options)
    build(options)
    write_record("two.md", article_fields(2))  # as if saved while that build ran
    outcomes: queue.Queue[Outcome] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(options, since, outcomes.put, stop), kwargs=FAST)
    thread.start()
    try:
        report = next_outcome(outcomes)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert isinstance(report, BuildReport) and report.records == 2


def test_nothing_changed_means_no_rebuild(watching):
    with pytest.raises(queue.Empty):
        watching.get(timeout=0.5)


def test_cli_watch_prints_a_summary_per_rebuild_and_stops_cleanly(write_record, tmp_path):
    shutil.copytree(SHIPPED_FEEDS, tmp_path / "feeds")
    write_record("one.md", article_fields(1))
    process = subprocess.Popen(
        [sys.executable, "-m", "feedloom", "build", "--watch"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("1 records"), first
        time.sleep(0.7)  # past the first poll
        write_record("two.md", article_fields(2))
        second = process.stdout.readline()
        assert second.startswith("2 records (1 parsed)"), second
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in errors
