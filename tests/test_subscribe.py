"""The subscribers' side of a build: index.opml, index.html, links back from every feed,
JSON Feed 1.1, custom feeds with filters, and the index page in a real browser.

Every test builds real files (library API or CLI) and reads them back with independent
parsers: lxml for XML, html5lib (strict) for HTML, json for JSON Feed.
"""

from __future__ import annotations

import contextlib
import copy
import http.server
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import html5lib
import pytest
import yaml
from click.testing import CliRunner, Result
from lxml import etree

from conftest import (
    BASE_URL,
    CORE_FAMILIES,
    SHIPPED_FEEDS,
    SHIPPED_SEEDS,
    article_fields,
    record_text,
)
from feedloom.api import BuildOptions, BuildReport, ConfigError, build
from feedloom.cli import main
from feedloom.diagnostics import Severity

SITE_TITLE = "A.I. Every Day"
SITE_FILES = {"feeds.json", "index.opml", "index.html"}
# The groups of index.opml and index.html, in the order readers should see them.
KIND_ORDER = ("all", "topics", "providers", "categories", "custom")
GROUP_NAMES = {
    "all": "All articles",
    "topics": "Topics",
    "providers": "Providers",
    "categories": "Categories",
    "custom": "Selections",
}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
SUFFIXES = {"rss": ".rss", "atom": ".atom", "json": ".json"}
ATOM = "{http://www.w3.org/2005/Atom}"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


# --- helpers -------------------------------------------------------------------------


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    return build(BuildOptions(seeds=seeds, feeds=feeds, out=out, cache=None, jobs=1, **options))


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def manifest(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "feeds.json").read_text(encoding="utf-8"))["feeds"]


def files_in(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]] | None:
    """Every file's bytes and modification time; None when the folder does not exist."""
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def stem(path: str) -> str:
    """A feed file's path without its format suffix: 'topics/ai.rss' -> 'topics/ai'."""
    match = re.fullmatch(r"(.+)\.(rss|atom|json)", path)
    assert match, path
    return match.group(1)


def parse_html(path: Path) -> etree._Element:
    """The page as a tree; html5lib in strict mode raises on any HTML5 parse error."""
    tree = html5lib.getTreeBuilder("lxml")
    parser = html5lib.HTMLParser(tree=tree, strict=True, namespaceHTMLElements=False)
    return parser.parse(path.read_bytes())


def html_root(path: Path) -> etree._Element:
    tree = parse_html(path)
    return tree.getroot() if hasattr(tree, "getroot") else tree


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def by_id(root: etree._Element, ident: str) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e.get("id") == ident]


def alternates(root: etree._Element) -> set[tuple[str, str]]:
    """(type, href) of each <link rel="alternate"> in the page's head."""
    head = root.find("head")
    return {
        (link.get("type"), link.get("href"))
        for link in head.iter("link")
        if "alternate" in (link.get("rel") or "").lower().split()
    }


def is_external(url: str | None) -> bool:
    return bool(url) and (urlsplit(url).scheme != "" or url.startswith("//"))


def rss_channel(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot().find("channel")


def rss_items(path: Path) -> list[dict[str, Any]]:
    return [
        {
            "title": item.findtext("title"),
            "link": item.findtext("link"),
            "guid": item.findtext("guid"),
            "published": parsedate_to_datetime(item.findtext("pubDate")),
        }
        for item in rss_channel(path).findall("item")
    ]


def json_feed(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def rfc3339(value: str) -> datetime:
    assert RFC3339.fullmatch(value), value
    return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))


def copy_feeds(target: Path, names: tuple[str, ...] = CORE_FAMILIES, **site: Any) -> Path:
    """The shipped site.yaml (with ``site`` settings replaced) and the named families."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SHIPPED_FEEDS / name, target / name)
    text = (SHIPPED_FEEDS / "site.yaml").read_text(encoding="utf-8")
    for key, value in site.items():
        text, found = re.subn(rf"(?m)^{key}:.*$", f"{key}: {json.dumps(value)}", text)
        assert found == 1, key
    (target / "site.yaml").write_text(text, encoding="utf-8")
    return target


# --- one build of the shipped records and feed definitions ------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    """The shipped seeds and feeds (all five kinds, RSS + Atom + JSON), built once."""
    out = tmp_path_factory.mktemp("shipped") / "output"
    report = run(SHIPPED_SEEDS, SHIPPED_FEEDS, out)
    assert report.exit_status == 0, report.diagnostics
    return out, report


@pytest.fixture
def site(shipped: tuple[Path, BuildReport]) -> Path:
    return shipped[0]


# --- 1. index.opml -----------------------------------------------------------------------


def test_opml_is_version_2_with_a_head_title(site):
    root = etree.parse(str(site / "index.opml")).getroot()
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    title = root.findtext("head/title")
    assert title and SITE_TITLE in title
    assert root.find("body") is not None


def test_opml_lists_every_feed_once_grouped_by_kind_in_reading_order(site):
    feeds = manifest(site)
    kinds = {f["kind"] for f in feeds}
    assert kinds == set(KIND_ORDER)  # the shipped definitions have every kind
    body = etree.parse(str(site / "index.opml")).getroot().find("body")
    groups = list(body)
    assert [g.tag for g in groups] == ["outline"] * len(groups)
    assert [g.get("text") for g in groups] == [GROUP_NAMES[k] for k in KIND_ORDER]
    seen: Counter[str] = Counter()
    for group, kind in zip(groups, KIND_ORDER, strict=True):
        assert group.get("xmlUrl") is None  # a folder, not a subscription
        expected = {BASE_URL + f["files"]["rss"] for f in feeds if f["kind"] == kind}
        urls = [o.get("xmlUrl") for o in group]
        assert set(urls) == expected, kind
        seen.update(urls)
    assert len(seen) == len(feeds)
    assert set(seen.values()) == {1}


def test_opml_outlines_are_rss_subscriptions_with_absolute_urls_of_published_files(site):
    feeds = {BASE_URL + f["files"]["rss"]: f for f in manifest(site)}
    listed = {BASE_URL + path for f in manifest(site) for path in f["files"].values()}
    outlines = etree.parse(str(site / "index.opml")).getroot().findall("body/outline/outline")
    assert len(outlines) == len(feeds)
    for outline in outlines:
        xml_url, html_url = outline.get("xmlUrl"), outline.get("htmlUrl")
        feed = feeds[xml_url]
        assert outline.get("type") == "rss"
        assert outline.get("text") == outline.get("title") == feed["title"]
        assert xml_url in listed and xml_url.startswith(BASE_URL)
        local = site / xml_url.removeprefix(BASE_URL)
        assert local.is_file()
        assert rss_channel(local).findtext("title") == feed["title"]
        assert html_url == f"{BASE_URL}index.html#{stem(feed['files']['rss'])}"


def test_opml_imports_by_text_pattern_as_podget_reads_it(site):
    """podget 0.9 reads each outline's URL with sed: the last attribute ending in "url"."""
    text = (site / "index.opml").read_text(encoding="utf-8")
    podget_url = re.compile(r'.*[xml]*url="([^"]+)"', re.IGNORECASE)
    lines = [line for line in text.splitlines() if 'type="rss"' in line]
    expected = [
        o.get("xmlUrl")
        for o in etree.parse(str(site / "index.opml")).getroot().findall("body/outline/outline")
    ]
    assert [podget_url.match(line).group(1) for line in lines] == expected


