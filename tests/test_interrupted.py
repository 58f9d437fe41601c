"""Interrupted and concurrent builds: killed, stopped, locked out, out of space, read-only.

Afterwards every feed file is either the previous complete version or the new
complete version, ``feeds.json`` matches the files on disk, the next build
repairs everything, and every failure is one clear line.

The kill test runs scripts/kill_builds.py's harness on a small corpus;
``FEEDLOOM_KILLS`` sets how many builds it kills (default 15) and
``FEEDLOOM_KILL_SEED`` its random delays. The stop test stops a build (in
process) before every fourth file it writes and before every removal; with
``FEEDLOOM_KILLS`` over 15 or ``FEEDLOOM_HYPOTHESIS_PROFILE=long``, before every
file. ``scripts/kill-builds`` is the long version, on the benchmark generator's corpus.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import feedloom.api
import feedloom.lock
import feedloom.publish
from conftest import REPO, SHIPPED_FEEDS, article_fields, record_text
from feedloom.api import BuildError, BuildOptions, build
from feedloom.cli import main
from feedloom.lock import holding
from feedloom.publish import PublishError

_spec = importlib.util.spec_from_file_location("kill_builds", REPO / "scripts" / "kill_builds.py")
assert _spec is not None and _spec.loader is not None
kill_builds = importlib.util.module_from_spec(_spec)
sys.modules["kill_builds"] = kill_builds
_spec.loader.exec_module(kill_builds)
Harness, tree, group_members = kill_builds.Harness, kill_builds.tree, kill_builds.group_members

KILLS = int(os.environ.get("FEEDLOOM_KILLS", "15"))
ALL_STOPS = os.environ.get("FEEDLOOM_HYPOTHESIS_PROFILE") == "long" or KILLS > 15
RECORDS = 150
TOPICS = ["AI", "Robots", "Vision", "Speech", "Ethics", "Chips", "AI in Healthcare"]
GONE = "Gone Topic"  # in version A only: its feeds are removed by build B
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)


# --- a small corpus in two versions ---------------------------------------------------------


def corpus_fields(n: int, version: str) -> dict[str, Any]:
    rng = random.Random(n)
    topics = ["AI", *rng.sample(TOPICS[1:], rng.randint(0, 2))]
    if n % 10 == 0 and version == "a":
        topics.append(GONE)
    title = f"Story {n} about {' and '.join(topics)}"
    if version == "b" and n % 7 == 0:
        title += " (updated)"
    return article_fields(
        n,
        title=title,
        excerpt=f"What happened in story {n}, in a few words & more.",
        publishedDateTime=(EPOCH + timedelta(hours=7 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        webUrl=f"https://p{n % 9}.example.com/stories/{n}",
        provider={"name": f"Provider {n % 9}", "domain": f"p{n % 9}.example.com"},
        topics=topics,
        category=("news", "analysis", "opinion")[n % 3],
    )


def write_version(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True)
    numbers = range(RECORDS) if version == "a" else range(RECORDS + 20)
    for n in numbers:
        if version == "b" and n % 11 == 5:
            continue  # deleted in B
        (folder / f"r{n:04d}.md").write_text(record_text(corpus_fields(n, version)))
    return folder


@dataclass
class Versions:
    seeds_a: Path
    seeds_b: Path
    feeds: Path
    prepared: Any
    """A Harness whose references (A's and B's output, A's state) are built."""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    root = tmp_path_factory.mktemp("versions")
    seeds_a = write_version(root / "seeds-a", "a")
    seeds_b = write_version(root / "seeds-b", "b")
    feeds = root / "feeds"
    shutil.copytree(SHIPPED_FEEDS, feeds)
    prepared = Harness(seeds_a, seeds_b, feeds, root / "work", jobs=2)
    prepared.prepare(measure=False)
    assert set(prepared.ref_a) - set(prepared.ref_b), "B must remove feeds"
    assert set(prepared.ref_b) - set(prepared.ref_a) or any(
        prepared.ref_a[k] != prepared.ref_b[k] for k in prepared.ref_b if k in prepared.ref_a
    ), "B must change feeds"
    return Versions(seeds_a, seeds_b, feeds, prepared)


def harness(versions: Versions, work: Path, **options: Any) -> Any:
    """A harness of its own (output and cache in ``work``) sharing the built references."""
    made = Harness(versions.seeds_a, versions.seeds_b, versions.feeds, work, **options)
    made.state_a = versions.prepared.state_a
    made.ref_a, made.ref_b = versions.prepared.ref_a, versions.prepared.ref_b
    made.expected_status = versions.prepared.expected_status
    made.repair_in_process = True  # the repair build runs here: quicker than a new process
    work.mkdir(parents=True, exist_ok=True)
    return made


def api_options(h: Any, seeds: Path | None = None, **options: Any) -> BuildOptions:
    values = {"seeds": seeds or h.seeds_b, "feeds": h.feeds, "out": h.out, "cache": h.cache}
    return BuildOptions(**{**values, "jobs": 1, **options})


# --- killed with SIGKILL ------------------------------------------------------------------


def test_killed_builds_leave_old_or_new_files_and_the_next_build_repairs_all(versions, tmp_path):
    seed = int(os.environ.get("FEEDLOOM_KILL_SEED", random.randrange(1_000_000)))
    h = harness(versions, tmp_path / "work", jobs=2, rng=random.Random(seed))
    h.prepare()  # measures how long a build takes, so kills spread over it
    tally = h.kill_many(KILLS)
    summary = f"FEEDLOOM_KILL_SEED={seed}: {tally.summary()}"
    print(summary)
    assert tally.kills == KILLS and tally.files_checked > KILLS * len(h.ref_a)
    assert not tally.failures, summary + "\n" + "\n".join(tally.failures[:20])


def start_build(h: Any, empty: bool) -> subprocess.Popen:
    h.restore(empty)
    return subprocess.Popen(
        h.command(h.seeds_b, h.out, h.cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_as_workers_start(process: subprocess.Popen) -> None:
    """SIGKILL the build the moment its first worker process exists."""
    while process.poll() is None and len(group_members(process.pid)) < 2:
        pass
    process.kill()
    process.wait()


def survivors_of(group: int, settle: float = 2.0) -> list[int]:
    deadline = time.monotonic() + settle
    while group_members(group) and time.monotonic() < deadline:
        time.sleep(0.02)
    return group_members(group)


@contextlib.contextmanager
def cleaning_up(group: int) -> Iterator[None]:
    """Whatever the test finds, the process group it started is gone afterwards."""
    try:
        yield
    finally:
        if group_members(group):
            os.killpg(group, signal.SIGKILL)


def holds_open(pid: int, folder: Path) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    target = os.path.realpath(folder)
    return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == target for fd in fds)


def test_workers_die_with_a_build_killed_just_as_they_start(versions, tmp_path):
    h = harness(versions, tmp_path / "work", jobs=2)
    found = []
    for attempt in range(4):
        process = start_build(h, empty=attempt % 2 == 1)
        with cleaning_up(process.pid):
            kill_as_workers_start(process)
            left = survivors_of(process.pid, settle=1.0)
            if left:
                locking = [pid for pid in left if holds_open(pid, h.out)]
                found.append(f"attempt {attempt}: workers {left} outlived the build")
                found += [
                    f"  worker {pid} holds the output folder (its lock) open" for pid in locking
                ]
    assert not found, "\n".join(found)


def test_a_build_killed_as_its_workers_start_does_not_lock_out_the_next(versions, tmp_path):
    h = harness(versions, tmp_path / "work", jobs=2)
    for attempt in range(4):
        process = start_build(h, empty=False)
        with cleaning_up(process.pid):
            kill_as_workers_start(process)
            survivors_of(process.pid, settle=0.5)
            started = time.monotonic()
            try:
                report = build(api_options(h, wait=3.0))
            except BuildError as exc:
                pytest.fail(
                    f"attempt {attempt}: locked out {time.monotonic() - started:.1f} s "
                    f"by what the killed build left running: {exc}"
                )
            assert report.published
            assert tree(h.out) == h.ref_b


# --- stopped at every write and every removal ------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL: no handler of feedloom's catches it, nothing after it runs."""


@dataclass
class Crash:
    """Raise Killed at the ``at``-th call of ``kind`` ('replace': renaming a written file
    into place; 'remove': pruning a file), counting from 0; never when ``at`` is None."""

    kind: str = ""
    at: int | None = None
    calls: dict[str, int] | None = None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = {"replace": 0, "remove": 0}
        monkeypatch.setattr(os, "replace", partial(self._call, "replace", os.replace))
        monkeypatch.setattr(
            feedloom.publish, "_remove", partial(self._call, "remove", feedloom.publish._remove)
        )

    def _call(self, kind: str, real: Any, *args: Any) -> Any:
        assert self.calls is not None
        number = self.calls[kind]
        self.calls[kind] += 1
        if kind == self.kind and number == self.at:
            raise Killed(f"{kind} {number}")
        return real(*args)


def test_a_build_stopped_before_any_write_or_removal_is_repaired_by_the_next(
    versions, tmp_path, monkeypatch
):
    h = harness(versions, tmp_path / "work")
    counting = Crash()
    with monkeypatch.context() as patch:
        counting.install(patch)
        h.restore(empty=False)
        build(api_options(h))
    assert counting.calls is not None
    points = [("replace", i) for i in range(counting.calls["replace"])]
    points += [("remove", i) for i in range(counting.calls["remove"])]
    assert counting.calls["remove"] >= 3, "B must prune feeds for this test to mean anything"
    failures, checked = [], 0
    every = 1 if ALL_STOPS else 4  # CI: every removal, every 4th file (12th for a first build)
    for empty in (False, True):
        for kind, at in points:
            if kind == "remove" and empty:
                continue  # a first build removes nothing
            if kind == "replace" and at % (every * (3 if empty else 1)) != 0:
                continue
            h.restore(empty)
            with monkeypatch.context() as patch:
                Crash(kind, at).install(patch)
                with pytest.raises(Killed):
                    build(api_options(h))
            what = f"{'first build' if empty else 'build'} stopped before {kind} {at}"
            failures += h.check_after_kill(empty, what)
            failures += h.repair(f"repair after: {what}")
            checked += 1
    summary = f"{checked} stops checked, {h.tally.files_checked} files, {len(failures)} failures"
    print(summary)
    assert not failures, summary + "\n" + "\n".join(failures[:20])


def test_a_new_feed_of_a_build_stopped_before_its_manifest_is_removed_once_unneeded(
    write_record, seeds, feeds_dir, out, monkeypatch
):
    """The stopped build wrote topics/zebra.*, never listed in a finished manifest; once
    the record is gone, the next build still knows the files are feedloom's to remove."""
    options = BuildOptions(seeds=seeds, feeds=feeds_dir, out=out, jobs=1)
    write_record("one.md", article_fields(1))
    build(options)
    zebra = write_record("two.md", article_fields(2, topics=["Zebra"]))

    def stopped(*args: Any) -> None:
        raise Killed("before the manifest")

    with monkeypatch.context() as patch:
        patch.setattr(feedloom.api, "finish", stopped)
        with pytest.raises(Killed):
            build(options)
    assert (out / "topics/zebra.rss").is_file()
    zebra.unlink()
    report = build(options)
    assert {"topics/zebra.rss", "topics/zebra.atom"} <= set(report.removed)
    assert not (out / "topics").joinpath("zebra.rss").exists()
    assert "unlisted" not in (out / "feeds.json").read_text(encoding="utf-8")


def test_a_build_that_replays_never_vouches_for_files_another_build_wrote_after_it(
    write_record, seeds, feeds_dir, out, monkeypatch
):
    """A build's stamp is saved while it holds the folder: a build that takes the
    folder right after it cannot publish before that stamp exists."""
    for n in range(1, 6):
        write_record(f"{n}.md", article_fields(n))
    short = BuildOptions(seeds=seeds, feeds=feeds_dir, out=out, jobs=1, limit=2)
    real = feedloom.api.holding

    @contextlib.contextmanager
    def then_another_build(folder: Path, wait: float) -> Iterator[None]:
        with real(folder, wait):
            yield
        monkeypatch.setattr(feedloom.api, "holding", real)
        build(replace(short, limit=None))  # takes the folder the moment it is let go

    monkeypatch.setattr(feedloom.api, "holding", then_another_build)
    build(short)
    again = build(short)
    assert again.parsed == 0
    assert (out / "all.rss").read_text(encoding="utf-8").count("<item>") == 2


# --- two builds at once -----------------------------------------------------------------------


@contextlib.contextmanager
def held_elsewhere(
    folder: Path, monkeypatch: pytest.MonkeyPatch, release_after_wait: float | None = None
) -> Iterator[threading.Event]:
    """Another 'build' holds ``folder``: until the block ends, or, given
    ``release_after_wait``, that many seconds after a build has started waiting for it.
    Yields an event set once a build waits for the lock."""
    folder.mkdir(parents=True, exist_ok=True)
    waiting, taken, stop = threading.Event(), threading.Event(), threading.Event()
    real_sleep = time.sleep

    class Clock:  # what feedloom.lock sees as 'time': its sleeps mean it is waiting
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            waiting.set()
            real_sleep(seconds)

    monkeypatch.setattr(feedloom.lock, "time", Clock)

    def hold() -> None:
        with holding(folder, 0):
            taken.set()
            if release_after_wait is None:
                stop.wait(60)
            else:
                waiting.wait(60)
                real_sleep(release_after_wait)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5), "the test could not take the lock"
    try:
        yield waiting
    finally:
        stop.set()
        thread.join()


def test_a_second_build_waits_for_the_lock_then_publishes(versions, tmp_path, monkeypatch):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=False)
    with held_elsewhere(h.out, monkeypatch, release_after_wait=1.0) as waiting:
        report = build(api_options(h, wait=30.0))
    assert waiting.is_set(), "the build never waited for the lock"
    assert report.published
    assert tree(h.out) == h.ref_b


