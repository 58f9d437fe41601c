"""The preview server: a real server on a free loopback port, asked with raw HTTP requests."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import Message
from email.utils import formatdate
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import WriteRecord, article_fields
from feedloom import api, serve
from feedloom.cli import main
from feedloom.serve import PreviewServer, ServeError, make_server

SECRET = b"the secret beside the output folder: 4f1c9e"
Response = tuple[int, Message, bytes]


@pytest.fixture
def site(
    write_record: WriteRecord, seeds: Path, feeds_dir: Path, out: Path, tmp_path: Path
) -> Path:
    """A built output folder in all three formats, with traps around and inside it."""
    write_record("one.md", article_fields(1))
    write_record("two.md", article_fields(2, topics=["AI", "Robots"]))
    options = api.BuildOptions(
        seeds=seeds, feeds=feeds_dir, out=out, formats=("rss", "atom", "json"), jobs=1, cache=None
    )
    assert api.build(options).published
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (out / ".feedloom").mkdir()
    (out / ".feedloom" / "cache.sqlite").write_bytes(SECRET)
    (out / ".all.rss.x1y2.tmp").write_bytes(SECRET)
    (out / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (out / "outside").symlink_to(tmp_path)
    (out / "hidden-link.txt").symlink_to(".feedloom/cache.sqlite")
    (out / "alias.rss").symlink_to("all.rss")
    (out / ".alias.rss").symlink_to("all.rss")
    (out / "odd\\name.txt").write_bytes(SECRET)  # a backslash: a separator elsewhere
    os.mkfifo(out / "pipe.rss")  # opening it would wait for a writer forever
    return out


def start(out: Path, log: serve.RequestLog | None = None) -> PreviewServer:
    server = make_server(out, "127.0.0.1", 0, log)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return server


def stop(server: PreviewServer) -> None:
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(site: Path) -> Iterator[PreviewServer]:
    running = start(site)
    yield running
    stop(running)


def ask(
    server: PreviewServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
) -> Response:
    """One request with ``path`` sent exactly as given, and no header but Host and ``headers``."""
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    fields = headers.items() if isinstance(headers, dict) else headers or []
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in fields:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def exchange(server: PreviewServer, request: str) -> bytes:
    """Every byte the server sends back for ``request``, until it closes the connection."""
    with socket.create_connection(server.server_address[:2], timeout=5) as raw:
        raw.sendall(request.encode("latin-1"))
        return b"".join(iter(lambda: raw.recv(65536), b""))


# --- content types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/topics/robots.json", "application/feed+json; charset=utf-8"),
        ("/feeds.json", "application/json; charset=utf-8"),
        ("/index.opml", "text/x-opml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/alias.rss", "application/rss+xml; charset=utf-8"),
    ],
)
def test_content_types(server: PreviewServer, site: Path, path: str, content_type: str) -> None:
    status, headers, body = ask(server, path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache"
    assert body == (site / (path.strip("/") or "index.html")).read_bytes()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("notes.txt", "text/plain; charset=utf-8"),
        ("logo.png", "image/png"),
        ("archive.tar.gz", "application/octet-stream"),
        ("no-suffix", "application/octet-stream"),
    ],
)
def test_other_files_by_suffix(
    server: PreviewServer, site: Path, name: str, content_type: str
) -> None:
    (site / name).write_bytes(b"\x89 some bytes")
    status, headers, body = ask(server, f"/{name}")
    assert (status, headers["Content-Type"], body) == (200, content_type, b"\x89 some bytes")


def test_a_file_answer_is_the_file_with_its_length_and_time(
    server: PreviewServer, site: Path
) -> None:
    status, headers, body = ask(server, "/all.atom?utm_source=anything")
    assert status == 200
    assert body == (site / "all.atom").read_bytes()
    assert headers["Content-Length"] == str(len(body))
    assert headers["Last-Modified"] == formatdate((site / "all.atom").stat().st_mtime, usegmt=True)
    assert "Content-Encoding" not in headers


# --- validators and conditional requests -------------------------------------------------


def test_etag_then_304_without_a_body(server: PreviewServer) -> None:
    status, headers, _ = ask(server, "/all.rss")
    etag = headers["ETag"]
    assert status == 200
    assert etag.startswith('"') and etag.endswith('"')
    status, again, body = ask(server, "/all.rss", headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "no-cache"
    sent = exchange(
        server,
        f"GET /all.rss HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n",
    )
    head, _, rest = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 304 ")
    assert rest == b""  # nothing after the headers, so a kept-alive connection stays in step


def test_if_none_match_in_several_fields(server: PreviewServer) -> None:
    etag = ask(server, "/all.json")[1]["ETag"]
    fields = [("If-None-Match", '"old"'), ("If-None-Match", etag)]
    assert ask(server, "/all.json", headers=fields)[0] == 304


@pytest.mark.parametrize("if_none_match", ['"nope", W/{etag}', "W/{etag}", "*", '"x"  ,{etag}'])
def test_if_none_match_lists_weak_tags_and_star(server: PreviewServer, if_none_match: str) -> None:
    etag = ask(server, "/all.json")[1]["ETag"]
    status, _, body = ask(
        server, "/all.json", headers={"If-None-Match": if_none_match.format(etag=etag)}
    )
    assert (status, body) == (304, b"")


@pytest.mark.parametrize("if_none_match", ['"nope"', 'W/"nope", "other"'])
def test_other_etags_get_the_file(server: PreviewServer, site: Path, if_none_match: str) -> None:
    status, _, body = ask(server, "/all.json", headers={"If-None-Match": if_none_match})
    assert (status, body) == (200, (site / "all.json").read_bytes())


def test_if_modified_since(server: PreviewServer, site: Path) -> None:
    mtime = (site / "index.opml").stat().st_mtime
    last_modified = ask(server, "/index.opml")[1]["Last-Modified"]
    assert ask(server, "/index.opml", headers={"If-Modified-Since": last_modified})[0] == 304
    earlier = formatdate(mtime - 60, usegmt=True)
    status, _, body = ask(server, "/index.opml", headers={"If-Modified-Since": earlier})
    assert (status, body) == (200, (site / "index.opml").read_bytes())
    garbled = ask(server, "/index.opml", headers={"If-Modified-Since": "yesterday"})
    assert garbled[0] == 200


def test_if_modified_since_counts_only_without_if_none_match(server: PreviewServer) -> None:
    last_modified = ask(server, "/index.opml")[1]["Last-Modified"]
    headers = {"If-Modified-Since": last_modified, "If-None-Match": '"stale"'}
    assert ask(server, "/index.opml", headers=headers)[0] == 200


def test_a_date_in_no_zone_is_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """'-0000' (what formatdate writes by default) means UTC, not the server's local time."""
    representation = serve.represent(b"<rss/>", "all.rss", 1_600_000_000.0, "")
    monkeypatch.setenv("TZ", "JST-9")  # local time nine hours ahead of UTC
    time.tzset()
    try:
        for stamp, fresh in ((1_600_000_000, True), (1_600_000_000 - 60, False)):
            headers = Message()
            headers["If-Modified-Since"] = formatdate(stamp)
            assert headers["If-Modified-Since"].endswith("-0000")
            assert serve.not_modified(headers, representation) is fresh
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_etag_follows_the_bytes_not_the_time(server: PreviewServer, site: Path) -> None:
    feed = site / "all.atom"
    before = ask(server, "/all.atom")[1]
    stamp = feed.stat().st_mtime + 3600
    os.utime(feed, (stamp, stamp))  # as a rebuild that leaves the file as it was
    touched = ask(server, "/all.atom")[1]
    assert touched["ETag"] == before["ETag"]
    assert touched["Last-Modified"] == formatdate(stamp, usegmt=True) != before["Last-Modified"]
    feed.write_bytes(feed.read_bytes() + b"\n")
    status, changed, _ = ask(server, "/all.atom", headers={"If-None-Match": before["ETag"]})
    assert status == 200
    assert changed["ETag"] != before["ETag"]