def test_opml_prefers_rss_then_atom(seeds, write_record, feeds_dir, out):
    write_record("one.md", article_fields(1))
    run(seeds, feeds_dir, out, formats=("json", "atom"))
    urls = {
        o.get("xmlUrl")
        for o in etree.parse(str(out / "index.opml")).getroot().findall("body/outline/outline")
    }
    assert urls == {BASE_URL + f["files"]["atom"] for f in manifest(out)}
    assert all((out / u.removeprefix(BASE_URL)).is_file() for u in urls)


# --- 2. index.html -----------------------------------------------------------------------


def test_index_html_is_strict_html5_for_a_phone(site):
    raw = (site / "index.html").read_bytes()
    root = html_root(site / "index.html")  # raises on any parse error
    assert re.match(rb"<!DOCTYPE html>", raw, re.IGNORECASE)
    assert root.tag == "html"
    assert root.get("lang") == "en"
    charsets = [m.get("charset") for m in root.iter("meta") if m.get("charset")]
    assert [c.lower() for c in charsets] == ["utf-8"]
    assert raw.lower().index(b"charset") < 1024  # HTML: within the first 1024 bytes
    viewport = [m.get("content") for m in root.iter("meta") if m.get("name") == "viewport"]
    assert len(viewport) == 1
    assert "width=device-width" in viewport[0].replace(" ", "")
    assert root.findtext("head/title", "").strip()


def test_index_html_needs_nothing_from_elsewhere_and_has_no_script(site):
    root = html_root(site / "index.html")
    assert list(root.iter("script")) == []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("src", "srcset", "poster", "data"):
            assert not element.get(attribute), (element.tag, attribute)
        if element.tag == "link" and "alternate" not in (element.get("rel") or "").split():
            assert not is_external(element.get("href")), etree.tostring(element)
    for style in root.iter("style"):
        assert "@import" not in style.text
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", style.text)


def test_index_html_lists_every_feed_with_count_headline_date_and_format_links(site):
    root = html_root(site / "index.html")
    feeds = manifest(site)
    rows = [e for e in root.iter("li") if e.get("id")]
    assert len(rows) == len(feeds)
    for feed in feeds:
        [row] = by_id(root, stem(feed["files"]["rss"]))
        items = rss_items(site / feed["files"]["rss"])  # what subscribers will get
        text = text_of(row)
        assert feed["title"] in text
        assert re.search(rf"(?<!\d){len(items)} articles?\b", text), text
        assert items[0]["title"] in text
        assert items[0]["published"].astimezone(UTC).strftime("%Y-%m-%d") in text
        hrefs = {a.get("href") for a in row.iter("a")}
        assert hrefs == set(feed["files"].values())
        for href in hrefs:
            assert not is_external(href) and not href.startswith("/"), href
            assert (site / href).is_file(), href


def test_index_html_links_only_to_files_that_exist(site):
    root = html_root(site / "index.html")
    hrefs = [a.get("href") for a in root.iter("a")]
    assert "index.opml" in hrefs and "feeds.json" in hrefs
    for href in hrefs:
        if not is_external(href):
            assert (site / href.split("#")[0]).is_file(), href


def test_index_html_autodiscovers_the_all_articles_feed_in_each_format(site):
    root = html_root(site / "index.html")
    [everything] = [f for f in manifest(site) if f["kind"] == "all"]
    expected = {("application/rss+xml", "all.rss"), ("application/atom+xml", "all.atom")}
    expected.add(("application/feed+json", "all.json"))
    assert alternates(root) == expected
    assert {href for _, href in expected} == set(everything["files"].values())
    assert rss_channel(site / "all.rss").findtext("title") == SITE_TITLE
    assert etree.parse(str(site / "all.atom")).getroot().findtext(f"{ATOM}title") == SITE_TITLE
    assert json_feed(site / "all.json")["title"] == SITE_TITLE
    body = root.find("body")
    assert not list(body.iter("link"))  # discovery links belong in the head


def test_index_html_ids_are_unique(site):
    root = html_root(site / "index.html")
    ids = Counter(e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id"))
    assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]