def test_a_second_build_gives_up_after_its_wait_with_one_clear_line(
    versions, tmp_path, monkeypatch
):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=False)
    before = tree(h.out)
    with held_elsewhere(h.out, monkeypatch) as waiting, pytest.raises(BuildError) as caught:
        build(api_options(h, wait=0.5))
    assert waiting.is_set()
    message = str(caught.value)
    assert "\n" not in message and "another build" in message and str(h.out) in message, message
    assert "0.5 s" in message, message
    assert tree(h.out) == before, "a build that did not get the lock wrote or removed files"


def cli_args(h: Any) -> list[str]:
    return ["build", "--seeds", str(h.seeds_b), "--feeds", str(h.feeds), "--out", str(h.out)]


def test_the_cli_reports_a_held_output_folder_in_one_line_with_status_1(
    versions, tmp_path, monkeypatch
):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=False)
    before = tree(h.out)
    with held_elsewhere(h.out, monkeypatch) as waiting:
        args = [*cli_args(h), "--cache", str(h.cache), "-j", "1", "--wait", "0.3"]
        result = CliRunner().invoke(main, args)
    assert waiting.is_set()
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedloom: "), result.stderr
    assert "another build" in lines[0] and "0.3 s" in lines[0], lines[0]
    assert tree(h.out) == before


