"""Kill feedloom builds with SIGKILL at random moments, many times; check what each leaves.

    scripts/kill-builds [--records 2000] [--kills 100] [--jobs 2] [--seed 1] [--work DIR]

Makes two versions of a corpus with the benchmark generator
(benchmarks/records.py): A, and B = A with records edited, added and
deleted and one topic gone. Builds each once into a reference folder. Then,
``--kills`` times: puts the output folder and the cache back as build A left
them (one time in four: empty, as before a first build), starts
``python -m feedloom build`` on B in its own process group, kills the build
process (not its workers) with SIGKILL after a random delay spread over an
uninterrupted build's duration (half of the delays aimed at the moments it
writes files), and checks:

- no process of that build is left running (the workers die with it);
- every file in the output folder is byte for byte the same file of version A
  or of version B (hidden ``.NAME.XXXXXXXX.tmp`` files of the killed build are
  counted, not failed);
- ``feeds.json`` is A's or B's, and every file it lists exists (when it is
  B's, in B's version);
- the next, uninterrupted, build repairs everything: the output folder is
  then exactly B's reference, nothing more, nothing less.

Prints a summary (builds killed, files checked, failures) and exits 1 when
anything failed. tests/test_interrupted.py runs the same harness on a small
corpus in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = "feeds.json"
LEFTOVER = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")
_TIMES = re.compile(r"time: (.*)")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, hidden ones included, by '/'-separated relative path."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_symlink() or path.is_file():
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def listed_files(manifest: bytes) -> set[str]:
    document = json.loads(manifest)
    return {path for feed in document["feeds"] for path in feed["files"].values()}


def group_members(group: int) -> list[int]:
    """Live processes (zombies excluded) of a process group, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(b")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state not in (b"Z", b"X"):
            members.append(int(entry))
    return members


@dataclass
class Tally:
    """What the runs did and found."""

    kills: int = 0
    from_empty: int = 0
    files_checked: int = 0
    leftovers: int = 0
    """Half-written temporary files found right after a kill (allowed, counted)."""
    untouched: int = 0
    """Kills before the build changed anything."""
    mixed: int = 0
    """Kills in the middle of writing: some files old, some new."""
    finished: int = 0
    """Kills after the build had written everything."""
    workers_at_kill: int = 0
    """Worker processes alive at the moments of the kills, all told."""
    repairs: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"builds killed: {self.kills} ({self.from_empty} of them first builds into an empty "
            f"folder); killed before writing: {self.untouched}, while writing: {self.mixed}, "
            f"after writing: {self.finished}; worker processes killed with them: "
            f"{self.workers_at_kill}; files checked: {self.files_checked}; half-written "
            f"temporary files left by kills (then swept): {self.leftovers}; repair builds: "
            f"{self.repairs}; failures: {len(self.failures)}"
        )


@dataclass
class Timing:
    seconds: float
    """Wall time of an uninterrupted build, start to exit."""
    writing: float
    """Seconds of it spent rendering and publishing (when files change)."""