HOSTILE_TITLE = "<script>alert(1)</script> & co"
HOSTILE_TOPIC = "<b>bold</b> & Topic"
HOSTILE_PROVIDER = "<i>Evil</i> & Sons"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build whose newest record has markup in its title, topic, provider and category."""
    base = tmp_path_factory.mktemp("hostile")
    seeds = base / "seeds"
    seeds.mkdir()
    (seeds / "old.md").write_text(record_text(article_fields(1)), encoding="utf-8")
    fields = article_fields(
        2,
        title=HOSTILE_TITLE,
        topics=[HOSTILE_TOPIC, "AI"],
        provider={"name": HOSTILE_PROVIDER, "domain": "evil.example.com"},
        publishedDateTime="2022-01-01T00:00:00Z",
    )
    (seeds / "new.md").write_text(record_text(fields), encoding="utf-8")
    feeds = copy_feeds(base / "feeds", language="en-GB")
    out = base / "output"
    assert run(seeds, feeds, out).exit_status == 0
    return out


def test_index_html_shows_record_markup_as_text(hostile):
    raw = (hostile / "index.html").read_bytes()
    root = html_root(hostile / "index.html")
    assert root.get("lang") == "en-GB"
    for tag in ("script", "b", "i"):
        assert list(root.iter(tag)) == [], tag
    assert b"<script>" not in raw
    [row] = by_id(root, "all")
    assert HOSTILE_TITLE in text_of(row)  # the newest headline, as text
    page = text_of(root.find("body"))
    assert f"{SITE_TITLE}: {HOSTILE_TOPIC}" in page
    assert f"{HOSTILE_PROVIDER} on {SITE_TITLE}" in page


def test_opml_carries_record_markup_as_text(hostile):
    outlines = etree.parse(str(hostile / "index.opml")).getroot().findall("body/outline/outline")
    texts = {o.get("text") for o in outlines}
    assert f"{SITE_TITLE}: {HOSTILE_TOPIC}" in texts
    assert f"{HOSTILE_PROVIDER} on {SITE_TITLE}" in texts


# --- 3. every feed links back to its row on the index -----------------------------------


def test_every_feed_links_back_to_its_row_on_the_index_page(site):
    root = html_root(site / "index.html")
    for feed in manifest(site):
        files = feed["files"]
        anchors = {stem(path) for path in files.values()}
        assert len(anchors) == 1, files  # the formats of a feed sit side by side
        [anchor] = anchors
        expected = f"{BASE_URL}index.html#{anchor}"
        assert rss_channel(site / files["rss"]).findtext("link") == expected
        atom = etree.parse(str(site / files["atom"])).getroot()
        html_links = [
            link.get("href")
            for link in atom.findall(f"{ATOM}link")
            if link.get("rel") == "alternate" and link.get("type") == "text/html"
        ]
        assert html_links == [expected]
        assert json_feed(site / files["json"])["home_page_url"] == expected
        [row] = by_id(root, anchor)
        assert row.tag == "li"
        assert feed["title"] in text_of(row)


def test_a_feed_named_like_a_section_heading_keeps_its_own_anchor(seeds, feeds_dir, out):
    """A root-level custom feed 'kind-all' must not share its id with the page's headings."""
    write_catalogue(seeds)
    (feeds_dir / "picked.yaml").write_text(
        'kind: custom\nslug: kind-all\ntitle: "{site}: Picked"\nfilter:\n  topics: [AI]\n',
        encoding="utf-8",
    )
    run(seeds, feeds_dir, out)
    assert rss_channel(out / "kind-all.rss").findtext("link") == f"{BASE_URL}index.html#kind-all"
    root = html_root(out / "index.html")
    targets = by_id(root, "kind-all")
    assert [t.tag for t in targets] == ["li"], [etree.tostring(t)[:80] for t in targets]
    assert f"{SITE_TITLE}: Picked" in text_of(targets[0])


# --- 4. JSON Feed 1.1 -------------------------------------------------------------------

JSON_FEED_TOP = {
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "authors",
    "author",
    "language",
    "expired",
    "hubs",
    "items",
}
JSON_FEED_ITEM = {
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "author",
    "tags",
    "language",
    "attachments",
}
JSON_FEED_ATTACHMENT = {"url", "mime_type", "title", "size_in_bytes", "duration_in_seconds"}
JSON_FEED_AUTHOR = {"name", "url", "avatar"}
RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
MIME = re.compile(r"[a-z]+/[a-z0-9.+-]+")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _is_url(value: Any) -> bool:
    return (
        isinstance(value, str)
        and urlsplit(value).scheme in ("http", "https")
        and bool(urlsplit(value).netloc)
    )


def _unknown(keys: Any, known: set[str]) -> set[str]:
    """Keys neither in the spec nor extensions (which start with '_')."""
    return {k for k in keys if not k.startswith("_")} - known


