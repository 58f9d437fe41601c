"""Archives (RFC 5005, Feed Paging and Archiving): subscription documents, archive pages, chains.

The layout under test (as built, see select._documents): a feed's subscription
document holds its newest ``limit`` items; every older item goes into archive
documents of ``archive_size`` items, numbered from the oldest (page 1 holds the
oldest items), at ``<path>/archive/<n>.<suffix>``. Items inside every document
are newest first. Pages are cut by position from the oldest item, so a record
with an old date shifts every later page by one item (see
test_an_old_dated_record_lands_in_its_page_and_shifts_only_the_later_pages).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import BASE_URL, WriteRecord, article_fields, files_in
from feedloom import BuildOptions, build
from feedloom.api import BuildReport
from feedloom.articles import Article
from feedloom.cli import main
from feedloom.config import Config, FeedSpec, Site
from feedloom.select import select

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
NS = {"atom": ATOM, "fh": FH}
HISTORY_RELS = ("current", "prev-archive", "next-archive")
SUFFIXES = ("rss", "atom", "json")
LIMIT, SIZE, COUNT = 5, 4, 23
SITE_FILES = {"feeds.json", "index.opml", "index.html"}
# The four feeds every record below belongs to (topic AI, Example News, category news).
SHARED = ("all", "topics/ai", "providers/news-example-com", "categories/news")


# --- helpers -------------------------------------------------------------------------


def set_site(feeds_dir: Path, **values: Any) -> None:
    """Set (or add) top-level keys of feeds/site.yaml; None removes a key."""
    path = feeds_dir / "site.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        line = "" if value is None else f"{key}: {json.dumps(value)}"
        pattern = re.compile(rf"(?m)^{key}:.*$")
        if pattern.search(text):
            text = pattern.sub(line, text)
        elif line:
            text += f"\n{line}\n"
    path.write_text(text, encoding="utf-8")


def archiving(feeds_dir: Path, **more: Any) -> Path:
    """site.yaml with archiving on, limit 5, pages of 4, in RSS, Atom and JSON."""
    values = {"archive": True, "limit": LIMIT, "archive_size": SIZE}
    values.update(formats=list(SUFFIXES), **more)
    set_site(feeds_dir, **values)
    return feeds_dir


def link_of(n: int) -> str:
    return f"https://news.example.com/articles/{n}"


def fields(n: int, **overrides: Any) -> dict[str, Any]:
    """Record ``n``: every third one is about Robotics too, so topics/robotics differs."""
    topics = ["AI", "Robotics"] if n % 3 == 0 else ["AI"]
    return article_fields(n, topics=topics, **overrides)


def write_articles(write_record: WriteRecord, numbers: range | list[int]) -> None:
    for n in numbers:
        write_record(f"a{n:02d}.md", fields(n))


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    options.setdefault("jobs", 1)
    report = build(BuildOptions(seeds=seeds, feeds=feeds, out=out, **options))
    assert report.exit_status == 0, report.diagnostics
    return report


def archive_files(out: Path) -> set[str]:
    return {path for path in files_in(out) if "/archive/" in path}


def manifest(out: Path) -> dict[str, dict[str, Any]]:
    feeds = json.loads((out / "feeds.json").read_bytes())["feeds"]
    return {feed["files"]["rss"].removesuffix(".rss"): feed for feed in feeds}


def local(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url.removeprefix(BASE_URL)


def expected_ids(path: str, numbers: list[int]) -> list[str]:
    """The ids a feed holds, newest first, worked out from the record numbers alone."""
    if path == "topics/robotics":
        numbers = [n for n in numbers if n % 3 == 0]
    return [link_of(n) for n in sorted(numbers, reverse=True)]


@dataclass
class Document:
    path: str
    ids: list[str]
    links: dict[str, str]
    """rel -> local path, for the RFC 5005 relations."""
    archive: bool
    complete: bool


def read_feedparser(out: Path, path: str) -> Document:
    parsed = feedparser.parse((out / path).read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    rels = [link.rel for link in parsed.feed.links if link.rel in HISTORY_RELS]
    assert len(rels) == len(set(rels)), f"{path}: a history relation twice: {rels}"
    links = {link.rel: local(link.href) for link in parsed.feed.links if link.rel in HISTORY_RELS}
    return Document(
        path,
        [entry.id for entry in parsed.entries],
        links,
        "fh_archive" in parsed.feed,
        "fh_complete" in parsed.feed,
    )


def read_lxml(out: Path, path: str) -> Document:
    root = etree.fromstring((out / path).read_bytes())
    if root.tag == "rss":
        head = root.find("channel")
        ids = [guid.text for guid in head.findall("item/guid")]
    else:
        assert root.tag == f"{{{ATOM}}}feed"
        head = root
        ids = [entry.findtext("atom:id", namespaces=NS) for entry in root.findall("atom:entry", NS)]
    found = [
        (link.get("rel"), link.get("href"), link.get("type"))
        for link in head.findall("atom:link", NS)
        if link.get("rel") in HISTORY_RELS
    ]
    assert len({rel for rel, _, _ in found}) == len(found), f"{path}: {found}"
    media_type = "application/rss+xml" if path.endswith(".rss") else "application/atom+xml"
    assert all(kind == media_type for _, _, kind in found), found
    return Document(
        path,
        ids,
        {rel: local(href) for rel, href, _ in found},
        head.find("fh:archive", NS) is not None,
        head.find("fh:complete", NS) is not None,
    )


def walk(out: Path, start: str, read=read_feedparser) -> list[Document]:
    """The chain as a client walks it: the subscription document, then prev-archive links."""
    chain: list[Document] = []
    path: str | None = start
    while path is not None:
        assert path not in [d.path for d in chain], f"a loop back to {path}"
        assert len(chain) < 100, "a runaway chain"
        document = read(out, path)
        chain.append(document)
        path = document.links.get("prev-archive")
    return chain


def walk_json(out: Path, start: str) -> list[tuple[str, dict[str, Any]]]:
    chain: list[tuple[str, dict[str, Any]]] = []
    path: str | None = start
    while path is not None:
        assert path not in [p for p, _ in chain] and len(chain) < 100
        document = json.loads((out / path).read_bytes())
        assert document["feed_url"] == BASE_URL + path
        chain.append((path, document))
        path = local(document["next_url"]) if "next_url" in document else None
    return chain


def numbers_of(document: Document) -> list[int]:
    return [int(i.rsplit("/", 1)[1]) for i in document.ids]


@pytest.fixture
def archived(write_record, seeds, feeds_dir, out) -> tuple[Path, Path, BuildReport]:
    """23 records, limit 5, pages of 4: 18 older items on pages of 4, 4, 4, 4 and 2."""
    archiving(feeds_dir)
    write_articles(write_record, range(1, COUNT + 1))
    return seeds, feeds_dir, run(seeds, feeds_dir, out)


# --- the subscription document and the files -------------------------------------------


def test_subscription_document_holds_the_newest_limit_items_and_links_the_newest_page(
    archived, out
):
    rss = read_lxml(out, "all.rss")
    assert numbers_of(rss) == [23, 22, 21, 20, 19]
    assert rss.links == {"prev-archive": "all/archive/5.rss"}  # no current, no next
    assert not rss.archive and not rss.complete
    atom = read_lxml(out, "all.atom")
    assert numbers_of(atom) == [23, 22, 21, 20, 19]
    assert atom.links == {"prev-archive": "all/archive/5.atom"}
    assert not atom.archive and not atom.complete
    document = json.loads((out / "all.json").read_bytes())
    assert [item["id"] for item in document["items"]] == [link_of(n) for n in range(23, 18, -1)]
    assert document["next_url"] == BASE_URL + "all/archive/5.json"


def test_archive_files_sit_at_stable_paths_and_the_manifest_lists_them(archived, out):
    feeds = manifest(out)
    # all, topics/ai, provider, category: 23 items -> 18 older -> 5 pages;
    # topics/robotics: 7 items (3, 6, ... 21) -> 2 older -> 1 page.
    assert {path: feed.get("archives", 0) for path, feed in feeds.items()} == {
        **dict.fromkeys(SHARED, 5),
        "topics/robotics": 1,
    }
    expected = {
        f"{path}/archive/{n}.{suffix}"
        for path, feed in feeds.items()
        for n in range(1, feed["archives"] + 1)
        for suffix in SUFFIXES
    }
    assert archive_files(out) == expected
    from feedloom.manifest import parse_manifest

    listed = {
        f for e in parse_manifest((out / "feeds.json").read_bytes()) for f in e.archive_files()
    }
    assert listed == expected
    # The subscription document stays where it always was.
    assert all(feed["files"]["rss"] == f"{path}.rss" for path, feed in feeds.items())
    assert {feed["items"] for feed in feeds.values()} == {LIMIT}


def test_few_records_make_no_archive_at_all(write_record, seeds, feeds_dir, out):
    archiving(feeds_dir)
    write_articles(write_record, range(1, LIMIT + 1))
    run(seeds, feeds_dir, out)
    assert archive_files(out) == set()
    assert "archives" not in manifest(out)["all"]
    for suffix in ("rss", "atom"):
        assert read_lxml(out, f"all.{suffix}").links == {}
    assert "next_url" not in json.loads((out / "all.json").read_bytes())


# --- walking the chain -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["rss", "atom"])
@pytest.mark.parametrize("read", [read_feedparser, read_lxml], ids=["feedparser", "lxml"])
def test_walking_the_chain_gives_every_item_once_in_order(archived, out, suffix, read):
    for path in manifest(out):
        chain = walk(out, f"{path}.{suffix}", read)
        ids = [i for document in chain for i in document.ids]
        assert ids == expected_ids(path, list(range(1, COUNT + 1))), path
        assert len(ids) == len(set(ids))
        # The subscription document first, then the pages from the newest to page 1.
        pages = manifest(out)[path].get("archives", 0)
        assert [d.path for d in chain] == [f"{path}.{suffix}"] + [
            f"{path}/archive/{n}.{suffix}" for n in range(pages, 0, -1)
        ]


@pytest.mark.parametrize("suffix", ["rss", "atom"])
def test_archives_carry_fh_archive_and_current_and_link_both_ways(archived, out, suffix):
    for path in manifest(out):
        subscription, *pages = walk(out, f"{path}.{suffix}", read_lxml)
        assert not subscription.archive and "current" not in subscription.links
        assert "next-archive" not in subscription.links
        assert pages, path
        newer = subscription
        for page in pages:
            assert page.archive, page.path
            assert not page.complete
            assert page.links["current"] == f"{path}.{suffix}"
            # next-archive leads back to the document the walk came from: the page
            # after it, or the subscription document after the newest page.
            assert page.links["next-archive"] == newer.path
            newer = page
        assert "prev-archive" not in pages[-1].links
        assert pages[-1].path == f"{path}/archive/1.{suffix}"


def test_json_feed_chain_follows_next_url_from_the_newest_items_to_the_oldest(archived, out):
    for path in manifest(out):
        chain = walk_json(out, f"{path}.json")
        ids = [item["id"] for _, document in chain for item in document["items"]]
        assert ids == expected_ids(path, list(range(1, COUNT + 1))), path
        pages = manifest(out)[path]["archives"]
        assert [p for p, _ in chain] == [f"{path}.json"] + [
            f"{path}/archive/{n}.json" for n in range(pages, 0, -1)
        ]


def test_pages_are_full_except_the_newest_and_page_one_holds_the_oldest(archived, out):
    for suffix in ("rss", "atom"):
        sizes = {n: len(read_lxml(out, f"all/archive/{n}.{suffix}").ids) for n in range(1, 6)}
        assert sizes == {1: 4, 2: 4, 3: 4, 4: 4, 5: 2}
        assert numbers_of(read_lxml(out, f"all/archive/1.{suffix}")) == [4, 3, 2, 1]
        assert numbers_of(read_lxml(out, f"all/archive/5.{suffix}")) == [18, 17]
        robotics = read_lxml(out, f"topics/robotics/archive/1.{suffix}")
        assert numbers_of(robotics) == [6, 3]  # 2 of 4: the newest page may be partly filled


@given(
    count=st.integers(1, 40),
    limit=st.integers(0, 8),
    size=st.integers(1, 6),
    archive=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_paging_keeps_every_item_once_with_exact_page_sizes(count, limit, size, archive):
    start = datetime(2021, 1, 1, tzinfo=UTC)
    articles = [
        Article(
            id=link_of(n),
            link=link_of(n),
            title=f"Article {n}",
            published=start + timedelta(hours=n),
            path=f"seeds/{n:03d}.md",
        )
        for n in range(1, count + 1)
    ]
    site = Site("t", BASE_URL, limit=limit, archive=archive, archive_size=size)
    spec = FeedSpec(kind="all", title="{site}", description="", source="all.yaml", slug="all")
    selection = select(articles, Config(site, (spec,)))
    (subscription,) = selection.plans
    pages = selection.archives
    shown = min(count, limit) if limit else count
    assert [i.id for i in subscription.items] == [link_of(n) for n in range(count, 0, -1)][:shown]
    older = count - shown if archive else 0
    assert len(pages) == -(-older // size) == subscription.archives
    assert [len(p.items) for p in pages[:-1]] == [size] * (len(pages) - 1)
    if pages:
        assert 1 <= len(pages[-1].items) <= size
        assert subscription.prev_archive == f"all/archive/{len(pages)}"
    every = [i.id for plan in (subscription, *reversed(pages)) for i in plan.items]
    expected = [link_of(n) for n in range(count, 0, -1)]
    assert every == (expected if archive or not limit else expected[:shown])
    for number, page in enumerate(pages, start=1):
        assert page.path == f"all/archive/{number}" and page.archived and page.current == "all"
        assert page.prev_archive == (f"all/archive/{number - 1}" if number > 1 else None)
        newer = f"all/archive/{number + 1}" if number < len(pages) else "all"
        assert page.next_archive == newer
    assert subscription.complete == (not archive and limit == 0)


# --- what changes when records change -----------------------------------------------------


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    paths = (set(before) | set(after)) - SITE_FILES
    return {p for p in paths if before.get(p) != after.get(p)}


def test_a_newer_record_rewrites_only_the_subscription_document_and_the_newest_page(
    archived, write_record, out
):
    seeds, feeds_dir, _ = archived
    before = files_in(out)
    write_record("a25.md", fields(25))  # 25 % 3: not about Robotics
    report = run(seeds, feeds_dir, out)
    expected = {
        name
        for path in SHARED
        for suffix in SUFFIXES
        for name in (f"{path}.{suffix}", f"{path}/archive/5.{suffix}")
    }
    after = files_in(out)
    assert changed(before, after) == expected
    assert set(report.written) == expected
    assert report.removed == ()
    assert numbers_of(read_lxml(out, "all/archive/5.rss")) == [19, 18, 17]
    assert numbers_of(read_lxml(out, "all.rss")) == [25, 23, 22, 21, 20]


def test_opening_a_new_page_changes_the_full_page_only_in_its_next_archive_link(
    write_record, seeds, feeds_dir, out
):
    archiving(feeds_dir)
    write_articles(write_record, range(1, 26))  # 20 older items: five full pages
    run(seeds, feeds_dir, out)
    before = files_in(out)
    assert not (out / "all/archive/6.rss").exists()
    write_record("a26.md", fields(26))
    report = run(seeds, feeds_dir, out)
    after = files_in(out)
    expected = {
        name
        for path in SHARED
        for name in (
            *(f"{path}.{suffix}" for suffix in SUFFIXES),
            *(f"{path}/archive/6.{suffix}" for suffix in SUFFIXES),
            # JSON pages link only towards older pages: page 5's JSON stays as it was.
            f"{path}/archive/5.rss",
            f"{path}/archive/5.atom",
        )
    }
    assert changed(before, after) == expected
    assert set(report.written) == expected
    for path in SHARED:
        for suffix in ("rss", "atom"):
            page = f"{path}/archive/5.{suffix}"
            old = f'href="{BASE_URL}{path}.{suffix}" rel="next-archive"'.encode()
            new = f'href="{BASE_URL}{path}/archive/6.{suffix}" rel="next-archive"'.encode()
            assert before[page].count(old) == 1
            assert before[page].replace(old, new) == after[page]
        assert numbers_of(read_lxml(out, f"{path}/archive/6.rss")) == [21]
        assert read_lxml(out, f"{path}.rss").links == {"prev-archive": f"{path}/archive/6.rss"}


@pytest.mark.parametrize(
    ("published", "lands_on", "rewritten"),
    [
        # Between records 18 and 19: the newest, partly filled page takes it.
        ("2021-03-19T12:00:00Z", 5, {5}),
        # Between records 9 and 10 (page 3 holds 9-12): pages 3, 4 and 5 shift by one.
        ("2021-03-10T12:00:00Z", 3, {3, 4, 5}),
        # Older than every record: every page shifts by one item.
        ("2021-02-01T12:00:00Z", 1, {1, 2, 3, 4, 5}),
    ],
)
def test_an_old_dated_record_lands_in_its_page_and_shifts_only_the_later_pages(
    archived, write_record, out, published, lands_on, rewritten
):
    """Position paging (as built): a record older than the subscription document goes
    into the page its date puts it in; that page and every later one move by one item
    (the newest of each into the next); the pages before it and the subscription
    document (its page count unchanged here) keep their bytes."""
    seeds, feeds_dir, _ = archived
    before = files_in(out)
    write_record("late.md", fields(100, publishedDateTime=published))
    report = run(seeds, feeds_dir, out)
    expected = {
        f"{path}/archive/{n}.{suffix}" for path in SHARED for n in rewritten for suffix in SUFFIXES
    }
    assert changed(before, files_in(out)) == expected
    assert set(report.written) == expected
    assert link_of(100) in read_lxml(out, f"all/archive/{lands_on}.rss").ids
    numbers = [*range(1, COUNT + 1), 100]
    for path in SHARED:
        chain = walk(out, f"{path}.rss", read_lxml)
        ids = [i for d in chain for i in d.ids]
        assert sorted(ids) == sorted(link_of(n) for n in numbers)
        assert len(ids) == len(set(ids))
        assert [len(d.ids) for d in chain] == [5, 3, 4, 4, 4, 4]


def test_deleting_the_newest_records_prunes_the_emptied_page(archived, out):
    seeds, feeds_dir, _ = archived
    before = files_in(out)
    (seeds / "a23.md").unlink()
    (seeds / "a22.md").unlink()
    report = run(seeds, feeds_dir, out)
    after = files_in(out)
    gone = {f"{path}/archive/5.{suffix}" for path in SHARED for suffix in SUFFIXES}
    assert set(report.removed) == gone
    assert not gone & set(after)
    # Page 4 is now the newest: its next-archive link moves to the subscription document
    # (its JSON, which links only to older pages, keeps its bytes).
    rewritten = {
        *(f"{path}.{suffix}" for path in SHARED for suffix in SUFFIXES),
        *(f"{path}/archive/4.{suffix}" for path in SHARED for suffix in ("rss", "atom")),
    }
    assert changed(before, after) == rewritten | gone
    assert set(report.written) == rewritten
    assert manifest(out)["all"]["archives"] == 4
    assert manifest(out)["topics/robotics"]["archives"] == 1  # untouched: 22, 23 not in it
    chain = walk(out, "all.atom")
    assert [i for d in chain for i in d.ids] == expected_ids("all", list(range(1, 22)))
    assert [len(d.ids) for d in chain] == [5, 4, 4, 4, 4]


def test_turning_archiving_off_removes_every_archive_file(archived, out):
    seeds, feeds_dir, _ = archived
    files = archive_files(out)
    assert files
    set_site(feeds_dir, archive=False)
    report = run(seeds, feeds_dir, out)
    assert set(report.removed) == files
    assert archive_files(out) == set()
    assert not list(out.rglob("archive"))  # the emptied folders go too
    assert all("archives" not in feed for feed in manifest(out).values())
    for suffix in ("rss", "atom"):
        document = read_lxml(out, f"all.{suffix}")
        assert document.links == {} and not document.archive and not document.complete
        assert len(document.ids) == LIMIT
    assert "next_url" not in json.loads((out / "all.json").read_bytes())


# --- complete feeds ------------------------------------------------------------------------


def test_limit_zero_without_archive_is_a_complete_feed(write_record, seeds, feeds_dir, out):
    set_site(feeds_dir, limit=0, archive=False)
    write_articles(write_record, range(1, 8))
    run(seeds, feeds_dir, out)
    assert archive_files(out) == set()
    for path in manifest(out):
        for suffix in ("rss", "atom"):
            lxml_view = read_lxml(out, f"{path}.{suffix}")
            assert lxml_view.complete and not lxml_view.archive and lxml_view.links == {}
            assert read_feedparser(out, f"{path}.{suffix}").complete
            assert lxml_view.ids == expected_ids(path, list(range(1, 8))), suffix


@pytest.mark.parametrize(
    "site",
    [
        {"limit": 50, "archive": False},  # the shipped default: a window, not complete
        {"limit": 3, "archive": False},
        {"limit": 0, "archive": True},  # archiving promises pages, not completeness
        {"limit": 3, "archive": True},
    ],
)
def test_a_feed_that_may_drop_items_never_says_complete(write_record, seeds, feeds_dir, out, site):
    set_site(feeds_dir, **site)
    write_articles(write_record, range(1, 8))
    run(seeds, feeds_dir, out)
    for path in files_in(out):
        if path.endswith((".rss", ".atom")):
            assert b"complete" not in (out / path).read_bytes(), path
            assert not read_lxml(out, path).complete
    if site["limit"] == 0:
        assert archive_files(out) == set()  # nothing older than "everything"


# --- the command line and reproducibility ------------------------------------------------------


def test_cli_archive_option_equals_archive_true_in_site_yaml(
    write_record, seeds, feeds_dir, tmp_path
):
    write_articles(write_record, range(1, 12))
    set_site(feeds_dir, limit=LIMIT, archive_size=SIZE, formats=list(SUFFIXES))
    args = ["build", "--seeds", str(seeds), "--feeds", str(feeds_dir), "-q", "-j", "1"]
    by_option = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--archive"])
    assert by_option.exit_code == 0, by_option.output
    set_site(feeds_dir, archive=True)
    run(seeds, feeds_dir, tmp_path / "b")
    assert files_in(tmp_path / "a") == files_in(tmp_path / "b")
    assert archive_files(tmp_path / "a")
    # And --no-archive wins over archive: true.
    plain = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "c"), "--no-archive"])
    assert plain.exit_code == 0, plain.output
    assert archive_files(tmp_path / "c") == set()
    assert read_lxml(tmp_path / "c", "all.rss").links == {}


def test_archive_bytes_are_deterministic(write_record, seeds, feeds_dir, tmp_path):
    archiving(feeds_dir)
    write_articles(write_record, range(1, COUNT + 1))
    first = run(seeds, feeds_dir, tmp_path / "one", cache=None, jobs=1)
    second = run(seeds, feeds_dir, tmp_path / "two", cache=None, jobs=3)
    assert first.written and set(first.written) == set(second.written)
    assert files_in(tmp_path / "one") == files_in(tmp_path / "two")
    # A rebuild into the same folder writes nothing.
    again = run(seeds, feeds_dir, tmp_path / "one", cache=None)
    assert again.written == () and again.removed == ()