class Harness:
    """Kills builds of version B over the output of version A, and checks what is left."""

    def __init__(
        self,
        seeds_a: Path,
        seeds_b: Path,
        feeds: Path,
        work: Path,
        jobs: int = 2,
        rng: random.Random | None = None,
        repair_in_process: bool = False,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.seeds_a, self.seeds_b, self.feeds, self.work = seeds_a, seeds_b, feeds, work
        self.jobs, self.rng, self.log = jobs, rng or random.Random(1), log
        self.repair_in_process = repair_in_process
        self.state_a = work / "state-a"
        self.out, self.cache = work / "out", work / "cache"
        self.ref_a: dict[str, bytes] = {}
        self.ref_b: dict[str, bytes] = {}
        self.expected_status = 0
        self.timing = Timing(1.0, 0.5)
        self.tally = Tally()

    # --- commands ------------------------------------------------------------------

    def command(self, seeds: Path, out: Path, cache: Path, verbose: bool = False) -> list[str]:
        return [
            sys.executable,
            "-m",
            "feedloom",
            "build",
            "--seeds",
            str(seeds),
            "--feeds",
            str(self.feeds),
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--jobs",
            str(self.jobs),
            "-v" if verbose else "-q",
        ]

    def run(self, seeds: Path, out: Path, cache: Path, verbose: bool = False) -> tuple[int, str]:
        done = subprocess.run(
            self.command(seeds, out, cache, verbose), capture_output=True, text=True, check=False
        )
        if done.returncode not in (0, 3):
            raise RuntimeError(f"build failed ({done.returncode}): {done.stderr.strip()}")
        return done.returncode, done.stderr

    # --- set-up --------------------------------------------------------------------------

    def prepare(self, measure: bool = True) -> None:
        """Reference outputs of A and B, the state A leaves, and how long a build takes."""
        self.run(self.seeds_a, self.state_a / "out", self.state_a / "cache")
        self.ref_a = tree(self.state_a / "out")
        status, _ = self.run(self.seeds_b, self.work / "ref-b", self.work / "ref-b-cache")
        self.expected_status = status
        self.ref_b = tree(self.work / "ref-b")
        shutil.rmtree(self.work / "ref-b-cache")
        if not measure:
            return
        timings = []
        for empty in (False, True, False):
            self.restore(empty)
            started = time.perf_counter()
            _, stderr = self.run(self.seeds_b, self.out, self.cache, verbose=True)
            seconds = time.perf_counter() - started
            timings.append(Timing(seconds, _writing_seconds(stderr)))
            problems = self.compare_with_b("uninterrupted build")
            if problems:  # the harness would blame kills for what a plain build does
                raise RuntimeError("; ".join(problems))
        self.timing = Timing(
            max(t.seconds for t in timings), max(t.writing for t in timings) + 0.05
        )
        changed = sum(1 for k in self.ref_b if self.ref_a.get(k) != self.ref_b[k])
        self.log(
            f"A: {len(self.ref_a)} files, B: {len(self.ref_b)} files, {changed} of them new or "
            f"changed, {len(set(self.ref_a) - set(self.ref_b))} removed; a build takes "
            f"{self.timing.seconds:.2f} s, {self.timing.writing:.2f} s of it writing"
        )

    def restore(self, empty: bool) -> None:
        """The output folder and cache as build A left them, or both empty."""
        for folder in (self.out, self.cache):
            if folder.exists():
                shutil.rmtree(folder)
        if not empty:
            shutil.copytree(self.state_a / "out", self.out, copy_function=shutil.copy2)
            shutil.copytree(self.state_a / "cache", self.cache, copy_function=shutil.copy2)

    # --- one kill --------------------------------------------------------------------

    def delay(self) -> float:
        """Half spread over the whole build, half over the moments it writes files.

        Builds under the harness run slower than the measured one (it copies folders
        between them), so the spread reaches well past the measured end.
        """
        seconds = self.timing.seconds
        if self.rng.random() < 0.5:
            return self.rng.uniform(0.0, seconds * 1.6)
        start = max(0.0, seconds - self.timing.writing - 0.15 * seconds)
        return self.rng.uniform(start, seconds * 1.3)

    def kill_once(self, empty: bool) -> list[str]:
        self.restore(empty)
        delay = self.delay()
        what = f"kill {self.tally.kills + 1} ({'empty folder, ' if empty else ''}{delay:.3f} s in)"
        process = subprocess.Popen(
            self.command(self.seeds_b, self.out, self.cache),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: its workers can be found
        )
        group = process.pid
        problems = []
        try:
            time.sleep(delay)
            self.tally.workers_at_kill += max(0, len(group_members(group)) - 1)
            process.kill()  # SIGKILL to the build itself, never to its workers
            process.wait()
            deadline = time.monotonic() + 5.0
            while group_members(group) and time.monotonic() < deadline:
                time.sleep(0.02)
            survivors = group_members(group)
            if survivors:
                problems.append(f"{what}: worker processes outlived their build: {survivors}")
        finally:
            if group_members(group):
                os.killpg(group, signal.SIGKILL)  # the group this harness started
                time.sleep(0.1)
        self.tally.kills += 1
        self.tally.from_empty += empty
        problems += self.check_after_kill(empty, what)
        problems += self.repair(f"repair after {what}")
        return problems

    def check_after_kill(self, empty: bool, what: str) -> list[str]:
        files = tree(self.out)
        problems = []
        kept = {}
        for relative, data in files.items():
            if LEFTOVER.fullmatch(relative.rsplit("/", 1)[-1]):
                self.tally.leftovers += 1
                continue
            kept[relative] = data
            self.tally.files_checked += 1
            if relative == MANIFEST:
                continue  # compared by what it says, below
            versions = [ref[relative] for ref in self.references(empty) if relative in ref]
            if not versions:
                problems.append(f"{what}: {relative} is in neither version")
            elif data not in versions:
                problems.append(f"{what}: {relative} is neither the old nor the new version")
        problems += self.check_manifest(kept, empty, what)
        if not empty and kept == self.ref_a and len(kept) == len(files):
            self.tally.untouched += 1
        elif kept == self.ref_b:
            self.tally.finished += 1
        else:
            self.tally.mixed += 1
        return problems

    def check_manifest(self, kept: dict[str, bytes], empty: bool, what: str) -> list[str]:
        """feeds.json is the old or the new one (or, before a first build, one listing no
        feed) and every file it lists exists (in the new version when it is the new one).
        It may also name, as 'unlisted', files no feed of it lists: the old one, the new
        files a build was about to write; the new one, the stale files it was removing."""
        manifest = kept.get(MANIFEST)
        if manifest is None:
            return [] if empty else [f"{what}: {MANIFEST} is gone"]
        try:
            document = json.loads(manifest)
        except ValueError:
            return [f"{what}: {MANIFEST} is not JSON (half-written?)"]
        unlisted = document.pop("unlisted", None) if isinstance(document, dict) else None
        new = json.loads(self.ref_b[MANIFEST])
        known = [json.loads(ref[MANIFEST]) for ref in self.references(empty)]
        before_any = empty and isinstance(document, dict) and document.get("feeds") == []
        if document not in known and not before_any:
            return [f"{what}: {MANIFEST} is neither the old nor the new one"]
        problems = []
        if unlisted is not None:
            b_files = listed_files(self.ref_b[MANIFEST])
            a_files = set() if empty else listed_files(self.ref_a[MANIFEST])
            allowed = a_files - b_files if document == new else b_files - a_files
            if not isinstance(unlisted, list) or not set(unlisted) <= allowed:
                problems.append(f"{what}: {MANIFEST} names unlisted files it should not")
        for path in sorted(listed_files(manifest)):
            if path not in kept:
                problems.append(f"{what}: {MANIFEST} lists {path}, which is missing")
            elif document == new and kept[path] != self.ref_b[path]:
                problems.append(f"{what}: {MANIFEST} is the new one, {path} the old")
        return problems

    def references(self, empty: bool) -> list[dict[str, bytes]]:
        return [self.ref_b] if empty else [self.ref_a, self.ref_b]

    def repair(self, what: str) -> list[str]:
        """The next build, uninterrupted, must leave exactly B's output."""
        self.tally.repairs += 1
        if self.repair_in_process:
            from feedloom.api import BuildOptions, build

            options = BuildOptions(
                seeds=self.seeds_b, feeds=self.feeds, out=self.out, cache=self.cache, jobs=1
            )
            status = build(options).exit_status
        else:
            status, _ = self.run(self.seeds_b, self.out, self.cache)
        problems = []
        if status != self.expected_status:
            problems.append(f"{what}: exit status {status}, not {self.expected_status}")
        return problems + self.compare_with_b(what)

    def compare_with_b(self, what: str) -> list[str]:
        files = tree(self.out)
        self.tally.files_checked += len(files)
        extra = sorted(set(files) - set(self.ref_b))
        missing = sorted(set(self.ref_b) - set(files))
        wrong = sorted(k for k in set(files) & set(self.ref_b) if files[k] != self.ref_b[k])
        problems = []
        if extra:
            problems.append(f"{what}: files that should not be there: {extra[:10]}")
        if missing:
            problems.append(f"{what}: files missing: {missing[:10]}")
        if wrong:
            problems.append(f"{what}: files that differ from a clean build: {wrong[:10]}")
        return problems

    def kill_many(self, kills: int) -> Tally:
        for number in range(kills):
            problems = self.kill_once(empty=number % 4 == 3)
            self.tally.failures += problems
            for problem in problems:
                self.log(f"FAIL {problem}")
            if (number + 1) % 10 == 0:
                self.log(f"{number + 1} kills: {len(self.tally.failures)} failures so far")
        return self.tally


def _writing_seconds(stderr: str) -> float:
    """Render and publish seconds from the -v output ('time: read 0.12 s, ...')."""
    found = _TIMES.search(stderr)
    if not found:
        return 0.0
    stages = dict(part.rsplit(" ", 2)[:2] for part in found.group(1).split(", "))
    return sum(float(stages.get(stage, 0)) for stage in ("render", "publish"))


# --- the corpus: the benchmark generator's records, and an edited version of them --------


def make_versions(root: Path, records: int, seed: int) -> tuple[Path, Path]:
    """Version A of ``records`` generated records and version B: edited, added, deleted,
    and without one topic."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import records as generator  # benchmarks/records.py

    seeds_a, seeds_b = root / "seeds-a", root / "seeds-b"
    paths = generator.write_records(seeds_a, records, seed)
    shutil.copytree(seeds_a, seeds_b)
    with tempfile.TemporaryDirectory() as scratch:
        for n, path in enumerate(paths):
            target = seeds_b / path.relative_to(seeds_a)
            if n % 13 == 5:
                target.unlink()
            elif n % 10 == 3:  # edited: the same file, other content
                [edited] = generator.write_records(Path(scratch), 1, seed + 1, start=n)
                shutil.copy(edited, target)
    generator.write_records(seeds_b, max(1, records // 20), seed, start=records)
    gone = f"  - {generator.TOPICS[16]}\n"  # a topic no record of B has any more
    for path in seeds_b.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        if gone in text:
            path.write_text(text.replace(gone, ""), encoding="utf-8")
    return seeds_a, seeds_b


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="records in version A")
    parser.add_argument("--kills", type=int, default=100, help="builds to kill")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes per build")
    parser.add_argument("--seed", type=int, default=1, help="corpus and delays")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    options = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    work = options.work or Path(tempfile.mkdtemp(prefix="kill-builds-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        seeds_a, seeds_b = make_versions(work, options.records, options.seed)
        harness = Harness(
            seeds_a,
            seeds_b,
            REPO / "feeds",
            work,
            jobs=options.jobs,
            rng=random.Random(options.seed),
            log=log,
        )
        harness.prepare()
        started = time.perf_counter()
        tally = harness.kill_many(options.kills)
        print(f"{tally.summary()}; {time.perf_counter() - started:.0f} s")
        for failure in tally.failures[:50]:
            print(f"  {failure}")
        return 1 if tally.failures else 0
    finally:
        if not options.keep and options.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