def _author_problems(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{where}authors must be a non-empty array"]
    problems = []
    for n, author in enumerate(value):
        if not isinstance(author, dict):
            problems.append(f"{where}authors[{n}] must be an object")
            continue
        if _unknown(author, JSON_FEED_AUTHOR):
            problems.append(f"{where}authors[{n}] has unknown keys")
        if not any(isinstance(author.get(k), str) and author[k] for k in JSON_FEED_AUTHOR):
            problems.append(f"{where}authors[{n}] needs a name, url or avatar")
        if "name" in author and not isinstance(author["name"], str):
            problems.append(f"{where}authors[{n}].name must be a string")
        for key in ("url", "avatar"):
            if key in author and not _is_url(author[key]):
                problems.append(f"{where}authors[{n}].{key} must be a URL")
    return problems


def _date_problem(value: Any) -> bool:
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return True
    try:
        rfc3339(value)
    except ValueError:
        return True
    return False


def _item_problems(item: Any, n: int) -> list[str]:
    where = f"items[{n}]."
    if not isinstance(item, dict):
        return [f"items[{n}] must be an object"]
    problems = []
    if _unknown(item, JSON_FEED_ITEM):
        problems.append(f"{where} unknown keys {_unknown(item, JSON_FEED_ITEM)}")
    if not isinstance(item.get("id"), str) or not item["id"]:
        problems.append(f"{where}id must be a non-empty string")
    contents = [item.get(k) for k in ("content_html", "content_text") if k in item]
    if not contents or not all(isinstance(c, str) for c in contents):
        problems.append(f"{where}content_html or content_text (a string) is required")
    for key in ("url", "external_url", "image", "banner_image"):
        if key in item and not _is_url(item[key]):
            problems.append(f"{where}{key} must be an absolute URL")
    for key in ("title", "summary", "language"):
        if key in item and not isinstance(item[key], str):
            problems.append(f"{where}{key} must be a string")
    for key in ("date_published", "date_modified"):
        if key in item and _date_problem(item[key]):
            problems.append(f"{where}{key} must be an RFC 3339 date")
    if "tags" in item and (
        not isinstance(item["tags"], list) or not all(isinstance(t, str) for t in item["tags"])
    ):
        problems.append(f"{where}tags must be an array of strings")
    if "authors" in item:
        problems += _author_problems(item["authors"], where)
    if "author" in item:
        problems.append(f"{where}author is the deprecated 1.0 form; 1.1 uses authors")
    for m, attachment in enumerate(item.get("attachments", [])):
        place = f"{where}attachments[{m}]"
        if not isinstance(attachment, dict):
            problems.append(f"{place} must be an object")
            continue
        if _unknown(attachment, JSON_FEED_ATTACHMENT):
            problems.append(f"{place} has unknown keys")
        if not _is_url(attachment.get("url")):
            problems.append(f"{place}.url (a URL) is required")
        if not isinstance(attachment.get("mime_type"), str) or not MIME.fullmatch(
            attachment["mime_type"]
        ):
            problems.append(f"{place}.mime_type is required")
        size = attachment.get("size_in_bytes")
        if "size_in_bytes" in attachment and (
            isinstance(size, bool) or not isinstance(size, int) or size <= 0
        ):
            problems.append(f"{place}.size_in_bytes must be a known size in bytes")
    if "attachments" in item and not isinstance(item["attachments"], list):
        problems.append(f"{where}attachments must be an array")
    return problems


def json_feed_problems(document: Any, own_url: str) -> list[str]:
    """What in ``document`` breaks https://jsonfeed.org/version/1.1; [] when nothing does."""
    if not isinstance(document, dict):
        return ["the feed must be an object"]
    problems = []
    if _unknown(document, JSON_FEED_TOP):
        problems.append(f"unknown top-level keys {_unknown(document, JSON_FEED_TOP)}")
    if document.get("version") != JSON_FEED_VERSION:
        problems.append("version must be https://jsonfeed.org/version/1.1")
    if not isinstance(document.get("title"), str) or not document["title"]:
        problems.append("title (a string) is required")
    if not isinstance(document.get("items"), list):
        return [*problems, "items (an array) is required"]
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        if key in document and not _is_url(document[key]):
            problems.append(f"{key} must be an absolute URL")
    if document.get("feed_url") != own_url:
        problems.append(f"feed_url must be the feed's own URL {own_url}")
    if not isinstance(document.get("language"), str) or not LANGUAGE.fullmatch(
        document["language"]
    ):
        problems.append("language must be a language tag")
    for key in ("description", "user_comment"):
        if key in document and not isinstance(document[key], str):
            problems.append(f"{key} must be a string")
    if "expired" in document and not isinstance(document["expired"], bool):
        problems.append("expired must be a boolean")
    if "authors" in document:
        problems += _author_problems(document["authors"], "")
    if "author" in document:
        problems.append("author is the deprecated 1.0 form; 1.1 uses authors")
    for n, item in enumerate(document["items"]):
        problems += _item_problems(item, n)
    ids = Counter(i.get("id") for i in document["items"] if isinstance(i, dict))
    problems += [f"id {i!r} is not unique" for i, count in ids.items() if count > 1]
    return problems


def test_every_json_feed_follows_json_feed_1_1(site):
    feeds = manifest(site)
    assert all("json" in f["files"] for f in feeds)
    for feed in feeds:
        path = feed["files"]["json"]
        document = json_feed(site / path)
        assert json_feed_problems(document, BASE_URL + path) == [], path
        assert document["home_page_url"].startswith(BASE_URL)
        assert document["language"] == "en"
        assert document["title"] == feed["title"]
        assert document["items"]


def test_json_feed_has_the_rss_feeds_items_newest_first(site):
    for feed in manifest(site):
        items = json_feed(site / feed["files"]["json"])["items"]
        rss = rss_items(site / feed["files"]["rss"])
        assert [i["id"] for i in items] == [r["guid"] for r in rss]
        assert [i["url"] for i in items] == [r["link"] for r in rss]
        assert [i["title"] for i in items] == [r["title"] for r in rss]
        dates = [rfc3339(i["date_published"]) for i in items]
        assert dates == [r["published"] for r in rss]
        assert dates == sorted(dates, reverse=True)
        assert len(items) == feed["items"]


def test_json_feed_items_carry_the_records_fields(seeds, write_record, feeds_dir, out):
    first = article_fields(
        1,
        topics=["AI", "Robotics"],
        images=[
            {"url": "https://img.example.com/1.jpg", "width": 800, "height": 600},
            {"url": "https://img.example.com/1b.png"},
        ],
    )
    bare = article_fields(
        2, publishedDateTime="2021-03-05T10:00:00+02:00", images=None, provider=None, topics=None
    )
    write_record("one.md", first)
    write_record("two.md", bare)
    run(seeds, feeds_dir, out, formats=("json",))
    document = json_feed(out / "all.json")
    assert json_feed_problems(document, BASE_URL + "all.json") == []
    newer, older = document["items"]
    assert newer["id"] == newer["url"] == bare["webUrl"]
    assert rfc3339(newer["date_published"]) == datetime(2021, 3, 5, 8, 0, tzinfo=UTC)
    for absent in ("image", "attachments", "tags", "authors"):
        assert absent not in newer, absent
    assert older["id"] == older["url"] == first["webUrl"]
    assert older["title"] == first["title"]
    assert older["summary"] == first["excerpt"]
    assert first["excerpt"] in older["content_html"]
    assert rfc3339(older["date_published"]) == datetime(2021, 3, 2, 9, 1, tzinfo=UTC)
    assert older["tags"] == ["AI", "Robotics"]
    assert older["authors"] == [{"name": "Example News", "url": "https://news.example.com/"}]
    assert older["image"] == "https://img.example.com/1.jpg"
    assert older["attachments"] == [
        {"url": "https://img.example.com/1.jpg", "mime_type": "image/jpeg"},
        {"url": "https://img.example.com/1b.png", "mime_type": "image/png"},
    ]


# Each breaks one rule of the spec; the checker above must see every one.
SPEC_VIOLATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "version 1.0": lambda d: d.update(version="https://jsonfeed.org/version/1"),
    "no title": lambda d: d.pop("title"),
    "items not an array": lambda d: d.update(items={}),
    "relative feed_url": lambda d: d.update(feed_url="all.json"),
    "unknown top-level key": lambda d: d.update(link="https://example.org/"),
    "numeric id": lambda d: d["items"][0].update(id=1),
    "duplicate id": lambda d: d["items"][1].update(id=d["items"][0]["id"]),
    "no content": lambda d: d["items"][0].pop("content_html"),
    "date not RFC 3339": lambda d: d["items"][0].update(date_published="2024-04-18 19:05"),
    "tag not a string": lambda d: d["items"][0].update(tags=[1]),
    "empty author": lambda d: d["items"][0].update(authors=[{}]),
    "attachment without mime_type": lambda d: d["items"][0].update(
        attachments=[{"url": "https://img.example.com/1.jpg"}]
    ),
    "size_in_bytes as text": lambda d: d["items"][0].update(
        attachments=[
            {"url": "https://x.example/1.jpg", "mime_type": "image/jpeg", "size_in_bytes": "0"}
        ]
    ),
    "size_in_bytes unknown": lambda d: d["items"][0].update(
        attachments=[
            {"url": "https://x.example/1.jpg", "mime_type": "image/jpeg", "size_in_bytes": 0}
        ]
    ),
}


