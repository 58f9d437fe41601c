"""True enclosure sizes and types: ``feedloom probe`` against a local HTTP server.

Every test talks to a server on 127.0.0.1 (port 0) run in a thread by the test
itself: images with and without a length, HEAD refused, Range ignored,
redirect chains, a slow answer, errors, a lying Content-Length and a type the
extension does not imply. Nothing here touches any other host.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from conftest import WriteRecord, article_fields, cli, three_records
from feedloom import BuildOptions, build
from feedloom.api import BuildReport, ProbeSettings
from feedloom.api import probe as probe_feeds
from feedloom.cli import main
from feedloom.probe import probe, probe_all

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
NS = {"atom": ATOM, "media": MEDIA}
FAST = ProbeSettings(timeout=0.3, concurrency=4, per_host=0.0)
PROBE_LINE = re.compile(r"(\d+) enclosures: (\d+) asked, (\d+) answered before, (\d+) told no size")


# --- the local server ---------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    """time.monotonic() when the request line arrived."""


class Origin:
    """An image server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.sizes = {"/plain.png": 1234, "/other.png": 2222}
        self.delay = 0.2  # seconds /busy/* takes to answer
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                origin.handle(self, "HEAD")

            def do_GET(self) -> None:
                origin.handle(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def asked(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    # --- answers ---

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        with self.lock:
            self.requests.append(Request(method, h.path, dict(h.headers), time.monotonic()))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.answer(h, method)
        except (ConnectionError, TimeoutError):
            pass  # the client gave up (a timeout test): nothing to answer
        finally:
            with self.lock:
                self.in_flight -= 1
            h.close_connection = True

    def answer(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path, ranged = h.path, h.headers.get("Range") == "bytes=0-0"
        if path in self.sizes:
            return send(h, method, 200, "image/png", self.sizes[path])
        if path == "/ranged.jpg":  # HEAD refused; a ranged GET says the total
            if method == "HEAD":
                return send(h, method, 405, "text/plain", 0)
            if ranged:
                return send(h, method, 206, "image/jpeg", 1, {"Content-Range": "bytes 0-0/5555"})
            return send(h, method, 200, "image/jpeg", 5555)
        if path == "/norange.gif":  # HEAD refused; GET ignores Range
            if method == "HEAD":
                return send(h, method, 405, "text/plain", 0)
            return send(h, method, 200, "image/gif", 777)
        if path == "/chunked.jpg":  # no length at all, ever
            h.send_response(200)
            h.send_header("Content-Type", "image/jpeg")
            h.send_header("Transfer-Encoding", "chunked")
            h.send_header("Connection", "close")
            h.end_headers()
            if method == "GET":
                h.wfile.write(b"5\r\nabcde\r\n0\r\n\r\n")
            return None
        if m := re.fullmatch(r"/hop/(\d+)", path):  # a chain of n redirects to /plain.png
            n = int(m.group(1))
            target = f"/hop/{n - 1}" if n > 1 else "/plain.png"
            return send(h, method, 302, "text/plain", 0, {"Location": target})
        if path == "/to-ftp.png":
            location = f"ftp://127.0.0.1:{self.port}/plain.png"
            return send(h, method, 302, "text/plain", 0, {"Location": location})
        if path == "/slow.png":
            time.sleep(1.0)
            return send(h, method, 200, "image/png", 10)
        if path == "/missing.png":
            return send(h, method, 404, "text/html", 0)
        if path == "/broken.png":
            return send(h, method, 500, "text/html", 0)
        if path == "/liar.png":  # says 99999 bytes, would send 10
            return send(h, method, 200, "image/png", 99999, body=b"x" * 10)
        if path == "/typed.jpg":  # a .jpg that is really WebP
            return send(h, method, 200, "image/webp; q=0.9", 4321)
        if m := re.fullmatch(r"/busy/(\d+)\.png", path):
            time.sleep(self.delay)
            return send(h, method, 200, "image/png", 100 + int(m.group(1)))
        return send(h, method, 404, "text/plain", 0)


def send(
    h: BaseHTTPRequestHandler,
    method: str,
    status: int,
    kind: str,
    length: int,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", kind)
    h.send_header("Content-Length", str(length))
    h.send_header("Connection", "close")
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    if method == "GET":
        h.wfile.write(body if body is not None else b"\0" * length)


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = Origin()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- asking one URL -----------------------------------------------------------------------


def test_head_gives_size_and_type_and_names_feedloom(origin):
    started = time.time()
    found = probe(origin.url("/plain.png"), FAST)
    assert (found.size, found.type, found.error) == (1234, "image/png", "")
    assert started <= found.checked <= time.time()
    (request,) = origin.requests  # HEAD told everything: no GET
    assert request.method == "HEAD"
    assert "feedloom" in request.headers["User-Agent"]


def test_head_refused_falls_back_to_a_ranged_get(origin):
    found = probe(origin.url("/ranged.jpg"), FAST)
    assert (found.size, found.type, found.error) == (5555, "image/jpeg", "")
    head, get = origin.asked("/ranged.jpg")
    assert (head.method, get.method) == ("HEAD", "GET")
    assert get.headers["Range"] == "bytes=0-0"
    assert all("feedloom" in r.headers["User-Agent"] for r in (head, get))


def test_a_server_that_ignores_range_gives_its_content_length(origin):
    found = probe(origin.url("/norange.gif"), FAST)
    assert (found.size, found.type, found.error) == (777, "image/gif", "")


def test_no_length_at_all_is_a_failure_that_keeps_the_type(origin):
    found = probe(origin.url("/chunked.jpg"), FAST)
    assert found.size is None
    assert found.error == "the server gives no size"
    assert found.type == "image/jpeg"
    assert [r.method for r in origin.asked("/chunked.jpg")] == ["HEAD", "GET"]


def test_redirects_are_followed_up_to_the_limit(origin):
    two = probe(origin.url("/hop/2"), FAST)
    assert (two.size, two.type, two.error) == (1234, "image/png", "")
    assert two.url == origin.url("/hop/2")  # kept under the URL the record names
    ten = probe(origin.url("/hop/10"), FAST)
    assert ten.size is None
    assert ten.error == "more than 5 redirects"
    # Never past the limit: hop 10 .. hop 5 (six requests) for HEAD, the same for GET.
    assert not origin.asked("/hop/4")
    assert len(origin.asked("/hop/10")) == 2
    allowed = probe(origin.url("/hop/10"), ProbeSettings(timeout=0.3, per_host=0, max_redirects=10))
    assert allowed.size == 1234


def test_a_redirect_to_another_scheme_is_refused(origin):
    found = probe(origin.url("/to-ftp.png"), FAST)
    assert found.size is None
    assert found.error.startswith("not an http(s) URL: ftp://")
    assert {r.path for r in origin.requests} == {"/to-ftp.png"}


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:{port}/plain.png", "file:///etc/passwd"])
def test_only_http_and_https_urls_are_ever_asked(origin, url):
    found = probe(url.format(port=origin.port), FAST)
    assert found.size is None and found.error.startswith("not an http(s) URL")
    assert origin.count() == 0


def test_a_slow_answer_times_out(origin):
    started = time.monotonic()
    found = probe(origin.url("/slow.png"), FAST)
    assert found.size is None
    assert found.error == "timed out"
    assert time.monotonic() - started < 1.5  # two attempts of 0.3 s, not two of 1 s


@pytest.mark.parametrize(
    ("path", "error"), [("/missing.png", "HTTP 404"), ("/broken.png", "HTTP 500")]
)
def test_http_errors_are_failures(origin, path, error):
    found = probe(origin.url(path), FAST)
    assert (found.size, found.error) == (None, error)


def test_an_unreachable_server_is_a_failure():
    found = probe(f"http://127.0.0.1:{closed_port()}/plain.png", FAST)
    assert found.size is None and found.error


def test_the_content_length_header_is_trusted_even_when_the_body_is_shorter(origin):
    """HEAD says 99999 bytes; the body a GET would get is 10. The probe never downloads
    bodies, so the header is what it learns: a server that lies about its length is
    believed (as podcast clients that read the enclosure length would be)."""
    found = probe(origin.url("/liar.png"), FAST)
    assert (found.size, found.error) == (99999, "")


def test_the_servers_type_wins_over_the_extension(origin):
    found = probe(origin.url("/typed.jpg"), FAST)
    assert (found.size, found.type) == (4321, "image/webp")  # parameters dropped


# --- asking many -------------------------------------------------------------------------------


def test_no_more_requests_at_once_than_the_concurrency(origin):
    urls = [origin.url(f"/busy/{n}.png") for n in range(8)]
    found = probe_all(urls, ProbeSettings(timeout=2, concurrency=3, per_host=0))
    assert [p.size for p in found] == [100 + n for n in range(8)]  # in the order asked
    assert 2 <= origin.most_in_flight <= 3  # in parallel, never more than allowed


def test_requests_to_one_host_are_paced(origin):
    origin.delay = 0.0
    urls = [origin.url(f"/busy/{n}.png") for n in range(4)]
    found = probe_all(urls, ProbeSettings(timeout=2, concurrency=4, per_host=0.15))
    assert all(p.size for p in found)
    times = sorted(r.at for r in origin.requests)
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 0.15 s apart as sent; arrival jitter allowed for. Unpaced, the gaps are ~0.
    assert min(gaps) >= 0.1, gaps
    assert times[-1] - times[0] >= 0.4, gaps


# --- end to end: records -> probe -> build ------------------------------------------------------


@pytest.fixture
def all_formats(feeds_dir: Path) -> Path:
    site = feeds_dir / "site.yaml"
    site.write_text(
        re.sub(r"(?m)^formats:.*$", "formats: [rss, atom, json]", site.read_text()),
        encoding="utf-8",
    )
    return feeds_dir


def images_at(origin: Origin, *paths: str) -> list[dict[str, Any]]:
    return [{"url": origin.url(p), "width": 800, "height": 600} for p in paths]


def five_records(write_record: WriteRecord, origin: Origin) -> None:
    """Three images that answer, two that cannot tell a size."""
    write_record(
        "one.md", article_fields(1, images=images_at(origin, "/plain.png", "/norange.gif"))
    )
    write_record("two.md", article_fields(2, images=images_at(origin, "/ranged.jpg")))
    write_record("three.md", article_fields(3, images=images_at(origin, "/typed.jpg")))
    write_record("four.md", article_fields(4, images=images_at(origin, "/chunked.jpg")))
    write_record("five.md", article_fields(5, images=images_at(origin, "/missing.png")))


def cli_probe(seeds: Path, feeds: Path, *more: str) -> tuple[int, ...]:
    """``feedloom probe`` (unpaced, 0.5 s timeout); its summary line's four numbers."""
    result = cli(
        "probe", "--seeds", str(seeds), "--feeds", str(feeds), "--timeout", "0.5",
        "--per-host", "0", *more,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = PROBE_LINE.search(result.stdout)
    assert found, result.output
    return tuple(int(n) for n in found.groups())


def run(seeds: Path, feeds: Path, out: Path, **options: Any) -> BuildReport:
    options.setdefault("jobs", 1)
    report = build(BuildOptions(seeds=seeds, feeds=feeds, out=out, **options))
    assert report.exit_status == 0, report.diagnostics
    return report


@dataclass
class Shown:
    """What the documents of the 'all' feed say about each image URL."""

    enclosure: dict[str, tuple[str, str]]
    """RSS: url -> (length, type) of the item's enclosure (its first image)."""
    media: dict[str, tuple[str | None, str]]
    """Media RSS: url -> (fileSize, type)."""
    atom: dict[str, tuple[str | None, str]]
    """Atom: url -> (length, type) of the enclosure link."""
    json: dict[str, tuple[int | None, str]]
    """JSON Feed: url -> (size_in_bytes, mime_type) of the attachment."""


def shown(out: Path, path: str = "all") -> Shown:
    rss = etree.fromstring((out / f"{path}.rss").read_bytes())
    atom = etree.fromstring((out / f"{path}.atom").read_bytes())
    document = json.loads((out / f"{path}.json").read_bytes())
    return Shown(
        {e.get("url"): (e.get("length"), e.get("type")) for e in rss.iter("enclosure")},
        {m.get("url"): (m.get("fileSize"), m.get("type")) for m in rss.iter(f"{{{MEDIA}}}content")},
        {
            link.get("href"): (link.get("length"), link.get("type"))
            for link in atom.iterfind("atom:entry/atom:link[@rel='enclosure']", NS)
        },
        {
            a["url"]: (a.get("size_in_bytes"), a["mime_type"])
            for item in document["items"]
            for a in item.get("attachments", [])
        },
    )


def test_probe_then_build_uses_the_true_sizes_and_types_in_every_format(
    origin, write_record, seeds, all_formats, out
):
    five_records(write_record, origin)
    assert cli_probe(seeds, all_formats) == (6, 6, 0, 2)
    run(seeds, all_formats, out)
    seen = shown(out)
    u = origin.url
    assert seen.enclosure == {
        u("/plain.png"): ("1234", "image/png"),
        u("/ranged.jpg"): ("5555", "image/jpeg"),
        u("/typed.jpg"): ("4321", "image/webp"),  # the server's type, not the extension's
        u("/chunked.jpg"): ("0", "image/jpeg"),  # no size: length 0
        u("/missing.png"): ("0", "image/png"),  # failed: the inferred type, length 0
    }
    assert seen.media == {
        u("/plain.png"): ("1234", "image/png"),
        u("/norange.gif"): ("777", "image/gif"),
        u("/ranged.jpg"): ("5555", "image/jpeg"),
        u("/typed.jpg"): ("4321", "image/webp"),
        u("/chunked.jpg"): (None, "image/jpeg"),
        u("/missing.png"): (None, "image/png"),
    }
    assert seen.atom == seen.media
    assert seen.json == {url: (int(n) if n else None, t) for url, (n, t) in seen.media.items()}


def test_without_probing_sizes_are_unknown_and_types_inferred(
    origin, write_record, seeds, all_formats, out
):
    five_records(write_record, origin)
    run(seeds, all_formats, out)
    assert origin.count() == 0
    seen = shown(out)
    assert {length for length, _ in seen.enclosure.values()} == {"0"}
    assert seen.enclosure[origin.url("/typed.jpg")] == ("0", "image/jpeg")
    assert {size for size, _ in seen.media.values()} == {None}
    assert {size for size, _ in seen.atom.values()} == {None}
    assert {size for size, _ in seen.json.values()} == {None}


def test_a_second_probe_asks_nothing_and_max_age_zero_asks_again(
    origin, write_record, seeds, all_formats
):
    five_records(write_record, origin)
    assert cli_probe(seeds, all_formats) == (6, 6, 0, 2)
    asked = origin.count()
    assert asked >= 6
    # Failures are remembered too: nothing is asked again.
    assert cli_probe(seeds, all_formats) == (6, 0, 6, 0)
    assert origin.count() == asked
    report = probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=FAST))
    assert (report.enclosures, report.asked, report.failed) == (6, 0, ())
    assert origin.count() == asked
    # Older than max_age: asked again, every one.
    assert cli_probe(seeds, all_formats, "--max-age", "0") == (6, 6, 0, 2)
    assert origin.count() == 2 * asked


def test_the_api_probe_reports_failures_with_their_reasons(
    origin, write_record, seeds, all_formats
):
    five_records(write_record, origin)
    report = probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=FAST))
    assert (report.enclosures, report.asked) == (6, 6)
    assert sorted(report.failed) == [
        f"{origin.url('/chunked.jpg')}: the server gives no size",
        f"{origin.url('/missing.png')}: HTTP 404",
    ]


def test_the_probes_table_holds_url_checked_size_type_and_error(
    origin, write_record, seeds, all_formats, tmp_path
):
    five_records(write_record, origin)
    before = time.time()
    probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=FAST))
    after = time.time()
    with sqlite3.connect(tmp_path / ".feedloom" / "cache.sqlite") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(probes)")]
        rows = {r[0]: r[1:] for r in db.execute("SELECT * FROM probes")}
    assert columns == ["url", "checked", "size", "type", "error"]
    assert all(before - 1 <= checked <= after for checked, *_ in rows.values())
    assert {url: tuple(rest) for url, (_, *rest) in rows.items()} == {
        origin.url("/plain.png"): (1234, "image/png", ""),
        origin.url("/norange.gif"): (777, "image/gif", ""),
        origin.url("/ranged.jpg"): (5555, "image/jpeg", ""),
        origin.url("/typed.jpg"): (4321, "image/webp", ""),
        origin.url("/chunked.jpg"): (None, "image/jpeg", "the server gives no size"),
        origin.url("/missing.png"): (None, None, "HTTP 404"),
    }


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any socket connection made in this process fails the build loudly (and is noted)."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_a_plain_build_never_touches_the_network(
    origin, write_record, seeds, all_formats, out, no_connections
):
    five_records(write_record, origin)
    probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=FAST))
    asked, connections = origin.count(), len(no_connections)
    assert connections >= 6  # the guard does see the probe's connections
    run(seeds, all_formats, out)
    assert origin.count() == asked and len(no_connections) == connections
    assert shown(out).enclosure[origin.url("/plain.png")] == ("1234", "image/png")
    # With the server gone, a real rebuild (a record changed) still shows what was learnt:
    # had it asked, the failures would have replaced the stored sizes.
    origin.stop()
    write_record("six.md", article_fields(6, images=images_at(origin, "/plain.png")))
    report = run(seeds, all_formats, out)
    assert "all.rss" in report.written and report.probed is None
    assert len(no_connections) == connections
    assert shown(out).enclosure[origin.url("/plain.png")] == ("1234", "image/png")