# --- gzip -------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["gzip", "deflate, GZIP;q=0.5", "br;q=1.0, *", "x-gzip"])
def test_gzip_when_accepted(server: PreviewServer, site: Path, accept: str) -> None:
    plain_etag = ask(server, "/all.rss")[1]["ETag"]
    status, headers, body = ask(server, "/all.rss", headers={"Accept-Encoding": accept})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Content-Length"] == str(len(body))
    assert gzip.decompress(body) == (site / "all.rss").read_bytes()
    assert headers["ETag"] != plain_etag
    assert body[4:8] == b"\0\0\0\0"  # no time stamp inside: the same bytes every time
    conditional = {"Accept-Encoding": accept, "If-None-Match": headers["ETag"]}
    assert ask(server, "/all.rss", headers=conditional)[0] == 304


@pytest.mark.parametrize(
    "accept", [None, "", "gzip;q=0", "identity", "br, deflate", "gzip;q=0, *", "*;q=0", "gzip;q=x"]
)
def test_no_gzip_unless_accepted(server: PreviewServer, site: Path, accept: str | None) -> None:
    headers = {} if accept is None else {"Accept-Encoding": accept}
    status, answer, body = ask(server, "/all.rss", headers=headers)
    assert status == 200
    assert "Content-Encoding" not in answer
    assert answer["Vary"] == "Accept-Encoding"
    assert body == (site / "all.rss").read_bytes()