def race(h: Any, shared_cache: bool, stagger: float) -> tuple[list[int], list[str]]:
    """Builds of A and of B started at once into one output folder; their statuses and stderr."""
    processes = []
    for version, seeds in (("a", h.seeds_a), ("b", h.seeds_b)):
        cache = h.cache if shared_cache else h.work / f"cache-{version}"
        processes.append(
            subprocess.Popen(h.command(seeds, h.out, cache), stderr=subprocess.PIPE, text=True)
        )
        time.sleep(stagger)
    errors = [process.communicate(timeout=120)[1] for process in processes]
    return [process.returncode for process in processes], errors


@pytest.mark.parametrize("shared_cache", [False, True], ids=["own-caches", "shared-cache"])
def test_two_builds_at_once_never_leave_a_mix_of_both(versions, tmp_path, shared_cache):
    h = harness(versions, tmp_path / "work", jobs=2)
    problems = []
    for round_number, stagger in enumerate((0.0, 0.05, 0.2)):
        for folder in (h.out, h.cache, h.work / "cache-a", h.work / "cache-b"):
            shutil.rmtree(folder, ignore_errors=True)
        statuses, errors = race(h, shared_cache, stagger)
        for status, error in zip(statuses, errors, strict=True):
            lines = error.strip().splitlines()
            refused = status == 1 and len(lines) == 1 and lines[0].startswith("feedloom: ")
            if status != 0 and not refused:
                problems.append(f"round {round_number}: status {status}: {error.strip()[-400:]}")
        files = tree(h.out)
        if files not in (h.ref_a, h.ref_b):
            mixed = [k for k in files if files[k] not in (h.ref_a.get(k), h.ref_b.get(k))]
            problems.append(
                f"round {round_number}: the output is neither A's nor B's: "
                f"{len(set(files) - set(h.ref_a))} files not in A, "
                f"{len(set(files) - set(h.ref_b))} not in B, {len(mixed)} in neither version"
            )
    assert not problems, "\n".join(problems)