def test_build_with_probe_enclosures_probes_then_renders(
    origin, write_record, seeds, all_formats, out
):
    write_record("one.md", article_fields(1, images=images_at(origin, "/plain.png")))
    write_record("two.md", article_fields(2, images=images_at(origin, "/typed.jpg")))
    result = cli(
        "build", "--seeds", str(seeds), "--feeds", str(all_formats), "--out", str(out),
        "--probe-enclosures", "-j", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 enclosures: 2 asked, 0 answered before, 0 told no size" in result.stdout
    assert {r.method for r in origin.requests} == {"HEAD"}
    seen = shown(out)
    assert seen.enclosure[origin.url("/plain.png")] == ("1234", "image/png")
    assert seen.json[origin.url("/typed.jpg")] == (4321, "image/webp")
    # Again: answered before, nothing asked, nothing rewritten.
    asked = origin.count()
    report = run(seeds, all_formats, out, probe_enclosures=True, probing=FAST)
    assert report.probed is not None
    assert (report.probed.enclosures, report.probed.asked) == (2, 0)
    assert origin.count() == asked and report.written == ()


def test_probe_failures_never_block_a_build(write_record, seeds, all_formats, out):
    gone = f"http://127.0.0.1:{closed_port()}"
    write_record("one.md", article_fields(1, images=[f"{gone}/a.png"]))
    write_record("two.md", article_fields(2, images=[f"{gone}/b.jpg"]))
    report = run(seeds, all_formats, out, probe_enclosures=True, probing=FAST)
    assert report.probed is not None
    assert (report.probed.enclosures, report.probed.asked, len(report.probed.failed)) == (2, 2, 2)
    assert shown(out).enclosure == {
        f"{gone}/a.png": ("0", "image/png"),
        f"{gone}/b.jpg": ("0", "image/jpeg"),
    }


def test_an_ftp_image_cannot_get_into_a_record(origin, write_record, seeds, all_formats, out):
    write_record(
        "one.md", article_fields(1, images=[{"url": f"ftp://127.0.0.1:{origin.port}/x.png"}])
    )
    report = run(seeds, all_formats, out)
    assert any("no usable http(s) url" in d.message for d in report.diagnostics)
    assert b"ftp:" not in (out / "all.rss").read_bytes()
    probed = probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=FAST))
    assert (probed.enclosures, probed.asked) == (0, 0)
    assert origin.count() == 0


