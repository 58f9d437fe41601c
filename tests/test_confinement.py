"""Output confinement: nothing a record or a definition holds makes feedloom write,
delete or follow a symbolic link outside its output folder.

Keys from records (topics, providers, categories, types) and configuration
values (custom slugs and folders) are tried with '..', absolute paths, NUL
bytes, Windows device names, very long names and Unicode look-alikes. Symbolic
links are planted in the output folder, and the manifest is tampered with.
After every build, everything around the output folder is compared with a
snapshot taken before it: only the output folder and the cache may change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import article_fields, record_text
from feedloom.api import BuildOptions, BuildReport, build
from feedloom.cli import main
from feedloom.config import ConfigError
from feedloom.publish import PublishError

HOSTILE_NAMES = [
    "..",
    ".",
    "../../etc",
    "../../../../../../tmp/feedloom-escape",
    "/abs/path",
    "/etc/passwd",
    "a/../../b",
    "topics/../../outside",
    "..\\..\\windows",
    "C:\\Windows\\System32",
    "\\\\server\\share",
    "x\x00y",
    "\x00",
    "CON",
    "con",
    "nul.txt",
    "NUL",
    "com1",
    "LPT9",
    "aux.rss",
    "n" * 10_000,
    "\u2024\u2024",  # ONE DOT LEADER, twice: looks like '..'
    "\u2024\u2024/\u2024\u2024/etc",
    "\uff0fetc\uff0fpasswd",  # FULLWIDTH SOLIDUS
    "\u2215etc",  # DIVISION SLASH
    "\uff0e\uff0e",  # FULLWIDTH FULL STOP, twice
    ".\u0301.",  # '..' with a combining acute accent
    "..\u0338",
    "\u202e..",  # RIGHT-TO-LEFT OVERRIDE
    "%2e%2e%2f%2e%2e%2f",
    "~",
    "~root",
    "$HOME",
    "-rf",
    " ",
    "feeds",
    "index",
    ".hidden",
    "a" * 255,
    "é" * 200,
]
# A definition that groups by type, so record types become file names too.
TYPES_FAMILY = "kind: types\ngroup_by: type\n"
# A file name part as feedloom writes them: lower-case ASCII, digits, '-', '.'.
SAFE_PART = re.compile(r"[a-z0-9][a-z0-9.-]*")
WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{d}{n}" for d in ("com", "lpt") for n in range(10)
}


# --- snapshots of everything around the output folder ---------------------------------------


def snapshot(root: Path, skip: Iterable[Path] = ()) -> dict[str, tuple]:
    """Every entry below ``root`` (links not followed): its kind, target or content hash, mode."""
    skipped = {str(p) for p in skip}
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skipped]
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if path in skipped:
                continue
            info = os.lstat(path)
            if os.path.islink(path):
                found[path] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                found[path] = ("dir", info.st_mode)
            else:
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                found[path] = ("file", info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return found


class Surroundings:
    """What lies around the output folder, to compare after a build."""

    def __init__(self, root: Path, *inside: Path) -> None:
        self.root, self.inside = root, inside
        self.before = snapshot(root, inside)
        self.absolute = {p: p.exists() for p in map(Path, ABSOLUTE_PROBES)}

    def assert_untouched(self) -> None:
        after = snapshot(self.root, self.inside)
        changed = sorted(
            p for p in self.before.keys() | after.keys() if self.before.get(p) != after.get(p)
        )
        assert not changed, f"changed outside the output folder: {changed[:20]}"
        for path, existed in self.absolute.items():
            assert path.exists() == existed, f"{path} appeared or vanished"


# Places an escape through an absolute or relative name would land in.
ABSOLUTE_PROBES = [
    "/abs",
    "/abs/path",
    "/etc/passwd.rss",
    "/etc/passwd.atom",
    "/tmp/feedloom-escape",
    "/tmp/feedloom-escape.rss",
    "/outside",
]


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A project folder with the output three folders deep, and a folder beside it."""
    project = tmp_path / "project"
    out = project / "site" / "public" / "output"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    (outside / "victim.rss").write_text("not feedloom's")
    (outside / "topics").mkdir()
    (outside / "topics" / "ai.rss").write_text("someone else's feed")
    seeds = project / "seeds"
    seeds.mkdir(parents=True)
    out.parent.mkdir(parents=True)
    return {"root": tmp_path, "project": project, "out": out, "outside": outside, "seeds": seeds}


