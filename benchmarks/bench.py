"""Benchmark feedloom against a naive PyYAML + feedgen script and against Hugo.

    .venv/bin/python benchmarks/bench.py --records 20000 [--repeat 5] [--work DIR]
        [--jobs N] [--seed S] [--skip-hugo] [--skip-naive]

Generates N records shaped like the corpus (benchmarks/records.py; kept in the
work folder and reused while the count, seed and generator are unchanged),
copies the repository's feeds/ definitions next to them, then times, several
repetitions each, every one a fresh subprocess, and runs each scenario once more,
untimed, to sample its peak memory:

- feedloom cold build: output and cache folders deleted first;
- feedloom no-op rebuild: nothing changed since the last build;
- feedloom one record edited: the newest published record's title changes
  (two titles in turn, so every repetition is a real change);
- feedloom 1% records added: N/100 new records appear in a built state (they
  are removed and the state rebuilt, untimed, after each repetition);
- the naive baseline, benchmarks/naive.py, output deleted first;
- Hugo, when ``hugo`` is on PATH: a site made once from the same records whose
  only outputs are the RSS feeds of the home page and of every topic, provider
  and category term (benchmarks/hugosite.py); destination, resources and cache
  deleted first.

It prints a markdown table (median and min-max wall time, peak memory of the
process tree, and how many times faster each scenario is than the baseline and
than Hugo) and writes it to WORK/results-N.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from pathlib import Path

import hugosite
import records
from procmem import CommandFailed, Measurement, measure

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DIRTY = "seeds.dirty"  # present while a scenario has records changed
STAMP = "seeds.stamp.json"
HUGO_STAMP = "hugo.stamp.json"
COMPARABLE = ("all", "topics", "providers", "categories")  # the feeds naive and Hugo make too
COMPARABLE_TEXT = "all/topic/provider/category"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _count_files(folder: Path, pattern: str = "*") -> int:
    return sum(1 for path in folder.rglob(pattern) if path.is_file()) if folder.exists() else 0


def _remove(*folders: Path) -> None:
    for folder in folders:
        if folder.is_dir():
            shutil.rmtree(folder)
        elif folder.exists():
            folder.unlink()


Feed = tuple[tuple[str, float], ...]  # an RSS feed's items: (guid, publication time)
ITEM = re.compile(r"<item>.*?</item>", re.S)
GUID = re.compile(r"<guid[^>]*>([^<]*)</guid>")
PUB_DATE = re.compile(r"<pubDate>([^<]*)</pubDate>")


def _items(path: Path) -> Feed:
    items = []
    for item in ITEM.findall(path.read_text(encoding="utf-8")):
        guid, date = GUID.search(item), PUB_DATE.search(item)
        when = parsedate_to_datetime(date.group(1)).timestamp() if date else 0.0
        items.append((guid.group(1) if guid else "", when))
    return tuple(items)


def _feed_items(paths: Iterable[Path]) -> list[Feed]:
    """Every RSS feed's items, in order; the list sorted, so that file names do not matter."""
    return sorted(_items(path) for path in paths)


def _same_feeds(ours: list[Feed], theirs: list[Feed]) -> str:
    """How the items of two sets of feeds compare."""
    what = f"feedloom's {COMPARABLE_TEXT} feeds"
    if ours == theirs:
        return f"the same items in the same order as {what}"

    def normal(feeds: list[Feed]) -> list[Feed]:  # ties in time put in one order
        return sorted(tuple(sorted(feed, key=lambda item: (-item[1], item[0]))) for feed in feeds)

    if normal(ours) == normal(theirs):
        reordered = len(set(ours) - set(theirs))
        return (
            f"the same items as {what}; in {reordered} of them items published at the same "
            "moment come in another order"
        )
    differ = len(set(normal(ours)) ^ set(normal(theirs)))
    return f"NOT the same items as {what} ({differ} feeds differ)"


def _read_all(folder: Path) -> None:
    """Read every file once, so that no scenario pays for a cold page cache."""
    for path in folder.rglob("*"):
        if path.is_file():
            path.read_bytes()


# Work folder ------------------------------------------------------------------------------------