# --- a full or read-only output folder -------------------------------------------------------


class Full:
    """A file whose disk fills up half-way through the write."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def write(self, data: bytes) -> int:
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def disk_full_after(monkeypatch: pytest.MonkeyPatch, files: int) -> None:
    """Files written after the first ``files`` fail with ENOSPC, half written."""
    real = os.fdopen
    count = [0]

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        stream = real(fd, mode, *args, **kwargs)
        if "w" in mode:
            count[0] += 1
            if count[0] > files:
                return Full(stream)
        return stream

    monkeypatch.setattr(os, "fdopen", fdopen)


def leftovers(out: Path) -> list[str]:
    return sorted(p for p in tree(out) if kill_builds.LEFTOVER.fullmatch(p.rsplit("/", 1)[-1]))


def test_a_disk_filling_up_at_any_file_is_one_clear_error_and_no_partial_file(
    versions, tmp_path, monkeypatch
):
    h = harness(versions, tmp_path / "work")
    changed = sum(1 for k, v in h.ref_b.items() if h.ref_a.get(k) != v)
    failures = []
    for files in sorted({*range(0, changed, max(1, changed // 10)), changed - 1}):
        h.restore(empty=False)
        with monkeypatch.context() as patch:
            disk_full_after(patch, files)
            with pytest.raises(PublishError) as caught:
                build(api_options(h))
        message = str(caught.value)
        if "\n" in message or "No space left on device" not in message or str(h.out) not in message:
            failures.append(f"after {files} files: unclear message {message!r}")
        if leftovers(h.out):
            failures.append(f"after {files} files: temporary files left: {leftovers(h.out)}")
        failures += h.check_after_kill(False, f"disk full after {files} files")
        if tree(h.out).get("feeds.json") != h.ref_a["feeds.json"]:
            failures.append(f"after {files} files: feeds.json changed by a failed build")
        failures += h.repair(f"repair after disk full at file {files}")
    assert not failures, "\n".join(failures[:20])


def test_the_cli_says_a_disk_is_full_in_one_line_with_status_1(versions, tmp_path, monkeypatch):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=False)
    disk_full_after(monkeypatch, 3)
    result = CliRunner().invoke(main, [*cli_args(h), "--cache", str(h.cache), "-j", "1"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"feedloom: cannot write {h.out}/")
    assert lines[0].endswith("No space left on device")
    assert not leftovers(h.out)


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM])
def test_a_read_only_output_folder_is_one_clear_error_and_changes_nothing(
    versions, tmp_path, monkeypatch, code
):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=False)
    real = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("dir", "")).startswith(str(h.out)):
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    result = CliRunner().invoke(main, [*cli_args(h), "--cache", str(h.cache), "-j", "1"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedloom: cannot write in "), result.stderr
    assert lines[0].endswith(os.strerror(code))
    assert tree(h.out) == h.ref_a, "the earlier output must be left as it was"


def test_a_folder_that_cannot_be_created_is_one_clear_error(versions, tmp_path, monkeypatch):
    h = harness(versions, tmp_path / "work")
    h.restore(empty=True)
    real = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.parent == h.out:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(PublishError, match=r"cannot create folder .*Permission denied") as caught:
        build(api_options(h))
    assert "\n" not in str(caught.value)
    assert not leftovers(h.out)
    # No feed is listed as published; what was written is named as feedloom's to remove.
    files = tree(h.out)
    manifest = json.loads(files.pop("feeds.json"))
    assert manifest["feeds"] == []
    assert set(files) <= set(manifest["unlisted"])


# --- the real thing, where the machine allows it: immutable folders, a full disk ----------


def chattr(flag: str, path: Path) -> bool:
    try:
        done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    if not chattr("+i", path):
        pytest.skip("chattr +i is not available here (needs root and ext4/xfs/btrfs)")
    try:
        yield
    finally:
        chattr("-i", path)


@pytest.mark.parametrize("where", ["output", "topics"])
def test_an_immutable_output_folder_fails_cleanly_and_the_next_build_repairs(
    versions, tmp_path, where
):
    h = harness(versions, tmp_path / "work", jobs=2)
    h.restore(empty=False)
    target = h.out if where == "output" else h.out / "topics"
    with immutable(target):
        done = subprocess.run(
            h.command(h.seeds_b, h.out, h.cache), capture_output=True, text=True, check=False
        )
        after = tree(h.out)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith("feedloom: "), done.stderr
    assert "Operation not permitted" in lines[0]
    assert not leftovers(h.out)
    assert after.get("feeds.json") == h.ref_a["feeds.json"], "a failed build wrote its manifest"
    problems = h.check_after_kill(False, f"immutable {where}")
    problems += h.repair(f"repair after immutable {where}")
    assert not problems, "\n".join(problems)


def test_an_immutable_cache_folder_means_a_build_without_cache_and_a_notice(versions, tmp_path):
    h = harness(versions, tmp_path / "work", jobs=2)
    h.restore(empty=True)
    h.cache.mkdir()
    command = [part for part in h.command(h.seeds_b, h.out, h.cache) if part != "-q"]
    with immutable(h.cache):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stderr.splitlines() if line.startswith("feedloom: cache:")]
    assert len(notices) == 1 and "without a cache" in notices[0], done.stderr
    assert "Traceback" not in done.stderr
    assert tree(h.out) == h.ref_b


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            check=False,
        )
    except OSError:
        mounted = None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``."""
    filler = disk / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(handle, b"\0" * chunk)
    finally:
        os.close(handle)
    return filler


