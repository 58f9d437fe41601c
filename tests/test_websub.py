"""Push on publish (WebSub): hub links in every feed, and announcements after a build.

A hub stand-in (http.server on 127.0.0.1, port 0, in a thread) records every
POST it gets and answers as each test tells it: 204, 500 then 204, always 500,
400, 301, a line that is not HTTP; an unreachable hub is a port nothing listens on.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from lxml import etree

from conftest import BASE_URL, THREE_FEEDS, article_fields, files_in, three_records
from feedloom import BuildOptions, build, websub
from feedloom.api import BuildReport
from feedloom.cli import main

ATOM = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM}
SUFFIXES = ("rss", "atom", "json")
EVERY_URL = {f"{BASE_URL}{path}.{suffix}" for path in THREE_FEEDS for suffix in SUFFIXES}
SITE_FILES = {"feeds.json", "index.opml", "index.html"}


# --- the hub stand-in ----------------------------------------------------------------------


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]

    @property
    def url(self) -> str:
        return self.form["hub.url"][0]


NOT_HTTP = -1
"""A status that makes the hub stand-in answer a line that is not HTTP."""


class Hub:
    """Answers each POST with ``status(number of earlier POSTs for the same hub.url)``.

    A redirect points at ``moved``; a GET (of anything) is recorded and answered 200.
    """

    def __init__(self, status: Callable[[int], int], delay: float = 0.0) -> None:
        self.posts: list[Post] = []
        self.gets: list[str] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                post = Post(self.path, dict(self.headers), parse_qs(body.decode("ascii")))
                with hub.lock:
                    earlier = sum(p.form == post.form for p in hub.posts)
                    hub.posts.append(post)
                if delay:
                    time.sleep(delay)
                with suppress(ConnectionError):
                    self.answer(status(earlier))

            def do_GET(self) -> None:  # what a redirected POST would become
                with hub.lock:
                    hub.gets.append(self.path)
                self.answer(200)

            def answer(self, code: int) -> None:
                if code == NOT_HTTP:
                    self.wfile.write(b"NOT HTTP\r\n")
                    self.close_connection = True
                    return
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", hub.moved)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.moved = f"{self.url}/moved"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def announced(self) -> list[str]:
        with self.lock:
            return [p.url for p in self.posts]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_hub() -> Iterator[Callable[..., Hub]]:
    hubs: list[Hub] = []

    def make(status: Callable[[int], int] = lambda _: 204, delay: float = 0.0) -> Hub:
        hubs.append(Hub(status, delay))
        return hubs[-1]

    yield make
    for hub in hubs:
        hub.stop()


@pytest.fixture
def hub(make_hub) -> Hub:
    return make_hub()


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses between attempts, recorded instead of slept (keeps retry tests fast)."""
    taken: list[float] = []
    monkeypatch.setattr(websub, "time", SimpleNamespace(sleep=taken.append))
    return taken


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the project -------------------------------------------------------------------------------


def set_site(feeds_dir: Path, **values: Any) -> None:
    path = feeds_dir / "site.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        line = f"{key}: {json.dumps(value)}"
        pattern = re.compile(rf"(?m)^{key}:.*$")
        text = pattern.sub(line, text) if pattern.search(text) else f"{text}\n{line}\n"
    path.write_text(text, encoding="utf-8")


def with_hub(feeds_dir: Path, url: str, **more: Any) -> Path:
    set_site(feeds_dir, formats=list(SUFFIXES), websub_hub=url, **more)
    return feeds_dir


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    options.setdefault("jobs", 1)
    report = build(BuildOptions(seeds=seeds, feeds=feeds, out=out, **options))
    assert report.exit_status == 0, report.diagnostics
    return report