def copy_feeds(feeds_dir: Path, target: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(feeds_dir, target, dirs_exist_ok=True)
    for name, text in (extra or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    return target


def run(
    seeds: Path, feeds: Path, out: Path, cache: Path | None = None, **options: Any
) -> BuildReport:
    return build(BuildOptions(seeds=seeds, feeds=feeds, out=out, cache=cache, jobs=1, **options))


def files_below(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() or p.is_symlink()}


def assert_safe_names(out: Path) -> None:
    """Every entry of the output folder: a real file or folder with a safe, short name."""
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        assert not path.is_symlink(), relative
        for part in relative.parts:
            assert SAFE_PART.fullmatch(part), f"unsafe name {part[:80]!r} in {relative}"
            assert len(part.encode()) <= 100, f"long name {part[:80]!r}"
            assert part.split(".")[0] not in WINDOWS_DEVICES, f"device name {part!r}"


def manifest(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "feeds.json").read_bytes())["feeds"]


# --- keys from records ------------------------------------------------------------------------


def hostile_records(seeds: Path, field: str) -> None:
    for n, name in enumerate(HOSTILE_NAMES, start=1):
        if field == "provider":
            value: Any = {"name": name, "domain": name}
        elif field == "provider-name":
            value = {"name": name, "domain": f"p{n}.example"}
        elif field == "topics":
            value = [name]
        else:
            value = name
        key = "provider" if field.startswith("provider") else field
        fields = article_fields(n, **{key: value, "webUrl": f"https://news.example.com/{n}"})
        (seeds / f"r{n:03d}.md").write_text(record_text(fields), encoding="utf-8")


@pytest.mark.parametrize("field", ["topics", "provider", "provider-name", "category", "type"])
def test_no_record_key_writes_outside_the_output_folder(world, feeds_dir, field):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds", {"types.yaml": TYPES_FAMILY})
    hostile_records(world["seeds"], field)
    cache = world["project"] / ".feedloom"
    around = Surroundings(world["root"], world["out"], cache)
    report = run(world["seeds"], feeds, world["out"], cache)
    assert report.published and report.rejected == 0, report.diagnostics
    around.assert_untouched()
    assert_safe_names(world["out"])
    entries = manifest(world["out"])
    for kind in {e["kind"] for e in entries}:
        slugs = [e["slug"] for e in entries if e["kind"] == kind]
        assert len(slugs) == len(set(slugs)), f"two {kind} feeds share a file"
    # Keys that differ get feeds of their own: no name was lost or merged into another.
    family = {"topics": "topics", "category": "categories", "type": "types"}.get(field)
    if family:
        keys = {e["key"] for e in entries if e["kind"] == family}
        assert len(keys) >= len(HOSTILE_NAMES) - 5, sorted(keys)[:10]
    listed = {path for entry in entries for path in entry["files"].values()}
    assert listed | {"feeds.json", "index.html", "index.opml"} == files_below(world["out"])


def test_hostile_keys_build_again_without_change_and_prune_inside_only(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    hostile_records(world["seeds"], "topics")
    cache = world["project"] / ".feedloom"
    around = Surroundings(world["root"], world["out"], cache)
    run(world["seeds"], feeds, world["out"], cache)
    around.assert_untouched()
    first = files_below(world["out"])
    for path in list(world["seeds"].iterdir())[::2]:
        path.unlink()  # half the topics disappear: their feeds are pruned
    around = Surroundings(world["root"], world["out"], cache)
    run(world["seeds"], feeds, world["out"], cache)
    assert files_below(world["out"]) < first
    around.assert_untouched()
    assert_safe_names(world["out"])


# --- configuration values --------------------------------------------------------------------

BAD_SLUGS = [
    "..",
    "../outside",
    "/abs",
    "a/b",
    "a\x00b",
    "\x00",
    "UPPER",
    "x" * 61,
    "\u2024\u2024",
    "\uff0fetc",
    "a\u0301",
    "-leading",
    "",
    " ",
    "feeds",
    "index",
]
BAD_FOLDERS = [
    "..",
    "../outside",
    "../../../../etc",
    "/abs",
    "/etc",
    "a/../../b",
    "a//b",
    "a/./b",
    "./a",
    "a/",
    "a\x00b",
    "\u2024\u2024",
    "\uff0e\uff0e/x",
    "\uff0f",
    "a\\..\\b",
    "C:\\x",
    "x" * 61,
]


def custom_definition(slug: str | None = None, folder: str | None = None) -> str:
    lines = ["kind: custom"]
    if slug is not None:
        lines.append(f"slug: {json.dumps(slug)}")
    if folder is not None:
        lines.append(f"folder: {json.dumps(folder)}")
    return "\n".join(lines) + "\n"


def config_problems(seeds: Path, feeds: Path, out: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        run(seeds, feeds, out)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("key", "value"),
    [*(("slug", slug) for slug in BAD_SLUGS), *(("folder", folder) for folder in BAD_FOLDERS)],
)
def test_a_custom_slug_or_folder_that_could_leave_the_output_is_a_config_error_naming_the_key(
    world, feeds_dir, key, value
):
    if key == "slug":
        definition = custom_definition(slug=value)
    else:
        definition = custom_definition(slug="mine", folder=value)
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds", {"x.yaml": definition})
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    around = Surroundings(world["root"], world["out"])
    problems = config_problems(world["seeds"], feeds, world["out"])
    named = [p for p in problems if p.startswith(f"{feeds / 'x.yaml'}:") and f": {key}:" in p]
    assert named, problems
    assert all("\n" not in p for p in problems)
    assert not world["out"].exists(), "a config error must write nothing"
    around.assert_untouched()


@pytest.mark.parametrize(
    "definition",
    [
        custom_definition(slug="con"),
        custom_definition(slug="nul"),
        custom_definition(slug="mine", folder="aux"),
        custom_definition(slug="lpt1", folder="x"),
        "kind: com1\ngroup_by: topic\n",
    ],
    ids=["slug-con", "slug-nul", "folder-aux", "slug-lpt1", "kind-com1"],
)
def test_a_windows_device_name_as_slug_or_folder_is_a_config_error(world, feeds_dir, definition):
    """Topic keys never become device names (they get a suffix); definitions should not either."""
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds", {"x.yaml": definition})
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    problems = config_problems(world["seeds"], feeds, world["out"])
    assert any(p.startswith(f"{feeds / 'x.yaml'}:") for p in problems), problems


@pytest.mark.parametrize(
    ("definition", "archive"),
    [
        (custom_definition(slug="ai", folder="topics"), False),
        (custom_definition(slug="1", folder="topics/ai/archive"), True),
    ],
    ids=["topics/ai", "topics/ai/archive/1"],
)
def test_a_custom_feed_may_not_take_the_file_of_another_feed(world, feeds_dir, definition, archive):
    """folder: topics, slug: ai would be written over topics/ai.rss (or the other way
    round); with archives on, topics/ai/archive/1 is the AI feed's oldest archive."""
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds", {"x.yaml": definition})
    if archive:
        site = feeds / "site.yaml"
        site.write_text(site.read_text() + "\narchive: true\narchive_size: 1\n")
    for n in range(1, 4):
        fields = article_fields(n, topics=["AI"])
        (world["seeds"] / f"a{n}.md").write_text(record_text(fields))
    problems = config_problems(world["seeds"], feeds, world["out"])
    assert any(p.startswith(f"{feeds / 'x.yaml'}:") for p in problems), problems


@pytest.mark.parametrize(
    "folder",
    ["/".join(["a"] * 1500), "/".join(["b" * 60] * 80)],
    ids=["1500-levels", "4880-characters"],
)
def test_a_folder_too_deep_or_too_long_is_a_clear_error_not_a_crash(world, feeds_dir, folder):
    definition = custom_definition(slug="deep", folder=folder)
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds", {"x.yaml": definition})
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    around = Surroundings(world["root"], world["out"])
    args = ["build", "--seeds", str(world["seeds"]), "--feeds", str(feeds)]
    result = CliRunner().invoke(main, [*args, "--out", str(world["out"]), "--no-cache", "-j", "1"])
    assert isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}"
    assert result.exit_code in (1, 2), result.output
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(("feedloom: ", str(feeds))) for line in lines), lines
    around.assert_untouched()