def test_a_changed_size_rewrites_exactly_the_feeds_showing_that_image(
    origin, write_record, seeds, all_formats, out
):
    write_record("one.md", article_fields(1, images=images_at(origin, "/plain.png")))
    robots = {"name": "Robot Report", "domain": "robots.example.io"}
    for n, path in ((2, "/other.png"), (3, "/typed.jpg")):
        write_record(
            f"r{n}.md",
            article_fields(
                n, topics=["Robotics"], category="research", provider=robots,
                images=images_at(origin, path),
            ),
        )  # fmt: skip
    run(seeds, all_formats, out, probe_enclosures=True, probing=FAST)
    # Asked again with nothing new: no feed changes, so the build has nothing to write.
    again = ProbeSettings(timeout=0.3, per_host=0, max_age=0)
    assert probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=again)).asked == 3
    assert run(seeds, all_formats, out).written == ()
    origin.sizes["/plain.png"] = 2048
    assert probe_feeds(BuildOptions(seeds=seeds, feeds=all_formats, probing=again)).asked == 3
    report = run(seeds, all_formats, out)
    showing = ("all", "topics/ai", "providers/news-example-com", "categories/news")
    assert set(report.written) == {f"{p}.{s}" for p in showing for s in ("rss", "atom", "json")}
    assert shown(out).enclosure[origin.url("/plain.png")] == ("2048", "image/png")
    assert shown(out, "topics/ai").json[origin.url("/plain.png")] == (2048, "image/png")