@pytest.mark.parametrize("violation", sorted(SPEC_VIOLATIONS))
def test_json_feed_checker_sees_each_spec_violation(site, violation):
    """The checker is not vacuous: the published feed passes, each broken copy fails."""
    document = json_feed(site / "all.json")
    assert json_feed_problems(document, BASE_URL + "all.json") == []
    broken = copy.deepcopy(document)
    SPEC_VIOLATIONS[violation](broken)
    assert json_feed_problems(broken, BASE_URL + "all.json") != []


def test_format_json_alone_is_listed_in_manifest_opml_and_index(seeds, write_record, feeds_dir):
    write_record("one.md", article_fields(1, topics=["AI", "Robotics"]))
    write_record("two.md", article_fields(2))
    out = seeds.parent / "public"
    base = "https://example.net/sub/"
    args = ["build", "--seeds", str(seeds), "--feeds", str(feeds_dir), "--out", str(out)]
    result = cli(*args, "--no-cache", "-j", "1", "--format", "json", "--base-url", base[:-1])
    assert result.exit_code == 0, result.output
    feeds = manifest(out)
    paths = {f["files"]["json"] for f in feeds}
    assert all(set(f["files"]) == {"json"} for f in feeds)
    assert files_in(out) == paths | SITE_FILES
    assert "all.json" in paths and "topics/robotics.json" in paths
    for path in paths:
        assert json_feed_problems(json_feed(out / path), base + path) == [], path
    outlines = etree.parse(str(out / "index.opml")).getroot().findall("body/outline/outline")
    assert {o.get("xmlUrl") for o in outlines} == {base + p for p in paths}
    assert {o.get("htmlUrl") for o in outlines} == {f"{base}index.html#{stem(p)}" for p in paths}
    root = html_root(out / "index.html")
    assert alternates(root) == {("application/feed+json", "all.json")}
    for path in paths:
        [row] = by_id(root, stem(path))
        assert [a.get("href") for a in row.iter("a")] == [path]


# --- 5. custom feeds --------------------------------------------------------------------

# Records dated years before any clock this test will run under. The newest is
# 2015-06-30 12:00; 2015-05-31 12:00 is exactly 30 days before it.
_COLUMNS = ("n", "when", "topics", "domain", "category", "type", "quality", "heat")
_ROWS: list[tuple[Any, ...]] = [
    (1, "2015-06-30T12:00:00Z", ["AI", "Robotics"], "a.example.org", "news", "article", 80, 10),
    (2, "2015-06-20T08:00:00Z", ["Robotics"], "b.example.org", "research", "video", 50, None),
    (3, "2015-05-31T12:00:00Z", ["AI"], "a.example.org", "research", "article", None, 9.5),
    (4, "2015-05-31T11:59:00Z", ["AI", "Vision"], "c.example.org", "news", "video", 95, 40),
    (5, "2013-02-01T00:00:00Z", ["Vision", "AI", "Robotics"], "b.example.org", "news", "podcast",
     49.9, 90),
    (6, "2014-09-09T09:09:00Z", [], "c.example.org", None, None, 70, 0),
    (7, "2015-06-29T00:00:00Z", ["Computer Vision"], "a.example.org", "research", "article",
     50.5, 10.0),
]  # fmt: skip
CATALOGUE: list[dict[str, Any]] = [dict(zip(_COLUMNS, row, strict=True)) for row in _ROWS]
NEWEST = datetime(2015, 6, 30, 12, tzinfo=UTC)