def test_binary_files_are_not_gzipped(server: PreviewServer, site: Path) -> None:
    (site / "logo.png").write_bytes(b"\x89PNG" * 100)
    _, headers, body = ask(server, "/logo.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers
    assert body == b"\x89PNG" * 100


@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_head_has_the_headers_of_get_and_no_body(server: PreviewServer, accept: str) -> None:
    _, got, body = ask(server, "/feeds.json", headers={"Accept-Encoding": accept})
    status, head, nothing = ask(server, "/feeds.json", "HEAD", {"Accept-Encoding": accept})
    assert (status, nothing) == (200, b"")
    assert head["Content-Length"] == str(len(body))
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Content-Encoding"):
        assert head[name] == got[name]
    request = (
        "HEAD /feeds.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {}\r\nConnection: close\r\n\r\n"
    )
    sent = exchange(server, request.format(accept))
    assert sent.startswith(b"HTTP/1.1 200 ")
    assert sent.endswith(b"\r\n\r\n")  # the headers and nothing after them


# --- folders, missing files, methods ---------------------------------------------------


def test_a_folder_without_its_slash_is_redirected(server: PreviewServer) -> None:
    status, headers, _ = ask(server, "/topics")
    assert (status, headers["Location"]) == (301, "/topics/")
    assert ask(server, "/topics?page=2")[1]["Location"] == "/topics/?page=2"


def test_a_folder_serves_its_index_page_and_is_never_listed(
    server: PreviewServer, site: Path
) -> None:
    status, _, body = ask(server, "/topics/")
    assert status == 404
    assert b"robots" not in body
    (site / "topics" / "index.html").write_text("<p>topics</p>")
    status, headers, body = ask(server, "/topics/")
    assert (status, headers["Content-Type"], body) == (
        200,
        "text/html; charset=utf-8",
        b"<p>topics</p>",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/missing.rss",
        "/topics/missing.atom",
        "/all.rss/",
        "/all",
        "all.rss",
        "x/all.rss",
        "*",
        "/pipe.rss",
    ],
)
def test_missing_files_are_404(server: PreviewServer, path: str) -> None:
    status, headers, _ = ask(server, path)
    assert status == 404
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_only_get_and_head_are_allowed(server: PreviewServer, method: str) -> None:
    status, headers, body = ask(server, "/all.rss", method)
    assert (status, headers["Allow"]) == (405, "GET, HEAD")
    assert b"<rss" not in body


def test_a_refused_body_is_never_taken_for_a_request(server: PreviewServer) -> None:
    smuggled = "GET /all.rss HTTP/1.1\r\nHost: x\r\n\r\n"
    sent = exchange(
        server,
        f"POST /all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n{smuggled}",
    )
    assert sent.startswith(b"HTTP/1.1 405 ")
    assert sent.count(b"HTTP/1.1 ") == 1
    assert b"<rss" not in sent