@pytest.mark.parametrize("cache_on_disk", [False, True], ids=["cache-elsewhere", "cache-too"])
def test_a_really_full_disk_is_one_clear_line_and_the_next_build_repairs(
    versions, tmp_path, cache_on_disk
):
    h = harness(versions, tmp_path / "work", jobs=2)
    with small_disk(tmp_path / "disk", "8m") as disk:
        h.out = disk / "out"
        h.cache = (disk if cache_on_disk else tmp_path) / "cache"
        h.restore(empty=False)
        filler = fill(disk)
        done = subprocess.run(
            h.command(h.seeds_b, h.out, h.cache), capture_output=True, text=True, check=False
        )
        lines = done.stderr.strip().splitlines()
        assert not leftovers(h.out), leftovers(h.out)
        if done.returncode == 0:
            # The cache shared the full disk: the build made room by starting a new cache.
            assert cache_on_disk and tree(h.out) == h.ref_b, done.stderr[-2000:]
        else:
            assert done.returncode == 1, done.stderr
            assert len(lines) == 1 and lines[0].startswith("feedloom: "), done.stderr[-2000:]
            assert "No space left on device" in lines[0] or "disk is full" in lines[0], lines
        problems = h.check_after_kill(False, "disk full")
        filler.unlink()
        problems += h.repair("repair after the disk was full")
        assert not problems, "\n".join(problems)