def catalogue_link(record: dict[str, Any]) -> str:
    return f"https://{record['domain']}/stories/{record['n']}"


def write_catalogue(seeds: Path) -> None:
    for r in CATALOGUE:
        fields = article_fields(
            r["n"],
            title=f"Story {r['n']}",
            publishedDateTime=r["when"],
            webUrl=catalogue_link(r),
            provider={"name": f"Provider {r['domain'][0].upper()}", "domain": r["domain"]},
            topics=r["topics"] or None,
            category=r["category"],
            type=r["type"],
            quality=r["quality"],
            heat=r["heat"],
        )
        (seeds / f"story-{r['n']}.md").write_text(record_text(fields), encoding="utf-8")


def age(r: dict[str, Any]) -> timedelta:
    return NEWEST - datetime.fromisoformat(r["when"].replace("Z", "+00:00"))


CUSTOM = """\
# A feed of our own.
kind: custom
slug: picked
folder: custom
title: "{site}: Picked"
description: "Hand-picked stories."
"""
FILTER_LINE = CUSTOM.count("\n") + 1


def write_custom(feeds: Path, filter_yaml: str) -> Path:
    path = feeds / "picked.yaml"
    path.write_text(CUSTOM + filter_yaml, encoding="utf-8")
    return path


def custom_filter(rule: dict[str, Any]) -> str:
    return yaml.safe_dump({"filter": rule}, sort_keys=False, allow_unicode=True)


FILTER_CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "topics list is any of": (
        {"topics": ["Vision", "Robotics"]},
        lambda r: bool({"Vision", "Robotics"} & set(r["topics"])),
    ),
    "topics any": (
        {"topics": {"any": ["Vision", "Computer Vision"]}},
        lambda r: "Vision" in r["topics"] or "Computer Vision" in r["topics"],
    ),
    "topics all": (
        {"topics": {"all": ["AI", "Robotics"]}},
        lambda r: "AI" in r["topics"] and "Robotics" in r["topics"],
    ),
    "topics any and all": (
        {"topics": {"any": ["Vision", "Robotics"], "all": ["AI"]}},
        lambda r: "AI" in r["topics"] and bool({"Vision", "Robotics"} & set(r["topics"])),
    ),
    "providers": (
        {"providers": ["b.example.org", "c.example.org"]},
        lambda r: r["domain"] in ("b.example.org", "c.example.org"),
    ),
    "categories": ({"categories": ["research"]}, lambda r: r["category"] == "research"),
    "types": ({"types": ["video", "podcast"]}, lambda r: r["type"] in ("video", "podcast")),
    "min_quality": (
        {"min_quality": 50},
        lambda r: r["quality"] is not None and r["quality"] >= 50,
    ),
    "min_heat": ({"min_heat": 10}, lambda r: r["heat"] is not None and r["heat"] >= 10),
    "within_days": ({"within_days": 30}, lambda r: age(r) <= timedelta(days=30)),
    "within_days 0": ({"within_days": 0}, lambda r: age(r) == timedelta(0)),
    "everything at once": (
        {
            "topics": {"any": ["AI", "Computer Vision"]},
            "providers": ["a.example.org", "b.example.org"],
            "categories": ["news", "research"],
            "types": ["article", "video"],
            "min_quality": 50,
            "min_heat": 10,
            "within_days": 30,
        },
        lambda r: (
            bool({"AI", "Computer Vision"} & set(r["topics"]))
            and r["domain"] in ("a.example.org", "b.example.org")
            and r["category"] in ("news", "research")
            and r["type"] in ("article", "video")
            and (r["quality"] or 0) >= 50
            and (r["heat"] or 0) >= 10
            and age(r) <= timedelta(days=30)
        ),
    ),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_custom_feed_filter_selects_exactly_the_matching_articles(seeds, feeds_dir, out, case):
    rule, wanted = FILTER_CASES[case]
    write_catalogue(seeds)
    write_custom(feeds_dir, custom_filter(rule))
    report = run(seeds, feeds_dir, out, formats=("rss", "json"))
    assert report.exit_status == 0
    expected = sorted((r for r in CATALOGUE if wanted(r)), key=age)
    assert 0 < len(expected) < len(CATALOGUE)  # the filter discriminates
    links = [catalogue_link(r) for r in expected]
    assert [i["link"] for i in rss_items(out / "custom/picked.rss")] == links
    assert [i["url"] for i in json_feed(out / "custom/picked.json")["items"]] == links
    channel = rss_channel(out / "custom/picked.rss")
    assert channel.findtext("title") == f"{SITE_TITLE}: Picked"
    assert channel.findtext("description") == "Hand-picked stories."
    [entry] = [f for f in manifest(out) if f["kind"] == "custom"]
    assert entry["slug"] == "picked"
    assert entry["files"] == {"rss": "custom/picked.rss", "json": "custom/picked.json"}
    assert not [d for d in report.diagnostics if d.severity is Severity.WARNING]


def test_time_window_counts_from_the_newest_record_never_the_clock(seeds, feeds_dir, out):
    write_catalogue(seeds)
    write_custom(feeds_dir, "filter:\n  within_days: 30\n")
    assert datetime.now(UTC) - NEWEST > timedelta(days=365)  # a clock window would be empty
    report = run(seeds, feeds_dir, out)
    assert report.exit_status == 0
    links = [i["link"] for i in rss_items(out / "custom/picked.rss")]
    # Exactly 30 days before the newest is inside; one minute more is outside.
    assert links == [catalogue_link(CATALOGUE[i]) for i in (0, 6, 1, 2)]
    assert catalogue_link(CATALOGUE[3]) not in links


