"""End-to-end tests of the library API: real record files in, real feed files out."""

from __future__ import annotations

import calendar
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser
import pytest
import yaml

from conftest import (
    ROBOT_REPORT,
    SHIPPED_FEEDS,
    SHIPPED_SEEDS,
    THREE_FEEDS,
    article_fields,
    files_in,
    three_records,
)
from feedloom import BuildError, BuildOptions, build, check, list_feeds
from feedloom.api import BuildReport

MANIFEST_KEYS = {"kind", "key", "title", "slug", "items", "newest", "headline", "files"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
SITE_TITLE = "A.I. Every Day"


# --- helpers ---------------------------------------------------------------


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    return build(BuildOptions(seeds=seeds, feeds=feeds, out=out, **options))


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file below ``out``."""
    stats = {p.relative_to(out).as_posix(): p.stat() for p in out.rglob("*") if p.is_file()}
    return {path: (s.st_ino, s.st_mtime_ns) for path, s in stats.items()}


def manifest(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "feeds.json").read_text(encoding="utf-8"))["feeds"]


def feed_files(out: Path) -> set[str]:
    return {p for p in files_in(out) if p.endswith((".rss", ".atom"))}


def parse(path: Path) -> feedparser.FeedParserDict:
    return feedparser.parse(path.read_bytes())


def entry_time(entry: Any) -> int:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return calendar.timegm(parsed)


def front_matter(path: Path) -> dict[str, Any]:
    """A record's fields, read independently of feedloom: plain yaml.safe_load."""
    lines = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
    assert lines[0].strip() == "---", path
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    return yaml.safe_load("\n".join(lines[1:end])) or {}


def record_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def canonical(url: str) -> str:
    """Host lower-cased, utm_* parameters and the fragment dropped."""
    parts = urlsplit(url.strip())
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("utm_"))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def record_time(value: Any) -> datetime:
    """The UTC moment a record's publishedDateTime means (only the forms the seeds use)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = parsedate_to_datetime(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def published_records(folder: Path) -> list[dict[str, Any]]:
    """Non-draft records, one per canonical link: the copy published last wins."""
    best: dict[str, dict[str, Any]] = {}
    for path in record_files(folder):
        fields = front_matter(path)
        if fields.get("published", True) is False:
            continue
        link = fields.get("webUrl") or fields["originalUrl"]
        key = canonical(link)
        other = best.get(key)
        if other is None or record_time(fields["publishedDateTime"]) > record_time(
            other["publishedDateTime"]
        ):
            best[key] = fields
    return list(best.values())


def image_url(image: Any) -> str:
    url = image if isinstance(image, str) else image["url"]
    return url.replace("&#038;", "&")


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildReport, Path]:
    """One build of the shipped seeds with the shipped feed definitions."""
    folder = tmp_path_factory.mktemp("shipped")
    out = folder / "output"
    return run(SHIPPED_SEEDS, SHIPPED_FEEDS, out, cache=folder / "cache"), out


# --- layout and manifest ---------------------------------------------------


def test_layout_has_one_pair_of_files_per_topic_provider_category_and_all(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    report = run(seeds, feeds_dir, out)
    assert report.exit_status == 0
    assert set(files_in(out)) == {
        "feeds.json",
        "index.opml",
        "index.html",
        *(f"{path}.{suffix}" for path in THREE_FEEDS for suffix in ("rss", "atom")),
    }


def test_manifest_lists_every_feed_with_kind_key_title_slug_items_newest_files(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    run(seeds, feeds_dir, out)
    feeds = manifest(out)
    for feed in feeds:
        assert set(feed) == MANIFEST_KEYS
        assert ISO_UTC.fullmatch(feed["newest"])
    listed = {path for feed in feeds for path in feed["files"].values()}
    assert listed == feed_files(out)
    robotics = next(f for f in feeds if f["kind"] == "topics" and f["key"] == "Robotics")
    assert robotics == {
        "kind": "topics",
        "key": "Robotics",
        "title": f"{SITE_TITLE}: Robotics",
        "slug": "robotics",
        "items": 1,
        "newest": "2021-03-03T09:02:00Z",
        "headline": "Article 2",
        "files": {"rss": "topics/robotics.rss", "atom": "topics/robotics.atom"},
    }


def test_provider_feeds_are_keyed_by_domain_and_titled_by_name(write_record, seeds, feeds_dir, out):
    # Same name, two domains: two feeds; same domain, name spelt in both: one feed.
    same_name = {"name": "The Chronicle", "domain": "chronicle.example.com"}
    write_record("a.md", article_fields(1, provider=same_name))
    write_record("b.md", article_fields(2, provider=same_name))
    write_record(
        "c.md",
        article_fields(3, provider={"name": "The Chronicle", "domain": "chronicle.example.co.uk"}),
    )
    run(seeds, feeds_dir, out)
    providers = {f["key"]: f for f in manifest(out) if f["kind"] == "providers"}
    assert set(providers) == {"chronicle.example.com", "chronicle.example.co.uk"}
    assert providers["chronicle.example.com"]["items"] == 2
    assert providers["chronicle.example.co.uk"]["items"] == 1
    for key, feed in providers.items():
        assert "The Chronicle" in feed["title"]
        assert feed["files"]["rss"] == f"providers/{key.replace('.', '-')}.rss"
        title = parse(out / feed["files"]["rss"]).feed.title
        assert title == feed["title"]


def test_manifest_items_and_newest_agree_with_the_feed_files(shipped):
    _, out = shipped
    for feed in manifest(out):
        assert set(feed["files"]) == {"rss", "atom", "json"}
        for name, path in feed["files"].items():
            if name == "json":  # feedparser reads no JSON Feed
                items = json.loads((out / path).read_text())["items"]
                assert len(items) == feed["items"], path
                assert max(i["date_published"] for i in items) == feed["newest"], path
                continue
            parsed = parse(out / path)
            assert len(parsed.entries) == feed["items"], path
            newest = max(entry_time(e) for e in parsed.entries)
            assert (
                datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                == (feed["newest"])
            ), path


def test_list_feeds_returns_what_the_build_published(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    run(seeds, feeds_dir, out)
    listed = {(e.kind, e.slug): (e.items, e.newest, e.files) for e in list_feeds(out)}
    assert listed[("all", "all")] == (
        3,
        "2021-03-04T09:03:00Z",
        {"rss": "all.rss", "atom": "all.atom"},
    )
    assert listed[("topics", "ai")][0] == 2
    assert len(listed) == 8


def test_list_feeds_without_a_manifest_raises_build_error(tmp_path):
    with pytest.raises(BuildError, match=r"feeds\.json"):
        list_feeds(tmp_path / "nothing-built-here")


# --- determinism and writing -------------------------------------------------


def test_same_input_gives_byte_identical_output_in_two_folders(
    write_record, seeds, feeds_dir, tmp_path
):
    three_records(write_record)
    run(seeds, feeds_dir, tmp_path / "first")
    run(seeds, feeds_dir, tmp_path / "second")
    first, second = files_in(tmp_path / "first"), files_in(tmp_path / "second")
    assert len(first) == 19  # 8 feeds in two formats, feeds.json, index.opml, index.html
    assert first == second


def test_rebuild_without_changes_rewrites_nothing(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    run(seeds, feeds_dir, out)
    before, contents = stamps(out), files_in(out)
    report = run(seeds, feeds_dir, out)
    assert report.written == ()
    assert set(report.unchanged) == feed_files(out)
    assert report.removed == ()
    assert stamps(out) == before  # inode and mtime_ns of every file, the manifest included
    assert files_in(out) == contents


def test_changed_files_are_replaced_by_rename_with_no_temporary_file_left(
    umask_022, write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    run(seeds, feeds_dir, out)
    inode = (out / "all.rss").stat().st_ino
    write_record("one.md", article_fields(1, topics=["AI"], title="Article 1, revised"))
    run(seeds, feeds_dir, out)
    assert b"Article 1, revised" in (out / "all.rss").read_bytes()
    assert (out / "all.rss").stat().st_ino != inode  # a new file renamed over the old one
    leftovers = [p for p in files_in(out) if p.endswith(".tmp") or "/." in f"/{p}"]
    assert leftovers == []
    for path in (out / "all.rss", out / "topics" / "ai.atom", out / "feeds.json"):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_editing_one_record_rewrites_only_the_feeds_that_contain_it(
    write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    run(seeds, feeds_dir, out)
    before = stamps(out)
    write_record(
        "two.md",
        article_fields(
            2,
            topics=["Robotics"],
            category="research",
            provider=ROBOT_REPORT,
            excerpt="A corrected excerpt.",
        ),
    )
    report = run(seeds, feeds_dir, out)
    expected = {
        f"{path}.{suffix}"
        for path in ("all", "topics/robotics", "providers/robots-example-io", "categories/research")
        for suffix in ("rss", "atom")
    }
    assert set(report.written) == expected
    assert set(report.unchanged) == feed_files(out) - expected
    after = stamps(out)
    assert {p for p in after if after[p] != before[p]} == expected


# --- removal -----------------------------------------------------------------


def test_feed_of_a_topic_that_disappeared_is_removed(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1, topics=["AI", "Robotics"]))
    write_record("two.md", article_fields(2, topics=["AI"]))
    run(seeds, feeds_dir, out)
    assert (out / "topics" / "robotics.rss").is_file()
    write_record("one.md", article_fields(1, topics=["AI"]))
    report = run(seeds, feeds_dir, out)
    assert report.removed == ("topics/robotics.atom", "topics/robotics.rss")
    assert not (out / "topics" / "robotics.rss").exists()
    assert not (out / "topics" / "robotics.atom").exists()
    assert (out / "topics" / "ai.rss").is_file()
    assert "Robotics" not in {f["key"] for f in manifest(out)}


def test_folder_left_empty_by_removal_is_removed(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1))
    run(seeds, feeds_dir, out)
    assert (out / "categories").is_dir()
    write_record("one.md", article_fields(1, category=None))
    run(seeds, feeds_dir, out)
    assert not (out / "categories").exists()
    assert (out / "all.rss").is_file()


def test_files_the_user_put_in_the_output_folder_survive(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1, topics=["AI", "Robotics"]))
    run(seeds, feeds_dir, out)
    mine = {
        "topics/mine.rss": b"<rss>the user's own feed</rss>",
        "categories/mine.atom": b"<feed>kept</feed>",
        "README.txt": b"notes",
    }
    for path, data in mine.items():
        (out / path).write_bytes(data)
    write_record("one.md", article_fields(1, topics=[], category=None))
    report = run(seeds, feeds_dir, out)
    assert "topics/robotics.rss" in report.removed
    assert "categories/news.rss" in report.removed
    assert not (out / "topics" / "ai.rss").exists()
    for path, data in mine.items():
        assert (out / path).read_bytes() == data, path


def test_removal_never_reaches_outside_the_output_folder(
    write_record, seeds, feeds_dir, out, tmp_path
):
    write_record("one.md", article_fields(1))
    run(seeds, feeds_dir, out)
    victim = tmp_path / "victim.rss"
    victim.write_text("not feedloom's")
    document = json.loads((out / "feeds.json").read_bytes())
    document["feeds"][0]["files"] = {
        "rss": "../victim.rss",
        "atom": str(victim),
        "json": "topics/../../victim.rss",
    }
    (out / "feeds.json").write_text(json.dumps(document))
    run(seeds, feeds_dir, out)
    assert victim.read_text() == "not feedloom's"
    assert (out / "all.rss").is_file()


# --- drafts, rejections, strict --------------------------------------------


def test_drafts_are_left_out_by_default(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1))
    write_record("draft.md", article_fields(2, topics=["Robotics"], published=False))
    run(seeds, feeds_dir, out)
    assert {f["key"]: f["items"] for f in manifest(out) if f["kind"] in ("all", "topics")} == {
        "": 1,
        "AI": 1,
    }
    assert "Article 2" not in [e.title for e in parse(out / "all.rss").entries]


def test_include_unpublished_publishes_drafts(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1))
    write_record("draft.md", article_fields(2, topics=["Robotics"], published=False))
    run(seeds, feeds_dir, out, include_unpublished=True)
    assert {f["key"]: f["items"] for f in manifest(out) if f["kind"] in ("all", "topics")} == {
        "": 2,
        "AI": 1,
        "Robotics": 1,
    }
    assert "Article 2" in [e.title for e in parse(out / "all.rss").entries]


def test_rejected_record_is_reported_by_line_and_the_others_published(
    write_record, seeds, feeds_dir, out
):
    write_record("good.md", article_fields(1))
    bad = article_fields(2, publishedDateTime="sometime last spring")
    write_record("bad.md", bad)
    report = run(seeds, feeds_dir, out)
    assert report.exit_status == 3
    errors = [str(d) for d in report.diagnostics if d.severity == "error"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{seeds}/bad.md:4: publishedDateTime"), errors[0]
    assert [e.title for e in parse(out / "all.rss").entries] == ["Article 1"]


def test_strict_writes_nothing_into_a_new_output_folder(write_record, seeds, feeds_dir, out):
    write_record("good.md", article_fields(1))
    write_record("bad.md", text="---\ntitle: [not, text]\n---\n")
    report = run(seeds, feeds_dir, out, strict=True)
    assert report.exit_status == 1
    assert not report.published
    assert not out.exists()


def test_strict_leaves_an_earlier_output_untouched(write_record, seeds, feeds_dir, out):
    write_record("good.md", article_fields(1))
    run(seeds, feeds_dir, out)
    contents, before = files_in(out), stamps(out)
    write_record("good.md", article_fields(1, title="Changed title", topics=["Robotics"]))
    write_record("bad.md", text="---\ntitle: [not, text]\n---\n")
    report = run(seeds, feeds_dir, out, strict=True)
    assert report.exit_status == 1
    assert files_in(out) == contents
    assert stamps(out) == before


def test_check_reports_rejections_and_writes_nothing(write_record, seeds, feeds_dir, out):
    write_record("good.md", article_fields(1))
    write_record("bad.md", text="---\ntitle: Fine\nwebUrl: javascript:alert(1)\n---\n")
    report = check(BuildOptions(seeds=seeds, feeds=feeds_dir, out=out))
    assert report.records == 2
    assert len(report.articles) == 1
    assert report.rejected == 1
    assert [str(d).split(": ")[0] for d in report.diagnostics] == [f"{seeds}/bad.md:3"]
    assert "webUrl" in str(report.diagnostics[0])
    assert not out.exists()


def test_seeds_folder_without_records_fails_and_keeps_the_earlier_feeds(
    write_record, seeds, feeds_dir, out
):
    write_record("good.md", article_fields(1))
    run(seeds, feeds_dir, out)
    contents = files_in(out)
    (seeds / "good.md").unlink()
    with pytest.raises(BuildError, match="no records"):
        run(seeds, feeds_dir, out)
    assert files_in(out) == contents


def test_no_article_left_to_publish_keeps_the_earlier_feeds(write_record, seeds, feeds_dir, out):
    write_record("good.md", article_fields(1))
    run(seeds, feeds_dir, out)
    contents = files_in(out)
    write_record("good.md", text="---\ntitle: [not, text]\n---\n")
    report = run(seeds, feeds_dir, out)
    assert report.exit_status == 1
    assert "no article to publish" in report.withheld
    assert files_in(out) == contents


def test_file_mode_follows_the_umask_at_build_time(write_record, seeds, feeds_dir, out):
    write_record("one.md", article_fields(1))
    previous = os.umask(0o027)
    try:
        run(seeds, feeds_dir, out)
    finally:
        os.umask(previous)
    assert (out / "all.rss").stat().st_mode & 0o777 == 0o640


# --- the shipped seeds -------------------------------------------------------


def test_shipped_seeds_build_with_exit_status_0_and_no_warnings(shipped):
    report, _ = shipped
    assert report.exit_status == 0
    assert report.records == 37
    assert [str(d) for d in report.diagnostics if d.severity != "notice"] == []


def test_shipped_seeds_give_the_documented_counts(shipped):
    # docs/seeds.md "Expected counts", written by hand from the records.
    _, out = shipped
    items = {(f["kind"], f["key"]): f["items"] for f in manifest(out)}
    assert items == {
        ("all", ""): 34,
        ("categories", "news"): 24,
        ("categories", "research"): 10,
        ("topics", "AI"): 13,
        ("topics", "Computer Vision"): 10,
        ("topics", "Natural Language Processing"): 8,
        ("topics", "Machine Learning"): 6,
        ("topics", "AI Hardware"): 5,
        ("topics", "AI in Healthcare"): 5,
        ("topics", "Robotics"): 5,
        ("topics", "C++"): 3,
        ("topics", "C"): 2,
        ("topics", "Künstliche Intelligenz"): 2,
        ("providers", "labnotes.example.net"): 5,
        ("providers", "news.example.com"): 5,
        ("providers", "techwire.example.org"): 5,
        ("providers", "codegazette.example.dev"): 4,
        ("providers", "preprints.example.org"): 4,
        ("providers", "robots.example.io"): 3,
        ("providers", "chronicle.example.com"): 2,
        ("providers", "technik-heute.example.de"): 2,
        ("providers", "ai-shimbun.example.jp"): 1,
        ("providers", "businessinsider.com"): 1,
        ("providers", "chronicle.example.co.uk"): 1,
        # feeds/health-ai.yaml: AI in Healthcare or Künstliche Intelligenz, within
        # 1095 days of the newest record (2024-04-18): from 2021-04-19 on.
        ("custom", ""): 2,
    }


def test_every_shipped_feed_parses_without_errors(shipped):
    _, out = shipped
    paths = sorted(feed_files(out))
    assert len(paths) == 50  # 25 feeds in RSS and Atom
    for path in paths:
        parsed = parse(out / path)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path


def test_every_shipped_feed_lists_items_newest_first(shipped):
    _, out = shipped
    for path in sorted(feed_files(out)):
        times = [entry_time(e) for e in parse(out / path).entries]
        assert times == sorted(times, reverse=True), path


@pytest.mark.parametrize("suffix", ["rss", "atom"])
def test_shipped_items_keep_title_link_guid_and_date_of_their_record(shipped, suffix):
    _, out = shipped
    records = shipped_records_by_id()
    entries = parse(out / f"all.{suffix}").entries
    assert {e.id for e in entries} == set(records)
    for entry in entries:
        record = records[entry.id]
        assert entry.title == record["title"].strip()
        assert canonical(entry.link) == entry.id
        expected = record_time(record["publishedDateTime"])
        assert entry_time(entry) == int(expected.timestamp()), entry.id


def shipped_records_by_id() -> dict[str, dict]:
    """The published shipped records, by the id (canonical link) their items carry."""
    return {
        canonical(r.get("webUrl") or r["originalUrl"]): r for r in published_records(SHIPPED_SEEDS)
    }


def test_shipped_rss_items_have_the_lead_image_as_their_one_enclosure(shipped):
    _, out = shipped
    records = shipped_records_by_id()
    with_images = 0
    for entry in parse(out / "all.rss").entries:
        images = records[entry.id].get("images") or []
        hrefs = [(e.href, e.get("length")) for e in entry.enclosures]
        assert hrefs == ([(image_url(images[0]), "0")] if images else []), entry.id
        with_images += bool(images)
    assert with_images >= 10


def test_shipped_atom_entries_have_every_image_as_an_enclosure(shipped):
    _, out = shipped
    records = shipped_records_by_id()
    three = 0
    for entry in parse(out / "all.atom").entries:
        images = records[entry.id].get("images") or []
        assert [e.href for e in entry.enclosures] == [image_url(i) for i in images], entry.id
        three += len(images) == 3
    assert three == 1  # archive/2020-04-22-open-source-vision-toolkit-reaches-1-0.txt


def test_enclosure_media_types_come_from_query_or_extension(shipped):
    _, out = shipped
    types = {
        e.href: e.type
        for suffix in ("rss", "atom")
        for entry in parse(out / f"all.{suffix}").entries
        for e in entry.enclosures
    }
    assert types["https://i.insider.com/64270e0e45ef1b001984bc26?width=1200&format=jpeg"] == (
        "image/jpeg"
    )
    assert types["https://img.preprints.example.org/figures/robot-planner?fm=png"] == "image/png"
    assert types[
        "https://chronicle.example.com/wp-content/uploads/2024/04/accelerator-chip.jpg"
    ] == ("image/jpeg")
    assert any(t == "image/gif" for t in types.values())


def test_shipped_output_has_mojibake_repaired_not_copied(shipped):
    _, out = shipped
    text = "".join(data.decode("utf-8") for data in files_in(out).values())
    assert "â€" not in text
    # 2021-01-19-startups-race-to-label-medical-images.md: "companyâ€™s" in its excerpt.
    assert "The company’s tool suggests outlines" in text


# --- the real corpus ---------------------------------------------------------


def independent_counts(corpus: Path) -> Counter[tuple[str, str]]:
    """Items per (kind, key), counted with plain yaml.safe_load, not with feedloom."""
    seen: dict[str, dict[str, Any]] = {}
    for path in record_files(corpus):
        fields = front_matter(path)
        if fields.get("published") is False:
            continue
        seen.setdefault(fields["webUrl"], fields)
    counts: Counter[tuple[str, str]] = Counter()
    for fields in seen.values():
        counts[("all", "")] += 1
        topics = fields.get("topics") or []
        for topic in {topics} if isinstance(topics, str) else set(topics):
            counts[("topics", topic)] += 1
        provider = fields.get("provider") or {}
        domain = provider.get("domain") or urlsplit(fields["webUrl"]).hostname.removeprefix("www.")
        counts[("providers", domain)] += 1
        if fields.get("category"):
            counts[("categories", fields["category"])] += 1
    return counts


def test_corpus_has_every_expected_feed_with_independently_counted_items(corpus, feeds_dir, out):
    expected = independent_counts(corpus)
    report = run(corpus, feeds_dir, out, limit=0)
    assert report.exit_status == 0
    feeds = {(f["kind"], f["key"]): f for f in manifest(out)}
    assert set(feeds) == set(expected)
    for key, count in expected.items():
        for path in feeds[key]["files"].values():
            assert len(parse(out / path).entries) == count, (key, path)
    assert expected[("all", "")] > 100


def test_corpus_feeds_are_capped_at_the_site_limit(corpus, feeds_dir, out):
    expected = independent_counts(corpus)
    run(corpus, feeds_dir, out)  # site.yaml: limit 50
    items = {(f["kind"], f["key"]): f["items"] for f in manifest(out)}
    assert items == {key: min(count, 50) for key, count in expected.items()}
    assert items[("all", "")] == 50


def test_corpus_secured_values_never_reach_the_output(corpus, feeds_dir, out):
    secrets = [front_matter(p).get("secured") for p in record_files(corpus)]
    secrets = [s for s in secrets if s]
    assert len(secrets) > 100
    run(corpus, feeds_dir, out, limit=0)
    written = b"".join(files_in(out).values())
    for secret in secrets:
        assert secret.split(";")[0][:24].encode() not in written


def test_corpus_output_keeps_unicode_and_bare_ampersands_in_titles(corpus, feeds_dir, out):
    run(corpus, feeds_dir, out, limit=0)
    fields = [f for f in map(front_matter, record_files(corpus)) if f.get("published") is not False]
    curly = next(f["title"] for f in fields if "’" in f["title"])
    ampersand = next(f["title"] for f in fields if " & " in f["title"])
    for name in ("all.atom", "all.rss"):
        titles = [e.title for e in parse(out / name).entries]
        assert curly in titles, name
        assert ampersand in titles, name