@dataclass
class Work:
    root: Path
    count: int
    seed: int

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def naive_out(self) -> Path:
        return self.root / "naive-out"

    @property
    def hugo_site(self) -> Path:
        return self.root / "hugo-site"

    @property
    def hugo_out(self) -> Path:
        return self.root / "hugo-public"

    @property
    def hugo_cache(self) -> Path:
        return self.root / "hugo-cache"

    def stamp(self) -> dict:
        generator = _digest(HERE / "records.py")
        return {"count": self.count, "seed": self.seed, "generator": generator}

    def prepare_records(self) -> bool:
        """Generate the records unless the ones there match; True when (re)generated."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp_file = self.root / STAMP
        try:
            old = json.loads(stamp_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        dirty = (self.root / DIRTY).exists()
        if old == self.stamp() and not dirty and _count_files(self.seeds) == self.count:
            log(f"reusing {self.count} records in {self.seeds}")
            return False
        _remove(stamp_file, self.seeds, self.root / HUGO_STAMP)
        log(f"generating {self.count} records in {self.seeds} ...")
        start = time.perf_counter()
        records.write_records(self.seeds, self.count, self.seed)
        log(f"  {time.perf_counter() - start:.1f} s")
        stamp_file.write_text(json.dumps(self.stamp()) + "\n", encoding="utf-8")
        (self.root / DIRTY).unlink(missing_ok=True)
        return True

    def prepare_feeds(self) -> None:
        """The shipped site settings and the four families naive and Hugo make too, in
        RSS and Atom like naive: the same work, so the times compare."""
        _remove(self.feeds)
        self.feeds.mkdir(parents=True)
        for kind in COMPARABLE:
            shutil.copy(REPO / "feeds" / f"{kind}.yaml", self.feeds / f"{kind}.yaml")
        site = (REPO / "feeds" / "site.yaml").read_text(encoding="utf-8")
        site = re.sub(r"(?m)^formats:.*$", "formats: [rss, atom]", site)
        (self.feeds / "site.yaml").write_text(site, encoding="utf-8")

    def prepare_hugo(self) -> None:
        stamp = {**self.stamp(), "site": _digest(HERE / "hugosite.py")}
        stamp_file = self.root / HUGO_STAMP
        try:
            old = json.loads(stamp_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        posts = self.hugo_site / "content" / "posts"
        if old == stamp and _count_files(posts) == self.count:
            log(f"reusing the Hugo site in {self.hugo_site}")
        else:
            _remove(stamp_file)
            log(f"writing the Hugo site in {self.hugo_site} ...")
            start = time.perf_counter()
            hugosite.write_site(self.hugo_site, self.seeds)
            log(f"  {time.perf_counter() - start:.1f} s")
            stamp_file.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
        hugosite.write_config(self.hugo_site)


# Scenarios --------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    runs: list[Measurement] = field(default_factory=list)
    """The timed runs, memory not sampled."""
    memory: Measurement | None = None
    """One more run, not timed, with the process tree's memory sampled."""

    @property
    def times(self) -> list[float]:
        return [run.seconds for run in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def peak_mb(self) -> float:
        assert self.memory is not None and self.memory.peak_mb is not None, self.name
        return self.memory.peak_mb

    @property
    def cpu(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    @property
    def others(self) -> float:
        """The largest share of the machine's CPUs that other processes used during a run."""
        cpus = os.cpu_count() or 1
        return max(run.other_cpu_seconds / run.seconds / cpus for run in self.runs)


def timed(result: Result, command: list, cwd: Path, number: int, repeat: int) -> Measurement:
    """Run ``number`` of a scenario: 1..repeat are timed; repeat + 1 samples memory.

    Sampling memory reads every process's smaps_rollup 50 times a second, CPU
    that a build using both CPUs would miss (a fifth of one CPU at N=100,000),
    so timed runs go unsampled and the peak comes from a run of its own.
    """
    if number > repeat:
        run = measure(command, cwd=cwd)
        result.memory = run
        log(f"  {result.name} memory: {run.peak_mb:.1f} MB ({run.samples} samples)")
        return run
    run = measure(command, cwd=cwd, interval=None)
    result.runs.append(run)
    log(
        f"  {result.name} {number}/{repeat}: {run.seconds:.3f} s, "
        f"cpu {run.cpu_seconds:.2f} s, others' cpu {run.other_cpu_seconds:.2f} s"
    )
    return run


class Bench:
    def __init__(self, work: Work, repeat: int, jobs: int | None) -> None:
        self.work = work
        self.repeat = repeat
        self.jobs = jobs
        self._ours: list[Feed] | None = None

    def rounds(self) -> range:
        """The runs of a scenario: ``repeat`` timed, then one sampling memory."""
        return range(1, self.repeat + 2)

    def feedloom(self) -> list:
        w = self.work
        command = [sys.executable, "-m", "feedloom", "build", "--seeds", w.seeds]
        command += ["--feeds", w.feeds, "--out", w.out, "--cache", w.cache, "-q"]
        return [*command, "-j", str(self.jobs)] if self.jobs else command

    def ours(self) -> list[Feed]:
        """feedloom's all, topic, provider and category RSS feeds (what naive and Hugo make),
        built from the unchanged records (as every scenario leaves them)."""
        if self._ours is None:
            manifest = json.loads((self.work.out / "feeds.json").read_text(encoding="utf-8"))
            self._ours = _feed_items(
                self.work.out / feed["files"]["rss"]
                for feed in manifest["feeds"]
                if feed["kind"] in COMPARABLE and "rss" in feed["files"]
            )
        return self._ours

    def build(self) -> None:
        """An untimed build, to reach a known state."""
        measure(self.feedloom(), cwd=self.work.root)

    def cold(self) -> Result:
        result = Result("feedloom cold build")
        log("feedloom cold build (one untimed warm-up first)")
        _remove(self.work.out, self.work.cache)
        self.build()
        for number in self.rounds():
            _remove(self.work.out, self.work.cache)
            timed(result, self.feedloom(), self.work.root, number, self.repeat)
        manifest = json.loads((self.work.out / "feeds.json").read_text(encoding="utf-8"))
        kinds = Counter(feed["kind"] for feed in manifest["feeds"])
        formats = Counter(name for feed in manifest["feeds"] for name in feed["files"])
        self.feedloom_note = (
            f"{len(manifest['feeds'])} feeds ("
            + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
            + "), files: "
            + ", ".join(f"{name} {count}" for name, count in sorted(formats.items()))
        )
        feed_files = {path for feed in manifest["feeds"] for path in feed["files"].values()}
        others = sorted(
            str(path.relative_to(self.work.out))
            for path in self.work.out.rglob("*")
            if path.is_file() and str(path.relative_to(self.work.out)) not in feed_files
        )
        self.feedloom_note += f", and {', '.join(others)}"
        return result

    def noop(self) -> Result:
        result = Result("feedloom no-op rebuild")
        log(result.name)
        self.build()
        for number in self.rounds():
            timed(result, self.feedloom(), self.work.root, number, self.repeat)
        return result

    def newest_published(self) -> tuple[Path, str]:
        """The record published last (drafts left out), and its text."""
        newest: tuple[str, Path, str] | None = None
        when = re.compile(r"^publishedDateTime: *(\S+)", re.M)
        for path in self.work.seeds.rglob("*.md"):
            text = path.read_text(encoding="utf-8")
            found = when.search(text)
            if not found or re.search(r"^published: *false", text, re.M):
                continue
            moment = found.group(1)  # the generator writes one format: sortable as text
            if newest is None or (moment, str(path)) > newest[:2]:
                newest = (moment, str(path), text)
        assert newest is not None, "no published record"
        return Path(newest[1]), newest[2]

    def edit(self) -> Result:
        result = Result("feedloom one record edited")
        path, original = self.newest_published()
        title = re.search(r'^title: "(.*)"$', original, re.M)
        assert title, f"no title line in {path}"
        log(f"{result.name}: {path.relative_to(self.work.root)}")
        self.build()
        (self.work.root / DIRTY).touch()
        try:
            for number in self.rounds():
                new_title = f"{title.group(1)} (edit {'AB'[number % 2]})"
                path.write_text(
                    original.replace(title.group(0), f'title: "{new_title}"', 1), encoding="utf-8"
                )
                timed(result, self.feedloom(), self.work.root, number, self.repeat)
                if new_title not in (self.work.out / "all.rss").read_text(encoding="utf-8"):
                    raise AssertionError(f"the edited title is not in all.rss: {new_title}")
        finally:
            path.write_text(original, encoding="utf-8")
            self.build()
            (self.work.root / DIRTY).unlink()
        return result

    def add(self) -> Result:
        added = max(1, self.work.count // 100)
        result = Result(f"feedloom 1% records added ({added})")
        log(result.name)
        folders_before = {p for p in self.work.seeds.iterdir() if p.is_dir()}
        self.build()
        (self.work.root / DIRTY).touch()
        paths: list[Path] = []
        try:
            for number in self.rounds():
                paths = records.write_records(
                    self.work.seeds, added, self.work.seed, start=self.work.count
                )
                timed(result, self.feedloom(), self.work.root, number, self.repeat)
                for path in paths:
                    path.unlink()
                paths = []
                self.build()
        finally:
            for path in paths:
                path.unlink(missing_ok=True)
            for folder in self.work.seeds.iterdir():
                if folder.is_dir() and folder not in folders_before and not any(folder.iterdir()):
                    folder.rmdir()
            if paths:
                self.build()
            (self.work.root / DIRTY).unlink()
        return result

    def naive(self) -> Result:
        result = Result("naive baseline (yaml.safe_load + feedgen)")
        log(result.name)
        command = [sys.executable, HERE / "naive.py", self.work.seeds, self.work.naive_out]
        for number in self.rounds():
            _remove(self.work.naive_out)
            timed(result, command, self.work.root, number, self.repeat)
        self.naive_rss = _count_files(self.work.naive_out, "*.rss")
        self.naive_atom = _count_files(self.work.naive_out, "*.atom")
        self.naive_same = _same_feeds(self.ours(), _feed_items(self.work.naive_out.rglob("*.rss")))
        return result

    def hugo(self, executable: str, version: str) -> Result:
        result = Result(f"Hugo {version} (RSS only)")
        log(result.name)
        w = self.work
        w.prepare_hugo()
        _read_all(w.hugo_site)
        command = [executable, "--quiet", "--destination", w.hugo_out, "--cacheDir", w.hugo_cache]
        for number in self.rounds():
            _remove(w.hugo_out, w.hugo_cache, w.hugo_site / "resources")
            timed(result, command, w.hugo_site, number, self.repeat)
        self.hugo_files = _count_files(w.hugo_out)
        self.hugo_rss = _count_files(w.hugo_out, "*.xml")
        self.hugo_same = _same_feeds(self.ours(), _feed_items(w.hugo_out.rglob("*.xml")))
        return result


# Report -----------------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def _times(ratio: float) -> str:
    return f"{ratio:.2f}" if ratio < 1 else f"{ratio:.1f}"


def _ratio(other: Result | None, this: Result) -> str:
    return "—" if other is None else _times(other.median / this.median)


def table(results: list[Result], naive: Result | None, hugo: Result | None) -> list[str]:
    lines = [
        "| scenario | median s | min–max s | peak MB | vs naive (×) | vs Hugo (×) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        spread = f"{_seconds(min(result.times))}–{_seconds(max(result.times))}"
        lines.append(
            f"| {result.name} | {_seconds(result.median)} | {spread} | {result.peak_mb:.0f} "
            f"| {_ratio(naive, result)} | {_ratio(hugo, result)} |"
        )
    return lines


def _check(ok: bool) -> str:
    return "met" if ok else "NOT met"


def targets(by_key: dict[str, Result], count: int) -> list[str]:
    cold, noop, edit = by_key["cold"], by_key["noop"], by_key["edit"]
    naive, hugo = by_key.get("naive"), by_key.get("hugo")
    lines = []
    if naive:
        speedup = naive.median / cold.median
        lines.append(
            f"cold build ≥ 8× faster than naive: {_times(speedup)}× — {_check(speedup >= 8)}"
        )
    if hugo:
        for name, result, want in (
            ("cold build no slower than Hugo", cold, 1),
            ("no-op rebuild ≥ 10× faster than Hugo's build", noop, 10),
            ("one record edited ≥ 5× faster than Hugo's build", edit, 5),
        ):
            speedup = hugo.median / result.median
            lines.append(f"{name}: {_times(speedup)}× — {_check(speedup >= want)}")
    peak = max(result.peak_mb for key, result in by_key.items() if key not in ("naive", "hugo"))
    if hugo:
        share = peak / hugo.peak_mb
        lines.append(
            f"peak memory ≤ 1/3 of Hugo's: feedloom {peak:.0f} MB (largest of its scenarios) vs "
            f"Hugo {hugo.peak_mb:.0f} MB = {share:.2f} — {_check(share <= 1 / 3)}"
        )
    at = f"peak memory < 400 MB at N=100,000: {peak:.0f} MB at N={count:,}"
    lines.append(f"{at} — {_check(peak < 400)}" if count >= 100_000 else f"{at} (not that N)")
    return lines


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine(args: argparse.Namespace, hugo_version: str | None) -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        feedloom = metadata.version("feedloom")
    except metadata.PackageNotFoundError:
        feedloom = "unknown"
    commit = _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _run(["git", "status", "--porcelain", "--", "src"]):
        commit += " + uncommitted changes in src/"
    hugo_missing = "skipped (--skip-hugo)" if args.skip_hugo else "not on PATH (skipped)"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- machine: {cpus} CPUs usable (nproc), {cpu}, {memory} RAM, {platform.platform()}",
        f"- python {platform.python_version()} ({sys.executable})",
        f"- feedloom {feedloom} (git {commit}), jobs: {args.jobs or 'default (one per CPU)'}",
        f"- hugo: {hugo_version or hugo_missing}",
        f"- N = {args.records:,} records (seed {args.seed}), {args.repeat} repetitions each",
        f"- command: {shlex.join([Path(sys.executable).name, *sys.argv])}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def hugo_version() -> tuple[str | None, str | None]:
    executable = shutil.which("hugo")
    if not executable:
        return None, None
    text = _run([executable, "version"])
    found = re.search(r"v(\d+\.\d+\.\d+)", text)
    return executable, (found.group(1) if found else text or "unknown")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records to generate")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each scenario")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="work folder")
    parser.add_argument("--jobs", type=int, help="feedloom --jobs (default: its own)")
    parser.add_argument("--seed", type=int, default=1, help="record generator seed")
    parser.add_argument("--skip-hugo", action="store_true", help="do not run Hugo")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the baseline")
    args = parser.parse_args(argv)
    if args.records < 1 or args.repeat < 1 or (args.jobs is not None and args.jobs < 1):
        parser.error("--records, --repeat and --jobs must be at least 1")
    if subprocess.run([sys.executable, "-c", "import feedloom"], check=False).returncode:
        parser.error(f"feedloom is not importable by {sys.executable}: run with the venv's python")

    executable, version = (None, None) if args.skip_hugo else hugo_version()
    if not args.skip_hugo and not executable:
        log("hugo is not on PATH: skipping Hugo (Debian: apt-get install -y hugo)")

    work = Work(args.work.resolve(), args.records, args.seed)
    work.prepare_records()
    work.prepare_feeds()
    _read_all(work.seeds)
    load_before = os.getloadavg()

    bench = Bench(work, args.repeat, args.jobs)
    by_key: dict[str, Result] = {}
    try:
        by_key["cold"] = bench.cold()
        by_key["noop"] = bench.noop()
        by_key["edit"] = bench.edit()
        by_key["add"] = bench.add()
        if not args.skip_naive:
            by_key["naive"] = bench.naive()
        if executable and version:
            by_key["hugo"] = bench.hugo(executable, version)
    except CommandFailed as error:
        log(f"failed: {error}")
        return 1
    load_after = os.getloadavg()

    results = list(by_key.values())
    lines = [f"## feedloom benchmark, N = {args.records:,}", ""]
    lines += table(results, by_key.get("naive"), by_key.get("hugo"))
    lines += ["", "Ratios are the other's median time / this median time (× faster than it).", ""]
    lines += ["Targets:", ""] + [f"- {line}" for line in targets(by_key, args.records)] + [""]
    lines += ["Notes:", ""]
    lines.append(
        "- feedloom (the shipped site.yaml and all/topics/providers/categories families, "
        f"in RSS and Atom, as naive writes them): {bench.feedloom_note}"
    )
    if "naive" in by_key:
        lines.append(
            f"- naive: {bench.naive_rss} RSS + {bench.naive_atom} Atom files; {bench.naive_same}"
        )
    if "hugo" in by_key:
        lines.append(
            f"- Hugo: {bench.hugo_rss} RSS files ({bench.hugo_files} files written in all): "
            f"home + every topic, provider and category term, RSS only; {bench.hugo_same}. "
            "feedloom and naive write RSS and Atom; "
            "Hugo has no incremental CLI build, so every feedloom scenario is compared with "
            "Hugo's full build"
        )
    lines.append(
        "- CPU time (user+sys, median): " + ", ".join(f"{r.name} {r.cpu:.2f} s" for r in results)
    )
    lines.append(
        "- CPU used by other processes during the timed runs, largest share of the machine: "
        + ", ".join(f"{r.name} {r.others:.0%}" for r in results)
    )
    lines.append(
        "- peak MB: the peak sum of Pss over the process tree, sampled every 20 ms in one more "
        "run of each scenario, not timed (sampling costs CPU that a build using both CPUs "
        "would miss)"
    )
    lines.append(
        f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}"
        " (other processes may share the machine)"
    )
    lines += machine(args, version)
    report = "\n".join(lines) + "\n"
    print(report)
    results_file = work.root / f"results-{args.records}.md"
    results_file.write_text(report, encoding="utf-8")
    log(f"written to {results_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