def cli_build(seeds: Path, feeds: Path, out: Path) -> Any:
    result = CliRunner().invoke(
        main, ["build", "--seeds", str(seeds), "--feeds", str(feeds), "--out", str(out), "-j", "1"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


# --- the feeds name the hub -------------------------------------------------------------------


def links_of(path: Path) -> dict[str, list[str]]:
    root = etree.fromstring(path.read_bytes())
    head = root.find("channel") if root.tag == "rss" else root
    found: dict[str, list[str]] = {}
    for link in head.findall("atom:link", NS):
        found.setdefault(link.get("rel"), []).append(link.get("href"))
    return found


def test_every_feed_declares_the_hub_and_its_self_link(hub, write_record, seeds, feeds_dir, out):
    three_records(write_record)
    run(seeds, with_hub(feeds_dir, hub.url), out)
    for path in THREE_FEEDS:
        for suffix in ("rss", "atom"):
            links = links_of(out / f"{path}.{suffix}")
            assert links["hub"] == [hub.url], path
            assert links["self"] == [f"{BASE_URL}{path}.{suffix}"]
        document = json.loads((out / f"{path}.json").read_bytes())
        assert document["hubs"] == [{"type": "WebSub", "url": hub.url}]
        assert document["feed_url"] == f"{BASE_URL}{path}.json"


def test_without_a_hub_no_feed_names_one_and_nothing_is_sent(write_record, seeds, feeds_dir, out):
    three_records(write_record)
    set_site(feeds_dir, formats=list(SUFFIXES))
    report = run(seeds, feeds_dir, out)
    write_record("four.md", article_fields(4))
    second = run(seeds, feeds_dir, out)
    assert second.written  # feeds did change
    assert report.announced == second.announced == () and second.push_failures == ()
    assert "hub" not in links_of(out / "all.rss") and "hub" not in links_of(out / "all.atom")
    assert "hubs" not in json.loads((out / "all.json").read_bytes())


# --- what is announced ---------------------------------------------------------------------------


def test_the_first_build_announces_every_subscription_document_once(
    hub, write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    report = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert Counter(hub.announced()) == Counter(EVERY_URL)  # each once
    assert set(report.announced) == EVERY_URL and report.push_failures == ()
    for post in hub.posts:
        assert post.form == {"hub.mode": ["publish"], "hub.url": [post.url]}
        assert post.path == "/hub"
        assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert "feedloom" in post.headers["User-Agent"]


def test_a_no_op_build_announces_nothing(hub, write_record, seeds, feeds_dir, out):
    three_records(write_record)
    with_hub(feeds_dir, hub.url)
    run(seeds, feeds_dir, out)
    sent = len(hub.posts)
    again = run(seeds, feeds_dir, out)
    assert again.announced == () and len(hub.posts) == sent
    # Records saved again unchanged: not a replay (their times changed), but no
    # feed's bytes change.
    three_records(write_record)
    touched = run(seeds, feeds_dir, out)
    assert touched.written == ()
    assert touched.announced == () and len(hub.posts) == sent


def test_one_new_record_announces_exactly_the_feeds_whose_bytes_changed(
    hub, write_record, seeds, feeds_dir, out
):
    three_records(write_record)
    run(seeds, with_hub(feeds_dir, hub.url), out)
    before, sent = files_in(out), len(hub.posts)
    # Topic AI and a new topic, Ethics; provider news.example.com; category news.
    write_record("four.md", article_fields(4, topics=["AI", "Ethics"]))
    report = run(seeds, feeds_dir, out)
    changing = (
        "all",
        "topics/ai",
        "topics/ethics",
        "providers/news-example-com",
        "categories/news",
    )
    expected = {f"{BASE_URL}{path}.{suffix}" for path in changing for suffix in SUFFIXES}
    after = files_in(out)
    differ = {p for p in set(before) | set(after) if before.get(p) != after.get(p)} - SITE_FILES
    assert {BASE_URL + p for p in differ} == expected
    assert Counter(hub.announced()[sent:]) == Counter(expected)
    assert set(report.announced) == expected


def test_archive_documents_are_never_announced(hub, write_record, seeds, feeds_dir, out):
    for n in range(1, 9):
        write_record(f"a{n}.md", article_fields(n))
    with_hub(feeds_dir, hub.url, archive=True, limit=2, archive_size=2)
    first = run(seeds, feeds_dir, out)
    assert any("/archive/" in f for f in first.written)
    assert not any("/archive/" in url for url in hub.announced())
    four = ("all", "topics/ai", "providers/news-example-com", "categories/news")
    assert set(hub.announced()) == {f"{BASE_URL}{p}.{s}" for p in four for s in SUFFIXES}
    sent = len(hub.posts)
    write_record("a9.md", article_fields(9))  # the newest page takes record 7
    second = run(seeds, feeds_dir, out)
    assert {f for f in second.written if "/archive/" in f} == {
        f"{p}/archive/{n}.{s}" for p in four for n in (3, 4) for s in SUFFIXES
    } - {f"{p}/archive/3.json" for p in four}
    assert set(hub.announced()[sent:]) == {f"{BASE_URL}{p}.{s}" for p in four for s in SUFFIXES}


# --- a hub that fails ---------------------------------------------------------------------------


def test_an_unreachable_hub_fails_no_build(write_record, seeds, feeds_dir, out, pauses):
    three_records(write_record)
    hub = f"http://127.0.0.1:{closed_port()}/hub"
    with_hub(feeds_dir, hub)
    result = cli_build(seeds, feeds_dir, out)
    assert result.exit_code == 0, result.output
    warnings = [
        line for line in result.stderr.splitlines() if "the WebSub hub was not told of" in line
    ]
    assert len(warnings) == len(EVERY_URL)
    told = {
        re.match(r"feedloom: warning: the WebSub hub was not told of (\S+): ", w) for w in warnings
    }
    assert {m.group(1) for m in told if m} == EVERY_URL
    assert (out / "all.rss").is_file()
    # The API reports each feed once, with a reason: the new build's changed feeds and
    # the ones the hub was not told of before, which are tried again.
    write_record("four.md", article_fields(4))
    report = run(seeds, feeds_dir, out)
    assert report.announced == ()
    failed = dict(failure.split(": ", 1) for failure in report.push_failures)
    changed = {BASE_URL + f for f in report.written if f.endswith(SUFFIXES)}
    assert changed and set(failed) == EVERY_URL | changed
    assert all(reason for reason in failed.values())


def test_feeds_the_hub_missed_are_announced_when_it_is_back(
    make_hub, write_record, seeds, feeds_dir, out, pauses
):
    down = [True]
    hub = make_hub(lambda earlier: 503 if down[0] else 204)
    three_records(write_record)
    missed = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert len(missed.push_failures) == len(EVERY_URL) and missed.announced == ()
    down[0] = False
    back = run(seeds, feeds_dir, out)  # nothing new to publish: the shortcut build
    assert back.written == ()
    assert set(back.announced) == EVERY_URL and back.push_failures == ()
    sent = len(hub.posts)
    again = run(seeds, feeds_dir, out)
    assert again.announced == () and len(hub.posts) == sent


def test_a_hub_error_is_retried_until_it_takes_the_feed(
    make_hub, write_record, seeds, feeds_dir, out, pauses
):
    hub = make_hub(lambda earlier: 500 if earlier == 0 else 204)
    three_records(write_record)
    report = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert set(report.announced) == EVERY_URL and report.push_failures == ()
    assert Counter(hub.announced()) == Counter(dict.fromkeys(EVERY_URL, 2))
    assert pauses == [0.5] * len(EVERY_URL)


def test_a_hub_that_keeps_failing_is_reported_after_three_attempts(
    make_hub, write_record, seeds, feeds_dir, out, pauses
):
    hub = make_hub(lambda _: 500)
    three_records(write_record)
    report = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert report.exit_status == 0 and report.announced == ()
    assert sorted(report.push_failures) == sorted(f"{url}: HTTP 500" for url in EVERY_URL)
    assert Counter(hub.announced()) == Counter(dict.fromkeys(EVERY_URL, 3))
    assert sorted(pauses) == sorted([0.5, 1.0] * len(EVERY_URL))  # backing off


def test_a_hub_that_refuses_is_not_asked_again(
    make_hub, write_record, seeds, feeds_dir, out, pauses
):
    hub = make_hub(lambda _: 400)
    three_records(write_record)
    report = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert sorted(report.push_failures) == sorted(f"{url}: HTTP 400" for url in EVERY_URL)
    assert Counter(hub.announced()) == Counter(EVERY_URL)  # one request each
    assert pauses == []


def test_announce_gives_up_on_a_slow_hub_after_its_timeout(make_hub):
    hub = make_hub(delay=1.0)
    started = time.monotonic()
    (said,) = websub.announce(hub.url, [BASE_URL + "all.rss"], timeout=0.2, attempts=2, pause=0)
    assert said.error == "timed out"
    assert time.monotonic() - started < 0.9
    assert len(hub.posts) == 2


def test_announce_retries_too_many_requests(make_hub):
    hub = make_hub(lambda earlier: 429 if earlier < 2 else 202)
    (said,) = websub.announce(hub.url, [BASE_URL + "all.rss"], attempts=3, pause=0)
    assert said.error == ""
    assert len(hub.posts) == 3


def test_a_hub_answering_garbage_fails_no_build_and_its_feeds_stay_pending(
    make_hub, write_record, seeds, feeds_dir, out, pauses
):
    garbling = [True]
    hub = make_hub(lambda earlier: NOT_HTTP if garbling[0] else 204)
    three_records(write_record)
    missed = run(seeds, with_hub(feeds_dir, hub.url), out)
    assert missed.announced == ()
    failed = dict(failure.split(": ", 1) for failure in missed.push_failures)
    assert set(failed) == EVERY_URL
    assert set(failed.values()) == {"BadStatusLine: NOT HTTP"}
    garbling[0] = False
    back = run(seeds, feeds_dir, out)  # nothing new: only the pending feeds are told
    assert back.written == () and set(back.announced) == EVERY_URL


def test_a_hub_that_redirects_is_a_failure_naming_where_to(make_hub):
    hub = make_hub(lambda _: 301)
    (said,) = websub.announce(hub.url, [BASE_URL + "all.rss"], pause=0)
    assert said.error == f"HTTP 301, redirected to {hub.moved}"
    assert len(hub.posts) == 1 and hub.gets == []  # not retried, and no GET in its place