def test_a_time_window_wider_than_the_calendar_is_no_crash(seeds, feeds_dir, out):
    """within_days: 1000000 passes the config check; it must take every article
    (or be refused with a clear FILE:LINE message), never end in a traceback."""
    write_catalogue(seeds)
    path = write_custom(feeds_dir, "filter:\n  within_days: 1000000\n")
    args = ["build", "--seeds", str(seeds), "--feeds", str(feeds_dir), "--out", str(out)]
    result = cli(*args, "--no-cache", "-j", "1")
    assert result.exit_code in (0, 2), repr(result.exception)
    if result.exit_code == 2:
        assert re.match(rf"{re.escape(str(path))}:\d+: filter: within_days", result.stderr)
    else:
        links = [i["link"] for i in rss_items(out / "custom/picked.rss")]
        assert sorted(links) == sorted(catalogue_link(r) for r in CATALOGUE)


def test_custom_feed_appears_in_the_opml_and_the_index(seeds, feeds_dir, out):
    write_catalogue(seeds)
    write_custom(feeds_dir, "filter:\n  topics: [Robotics]\n")
    run(seeds, feeds_dir, out)
    body = etree.parse(str(out / "index.opml")).getroot().find("body")
    [group] = [g for g in body if g.get("text") == GROUP_NAMES["custom"]]
    assert [o.get("xmlUrl") for o in group] == [BASE_URL + "custom/picked.rss"]
    assert list(body).index(group) == len(body) - 1  # selections come last
    [row] = by_id(html_root(out / "index.html"), "custom/picked")
    assert f"{SITE_TITLE}: Picked" in text_of(row)
    assert "3 articles" in text_of(row)


BAD_FILTERS = {
    "unknown key in filter": ("filter:\n  topics: [AI]\n  sort: newest\n", "sort"),
    "min_quality as a word": ('filter:\n  min_quality: "high"\n', "min_quality"),
    "topics with an unknown way": ("filter:\n  topics: {some: [x]}\n", "topics"),
    "negative within_days": ("filter:\n  within_days: -1\n", "within_days"),
    "fractional within_days": ("filter:\n  within_days: 1.5\n", "within_days"),
    "min_heat as a boolean": ("filter:\n  min_heat: true\n", "min_heat"),
    "providers as a number": ("filter:\n  providers: 5\n", "providers"),
    "categories of numbers": ("filter:\n  categories: [1, 2]\n", "categories"),
    "types as a mapping": ("filter:\n  types: {video: yes}\n", "types"),
    "topics any as a mapping": ("filter:\n  topics:\n    any: {a: b}\n", "topics"),
    "filter as a list": ("filter: [AI]\n", "filter"),
}


def _bad_line(filter_yaml: str, key: str) -> set[int]:
    """The filter key's line, or the offending key's own line: either names the place."""
    lines = [FILTER_LINE]
    lines += [FILTER_LINE + n for n, text in enumerate(filter_yaml.splitlines()) if key in text]
    return set(lines)


@pytest.mark.parametrize("case", list(BAD_FILTERS))
def test_filter_mistake_is_a_config_error_naming_file_line_and_key(seeds, feeds_dir, out, case):
    filter_yaml, key = BAD_FILTERS[case]
    write_catalogue(seeds)
    path = write_custom(feeds_dir, filter_yaml)
    out.mkdir()
    (out / "keep.txt").write_text("published before")
    before = snapshot(out)
    with pytest.raises(ConfigError) as caught:
        run(seeds, feeds_dir, out)
    [problem] = caught.value.problems
    assert problem.path == str(path)
    assert problem.line in _bad_line(filter_yaml, key)
    assert problem.message.startswith("filter: ")
    assert re.search(rf"\b{key}\b", problem.message), problem.message
    assert str(problem) == f"{path}:{problem.line}: {problem.message}"
    assert snapshot(out) == before


@pytest.mark.parametrize(
    "case", ["unknown key in filter", "min_quality as a word", "negative within_days"]
)
def test_filter_mistake_on_the_command_line_exits_2_and_writes_nothing(seeds, feeds_dir, out, case):
    filter_yaml, key = BAD_FILTERS[case]
    write_catalogue(seeds)
    path = write_custom(feeds_dir, filter_yaml)
    result = cli("build", "--seeds", str(seeds), "--feeds", str(feeds_dir), "--out", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    match = re.fullmatch(rf"{re.escape(str(path))}:(\d+): filter: (.*)", line)
    assert match, line
    assert int(match.group(1)) in _bad_line(filter_yaml, key)
    assert re.search(rf"\b{key}\b", match.group(2))
    assert not out.exists()


def test_filter_mistake_leaves_the_last_build_as_it_was(seeds, feeds_dir, out):
    write_catalogue(seeds)
    write_custom(feeds_dir, "filter:\n  topics: [AI]\n")
    run(seeds, feeds_dir, out)
    before = snapshot(out)
    assert "custom/picked.rss" in before
    write_custom(feeds_dir, "filter:\n  topics: [AI]\n  within_days: -1\n")
    (seeds / "story-8.md").write_text(record_text(article_fields(8)), encoding="utf-8")
    with pytest.raises(ConfigError):
        run(seeds, feeds_dir, out)
    assert snapshot(out) == before


def test_filter_matching_nothing_warns_naming_the_file_and_writes_no_feed(seeds, feeds_dir, out):
    write_catalogue(seeds)
    path = write_custom(feeds_dir, "filter:\n  topics: [AI]\n")
    run(seeds, feeds_dir, out)
    assert (out / "custom/picked.rss").is_file()
    write_custom(feeds_dir, "filter:\n  topics: [Quantum]\n")
    report = run(seeds, feeds_dir, out)
    assert report.exit_status == 0 and report.published
    [warning] = [d for d in report.diagnostics if d.severity is Severity.WARNING]
    assert (warning.path, warning.line) == (str(path), FILTER_LINE)
    assert "filter" in warning.message
    assert not [f for f in files_in(out) if f.startswith("custom/")]
    assert "custom" not in {f["kind"] for f in manifest(out)}
    opml = etree.parse(str(out / "index.opml")).getroot()
    assert GROUP_NAMES["custom"] not in {g.get("text") for g in opml.find("body")}
    assert by_id(html_root(out / "index.html"), "custom/picked") == []
    assert (out / "all.rss").is_file()


def test_filter_matching_nothing_is_a_warning_line_and_exit_0_on_the_command_line(
    seeds, feeds_dir, out
):
    write_catalogue(seeds)
    path = write_custom(feeds_dir, "filter:\n  providers: [nobody.example.org]\n")
    args = ["build", "--seeds", str(seeds), "--feeds", str(feeds_dir), "--out", str(out)]
    result = cli(*args, "--no-cache", "-j", "1")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}:{FILTER_LINE}: warning: ")
    assert "filter" in warnings[0]
    assert not (out / "custom").exists()
    assert (out / "all.rss").is_file()