# --- symbolic links in and around the output folder -----------------------------------------


def test_an_output_folder_reached_through_a_symlink_is_fine(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    real = world["root"] / "real-output"
    real.mkdir()
    link = world["project"] / "out-link"
    link.symlink_to(real, target_is_directory=True)
    report = run(world["seeds"], feeds, link)
    assert report.published
    assert (real / "all.rss").is_file() and (real / "feeds.json").is_file()
    assert link.is_symlink()


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("sub", ["topics", "providers", "categories"])
def test_a_symlinked_sub_folder_makes_the_build_refuse_and_nothing_is_written_outside(
    world, feeds_dir, sub, jobs
):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    for n in range(1, 41):  # enough feeds for the workers to share them
        topics = ["AI", f"Topic {n}"]
        fields = article_fields(n, topics=topics, category=f"cat{n}")
        fields["provider"] = {"name": f"P{n}", "domain": f"p{n}.example"}
        (world["seeds"] / f"a{n}.md").write_text(record_text(fields))
    world["out"].mkdir(parents=True)
    (world["out"] / sub).symlink_to(world["outside"], target_is_directory=True)
    around = Surroundings(world["root"], world["out"])
    outside_before = snapshot(world["outside"])
    args = ["build", "--seeds", str(world["seeds"]), "--feeds", str(feeds)]
    args += ["--out", str(world["out"]), "--no-cache", "-j", str(jobs)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("feedloom: ") and "symbolic link" in message, result.stderr
    assert snapshot(world["outside"]) == outside_before
    around.assert_untouched()
    assert (world["out"] / sub).is_symlink(), "the link itself is left alone"
    # No feed is listed as published; what was written is named as feedloom's to remove.
    manifest = json.loads((world["out"] / "feeds.json").read_text(encoding="utf-8"))
    assert manifest["feeds"] == []
    written = {p.relative_to(world["out"]).as_posix() for p in world["out"].glob("*.*")}
    assert written - {"feeds.json"} <= set(manifest["unlisted"])
    leftovers = list(world["out"].rglob(".*.tmp"))
    assert not leftovers, leftovers


def test_the_api_raises_publish_error_for_a_symlinked_sub_folder(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    world["out"].mkdir(parents=True)
    (world["out"] / "topics").symlink_to(world["outside"] / "topics", target_is_directory=True)
    around = Surroundings(world["root"], world["out"])
    with pytest.raises(PublishError, match="symbolic link"):
        run(world["seeds"], feeds, world["out"])
    around.assert_untouched()
    assert (world["outside"] / "topics" / "ai.rss").read_text() == "someone else's feed"


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
@pytest.mark.parametrize(
    "name", ["all.rss", "all.atom", "feeds.json", "index.html", "topics/ai.rss"]
)
def test_a_feed_file_that_is_a_symlink_is_replaced_never_written_through(
    world, feeds_dir, name, dangling
):
    """A link to a file outside is never written through; a dangling one creates nothing."""
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    target = world["out"] / name
    target.parent.mkdir(parents=True)
    victim = world["outside"] / ("created-through-a-link.rss" if dangling else "victim.txt")
    assert victim.exists() is not dangling
    target.symlink_to(victim)
    around = Surroundings(world["root"], world["out"])
    run(world["seeds"], feeds, world["out"])
    around.assert_untouched()
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text() == "precious"
    assert not target.is_symlink() and target.is_file() and target.stat().st_size > 100


def tamper(out: Path, files: dict[str, str]) -> None:
    document = json.loads((out / "feeds.json").read_bytes())
    document["feeds"].append(
        {
            "kind": "topics",
            "key": "gone",
            "title": "t",
            "slug": "gone",
            "items": 1,
            "newest": "2021-01-01T00:00:00Z",
            "headline": "h",
            "files": files,
        }
    )
    (out / "feeds.json").write_text(json.dumps(document))


def test_pruning_never_follows_a_tampered_manifest_outside(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    out, outside = world["out"], world["outside"]
    run(world["seeds"], feeds, out)
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "topics" / "deeper").symlink_to(outside / "topics", target_is_directory=True)
    (out / "file-link.rss").symlink_to(outside / "victim.rss")
    relative = os.path.relpath(outside / "victim.txt", out)
    names = {
        "a": relative,
        "b": str(outside / "victim.txt"),
        "c": "../" * 8 + str(outside / "victim.rss").lstrip("/"),
        "d": "link/victim.txt",
        "e": "link/topics/ai.rss",
        "f": "topics/deeper/ai.rss",
        "g": "topics/../../../../outside/victim.rss",
        "h": "./link/victim.rss",
        "i": "link",
        "j": "topics\\..\\..\\victim.txt",
        "k": "link/../link/victim.txt",
        "l": "\x00../victim.txt",
        "m": "",
        "n": ".",
        "o": "file-link.rss",
    }
    tamper(out, names)
    before = snapshot(outside)
    around = Surroundings(world["root"], out)
    run(world["seeds"], feeds, out)
    assert snapshot(outside) == before
    around.assert_untouched()
    assert (out / "all.rss").is_file()
    # A link inside the output folder that the manifest lists may go (it is inside);
    # what it points to stays.
    assert (outside / "victim.rss").read_text() == "not feedloom's"


def test_a_manifest_that_is_a_symlink_is_replaced_and_its_target_kept(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    out, outside = world["out"], world["outside"]
    run(world["seeds"], feeds, out)
    foreign = outside / "foreign-manifest.json"
    entry = {"kind": "x", "key": "x", "title": "x", "slug": "x", "items": 1, "newest": "x"}
    entry["files"] = {"rss": "../victim.txt", "atom": str(outside / "victim.rss")}
    foreign.write_text(json.dumps({"feeds": [entry]}))
    (out / "feeds.json").unlink()
    (out / "feeds.json").symlink_to(foreign)
    before = snapshot(outside)
    run(world["seeds"], feeds, out)
    assert snapshot(outside) == before
    assert not (out / "feeds.json").is_symlink()


def test_leftover_sweeping_never_enters_a_symlinked_folder(world, feeds_dir):
    feeds = copy_feeds(feeds_dir, world["project"] / "feeds")
    (world["seeds"] / "a.md").write_text(record_text(article_fields(1)))
    out, outside = world["out"], world["outside"]
    run(world["seeds"], feeds, out)
    bait = outside / ".victim.rss.abcd1234.tmp"
    bait.write_text("looks like a leftover, is not ours")
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / ".all.rss.zzzz9999.tmp").symlink_to(outside / "victim.txt")
    before = snapshot(outside)
    (world["seeds"] / "b.md").write_text(record_text(article_fields(2)))
    run(world["seeds"], feeds, out)
    assert snapshot(outside) == before
    assert bait.exists()