# --- confinement -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/topics/..%2f..%2fsecret.txt",
        "/topics/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "//etc/passwd",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/%00",
        "/all.rss%00.txt",
        "/leak.txt",
        "/outside/secret.txt",
        "/outside/",
        "/.feedloom/cache.sqlite",
        "/%2efeedloom/cache.sqlite",
        "/.all.rss.x1y2.tmp",
        "/hidden-link.txt",
        "/.alias.rss",
        "/odd%5cname.txt",
        "/odd\\name.txt",
        "/./all.rss",
        "/topics/../all.rss",
        "/topics//robots.rss",
        "http://localhost/../secret.txt",
    ],
)
def test_nothing_outside_the_folder_or_hidden_is_served(server: PreviewServer, path: str) -> None:
    for method in ("GET", "HEAD"):
        status, _, body = ask(server, path, method)
        assert status == 404
        assert SECRET not in body
        assert b"root:" not in body


# --- logging, starting, stopping ---------------------------------------------------------


def test_one_log_line_a_request(site: Path) -> None:
    lines: list[str] = []
    running = start(site, lines.append)
    try:
        ask(running, "/all.rss")
        ask(running, "/nope", "HEAD")
        exchange(running, "GET /\x1b[2J HTTP/1.0\r\n\r\n")
    finally:
        stop(running)
    assert lines == ["GET /all.rss 200", "HEAD /nope 404", "GET /\\x1b[2J 404"]


def test_a_client_hanging_up_is_no_error(site: Path, capsys: pytest.CaptureFixture) -> None:
    with make_server(site, "127.0.0.1", 0) as server:
        for error in (BrokenPipeError(), ConnectionResetError(), ValueError("a real bug")):
            try:
                raise error
            except Exception:
                server.handle_error(socket.socket(), ("127.0.0.1", 1))
    reported = capsys.readouterr().err
    assert "ValueError: a real bug" in reported
    assert "BrokenPipeError" not in reported
    assert "ConnectionResetError" not in reported


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="run 'feedloom build' first"):
        make_server(tmp_path / "output", "127.0.0.1", 0)


def test_a_port_in_use_is_refused(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            make_server(site, "127.0.0.1", port)


def test_only_loopback_is_private(site: Path) -> None:
    for bind, exposed in (("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True)):
        with make_server(site, bind, 0) as server:
            assert serve.exposed(server) is exposed
            assert (
                serve.url(server)
                == f"http://{server.server_address[0]}:{server.server_address[1]}/"
            )


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_refusals_are_one_line(tmp_path: Path, site: Path) -> None:
    status, stdout, stderr = invoke("--out", str(tmp_path / "nowhere"))
    assert (status, stdout) == (1, "")
    assert (
        stderr == f"feedloom: {tmp_path / 'nowhere'}: no such folder; run 'feedloom build' first\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, stdout, stderr = invoke("--out", str(site), "--port", str(port))
    assert (status, stdout) == (1, "")
    assert stderr.startswith(f"feedloom: cannot listen on 127.0.0.1:{port}: ")
    assert stderr.count("\n") == 1


def fake_run(server: PreviewServer) -> None:
    """In place of serve.run: serve one request, then stop."""
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        assert ask(server, "/all.rss")[0] == 200
    finally:
        stop(server)


@pytest.mark.parametrize(
    ("args", "log"), [((), "GET /all.rss 200\n"), (("-q",), ""), (("--quiet",), "")]
)
def test_cli_logs_requests_unless_quiet(
    site: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], log: str
) -> None:
    monkeypatch.setattr(serve, "run", fake_run)
    status, stdout, stderr = invoke("--out", str(site), "--port", "0", *args)
    assert status == 0
    assert stdout.startswith(f"serving {site} at http://127.0.0.1:")
    assert stdout.endswith("/ (Ctrl-C to stop)\n")
    assert stderr == log


def test_cli_warns_when_exposed(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "run", PreviewServer.server_close)
    status, stdout, stderr = invoke("--out", str(site), "--bind", "0.0.0.0", "--port", "0")
    assert status == 0
    assert stdout.startswith(f"serving {site} at http://0.0.0.0:")
    assert stderr == f"feedloom: warning: {site} is exposed to the network on 0.0.0.0\n"
    status, _, stderr = invoke("--out", str(site), "--port", "0", "-q")
    assert (status, stderr) == (0, "")


def test_cli_serves_until_ctrl_c(site: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "feedloom", "serve", "--out", str(site), "--port", "0"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = process.stdout.readline()
        assert first.startswith(f"serving {site} at http://127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/index.opml")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, (site / "index.opml").read_bytes())
        conn.close()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert stderr == "GET /index.opml 200\n"
    assert stdout == ""