def test_shipped_health_ai_feed_builds_with_the_articles_its_filter_names(shipped):
    site, report = shipped
    assert not [d for d in report.diagnostics if d.severity is Severity.WARNING]
    spec = yaml.safe_load((SHIPPED_FEEDS / "health-ai.yaml").read_text(encoding="utf-8"))
    topics = set(spec["filter"]["topics"]["any"])
    window = timedelta(days=spec["filter"]["within_days"])
    everything = json_feed(site / "all.json")["items"]
    assert len(everything) < 50  # the all-articles feed holds every article (limit 50)
    newest = max(rfc3339(i["date_published"]) for i in everything)
    on_topic = [i for i in everything if topics & set(i.get("tags", []))]
    expected = [i["id"] for i in on_topic if newest - rfc3339(i["date_published"]) <= window]
    assert 0 < len(expected) < len(on_topic)  # the window leaves some on-topic articles out
    for suffix in (".rss", ".atom", ".json"):
        assert (site / f"custom/health-ai{suffix}").is_file()
    assert [i["id"] for i in json_feed(site / "custom/health-ai.json")["items"]] == expected
    assert [i["guid"] for i in rss_items(site / "custom/health-ai.rss")] == expected
    [entry] = [f for f in manifest(site) if f["kind"] == "custom"]
    assert entry["title"] == f"{SITE_TITLE}: AI in health care"


# --- 6. the index page in a real browser --------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no 'chromium' on PATH (Debian: apt-get install chromium)"
)
# How Chromium's log (--enable-logging=stderr) shows what a page's console received.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]|Uncaught|Failed to load resource")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WINDOW = (390, 844)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with feed media types and records (path, status) of each request."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **{suffix: MEDIA_TYPES[name] for name, suffix in SUFFIXES.items()},
        ".opml": "text/x-opml",
        ".html": "text/html",
    }

    def __init__(self, *args: Any, served: list[tuple[str, int]], **kwargs: Any) -> None:
        self.served = served
        super().__init__(*args, **kwargs)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self.served.append((self.path, int(code)))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The folder over HTTP on 127.0.0.1 at a free port: (root URL, requests served)."""
    served: list[tuple[str, int]] = []
    handler = partial(_Handler, directory=str(folder), served=served)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def chromium(url: str, scratch: Path, *action: str) -> tuple[int, str, str]:
    """Run headless Chromium on ``url`` in a phone-sized window; (status, stdout, stderr)."""
    scratch.mkdir(parents=True, exist_ok=True)
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        f"--user-data-dir={scratch / 'profile'}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--enable-logging=stderr",
        "--v=0",
        *action,
        url,
    ]
    env = {**os.environ, "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        env=env,
    )
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within 120 s on {url}")
    return process.returncode, stdout, stderr


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE_LINE.search(line)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
@needs_chromium
def test_index_page_in_a_real_browser_on_a_phone(site, tmp_path):
    screenshot = tmp_path / "index-390x844.png"
    with serve(site) as (root_url, served):
        page = root_url + "index.html"
        status, _, stderr = chromium(page, tmp_path / "shot", f"--screenshot={screenshot}")
        assert status == 0, stderr[-2000:]
        assert console_lines(stderr) == []
        assert screenshot.is_file()
        data = screenshot.read_bytes()
        assert len(data) > 5_000
        assert png_size(data) == WINDOW
        status, dom, stderr = chromium(page, tmp_path / "dom", "--dump-dom")
        assert status == 0, stderr[-2000:]
        assert console_lines(stderr) == []
        assert f"<h1>{SITE_TITLE}</h1>" in dom
        for feed in manifest(site):
            assert f'id="{stem(feed["files"]["rss"])}"' in dom
        # Every request the page made was answered (the browser's own favicon aside).
        asked = [(path, code) for path, code in served if path != "/favicon.ico"]
        assert ("/index.html", 200) in asked
        assert {code for _, code in asked} == {200}, asked
        # The autodiscovery links resolve against the served page, with their media types.
        found = alternates(html_root(site / "index.html"))
        assert len(found) == 3
        for media_type, href in found:
            with DIRECT.open(urljoin(page, href), timeout=10) as response:
                assert response.status == 200
                assert response.headers.get_content_type() == media_type, href
                body = response.read()
            assert body == (site / href).read_bytes()


@pytest.mark.slow
@needs_chromium
def test_browser_checks_catch_a_broken_page(tmp_path):
    """The console and request checks above are not vacuous: a broken page trips both."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>broken</title>'
        '<link rel="stylesheet" href="missing.css"></head><body><p>broken</p>'
        "<script>notDefinedAnywhere();</script></body></html>",
        encoding="utf-8",
    )
    with serve(folder) as (root_url, served):
        status, _, stderr = chromium(root_url + "index.html", tmp_path / "run", "--dump-dom")
    assert status == 0
    assert any("Uncaught ReferenceError" in line for line in console_lines(stderr)), stderr[-2000:]
    assert ("/missing.css", 404) in served