def test_probe_cli_verbose_lists_what_told_no_size(origin, write_record, seeds, all_formats):
    five_records(write_record, origin)
    result = CliRunner().invoke(
        main,
        ["probe", "--seeds", str(seeds), "--feeds", str(all_formats), "--timeout", "0.5",
         "--per-host", "0", "-v"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"no size: {origin.url('/missing.png')}: HTTP 404" in result.stderr
    assert f"no size: {origin.url('/chunked.jpg')}: the server gives no size" in result.stderr


def cli_build(seeds: Path, feeds: Path, out: Path, *more: str) -> str:
    """``feedloom build``; what it printed."""
    result = cli("build", "--seeds", str(seeds), "--feeds", str(feeds), "--out", str(out), *more)
    assert result.exit_code == 0, result.output
    return result.output


def test_probe_keeps_the_cache_of_builds_with_the_same_record_size_limit(
    write_record, seeds, all_formats, out
):
    three_records(write_record)
    limit = ("--max-record-bytes", "2000000", "-j", "1")
    assert "3 records (3 parsed)" in cli_build(seeds, all_formats, out, *limit)
    cli_probe(seeds, all_formats, *limit)
    assert "3 records (0 parsed)" in cli_build(seeds, all_formats, out, *limit)


def test_probe_prints_the_caches_notices(write_record, seeds, all_formats, out):
    three_records(write_record)
    cli_build(seeds, all_formats, out, "-j", "1")
    limit = ("--max-record-bytes", "9999")
    result = cli("probe", "--seeds", str(seeds), "--feeds", str(all_formats), *limit)
    assert result.exit_code == 0, result.output
    assert "feedloom: cache: settings changed; reading every record again" in result.stderr
