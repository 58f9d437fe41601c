"""The preview server: the output folder over HTTP, as a feed reader or a browser would see it.

Standard library only. Every answer names its content type, carries an ``ETag``
made from the file's bytes (so a rebuild that leaves a file alone keeps it) and
its ``Last-Modified`` time, and answers conditional requests with 304; text is
gzipped for clients that accept it. Nothing outside the output folder is ever
served: not through ``..``, encoded forms, symbolic links or hidden files
(the cache, the publisher's temporary files). Whatever is refused is a 404,
so nothing is revealed about what exists.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import ipaddress
import mimetypes
import os
import re
import socket
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from .config import INDEX_PAGE
from .formats import FORMATS
from .manifest import MANIFEST
from .version import __version__

RequestLog = Callable[[str], None]
"""Called with one line per request: method, path, status."""

_ALLOWED = "GET, HEAD"
_IDLE_SECONDS = 60  # a kept-alive connection that says nothing for this long is closed
_CHARSET = "; charset=utf-8"
_MEDIA_TYPES = {
    **{f.suffix: f.media_type for f in FORMATS.values()},
    ".opml": "text/x-opml",
    ".html": "text/html",
}
_MANIFEST_TYPE = "application/json"
_GUESS = mimetypes.MimeTypes()  # the built-in table only: the same answers on every machine
_TEXT_TYPE = re.compile(r"text/.*|.*[/+](xml|json)")
_QVALUE = re.compile(r"\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*")
_ETAG = re.compile(r'(?:W/)?"([^"]*)"')
_CONTROL_CHARS = str.maketrans({c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))})


class ServeError(Exception):
    """The server cannot start; the message says why."""


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its folder and where to log requests."""

    def __init__(self, root: str, address: tuple[str, int], log: RequestLog | None) -> None:
        self.root = root
        """The output folder, as a real path: no symbolic link in it."""
        self.log = log
        super().__init__(address, _Handler)

    def handle_error(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        """A client that hangs up mid-answer is no error; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(
    out_dir: Path, bind: str, port: int, log: RequestLog | None = None
) -> PreviewServer:
    """A server for ``out_dir`` on ``bind``:``port`` (0: any free port), not yet serving."""
    if not os.path.isdir(out_dir):
        raise ServeError(f"{out_dir}: no such folder; run 'feedloom build' first")
    try:
        return PreviewServer(os.path.realpath(out_dir), (bind, port), log)
    except OSError as exc:
        raise ServeError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}") from None


def url(server: PreviewServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def exposed(server: PreviewServer) -> bool:
    """Whether other machines can reach the server: it listens beyond the loopback address."""
    return not ipaddress.ip_address(server.server_address[0]).is_loopback


def run(server: PreviewServer) -> None:
    """Serve until Ctrl-C, then close the server."""
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


# --- from a request to a file ------------------------------------------------------------


def resolve(root: str, target: str) -> str | None:
    """The real path, relative to ``root`` and with '/' separators, of what a request names.

    ``target`` is the request's path as sent: its query is ignored, it is decoded
    once, and a folder (a path ending in '/') names its index page. None for
    anything that is not a plain name below ``root``: a '.' or '..' segment, an
    empty one, a backslash or NUL, a hidden file or folder, or a symbolic link
    whose real path leaves ``root`` or is hidden.
    """
    first, *names = unquote(target.partition("?")[0]).split("/")
    if first or not names:
        return None
    if not names[-1]:
        names[-1] = INDEX_PAGE
    if not all(_plain_name(name) for name in names):
        return None
    relative = os.path.relpath(os.path.realpath(os.path.join(root, *names)), root)
    parts = relative.split(os.sep)
    return None if any(part.startswith(".") for part in parts) else "/".join(parts)


def _read_file(path: str) -> tuple[bytes, float] | None:
    """A regular file's bytes and modification time; None for anything else, or unreadable."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as file:
            return file.read(), os.fstat(file.fileno()).st_mtime
    except OSError:
        return None


def _plain_name(name: str) -> bool:
    return bool(name) and not name.startswith(".") and "\\" not in name and "\0" not in name


def media_type(relative: str) -> str:
    """The Content-Type of a file in the output folder, by its suffix; the manifest is JSON."""
    if relative == MANIFEST:
        kind = _MANIFEST_TYPE
    else:
        guessed, encoding = _GUESS.guess_type(relative, strict=False)
        suffix = PurePosixPath(relative).suffix
        kind = _MEDIA_TYPES.get(suffix) or (guessed if encoding is None else None)
        kind = kind or "application/octet-stream"
    return kind + _CHARSET if is_text(kind) else kind


def is_text(kind: str) -> bool:
    """Whether a media type is text (or XML or JSON): UTF-8, worth compressing."""
    return _TEXT_TYPE.fullmatch(kind.partition(";")[0]) is not None


# --- what to answer -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Representation:
    """The bytes to send for a file and the headers that describe them."""

    data: bytes
    media_type: str
    etag: str
    mtime: float
    gzipped: bool
    varies: bool
    """Whether the answer depends on Accept-Encoding (text may be gzipped)."""


def represent(data: bytes, relative: str, mtime: float, accept_encoding: str) -> Representation:
    """The representation of a file's bytes for a client that sent ``accept_encoding``."""
    kind = media_type(relative)
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    text = is_text(kind)
    if text and accepts_gzip(accept_encoding):
        return Representation(
            gzip.compress(data, mtime=0), kind, f'"{digest}-gzip"', mtime, True, True
        )
    return Representation(data, kind, f'"{digest}"', mtime, False, text)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip: named (or '*') with a q-value above 0."""
    weights: dict[str, float] = {}
    for element in accept_encoding.split(","):
        coding, *params = (part.strip() for part in element.split(";"))
        weights.setdefault(coding.lower(), _weight(params))
    weight = weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0)))
    return weight > 0


def _weight(params: list[str]) -> float:
    """The q-value among an element's parameters: 1 when absent, 0 when malformed."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


def not_modified(headers: Message, representation: Representation) -> bool:
    """Whether a GET or HEAD may be answered 304 (RFC 9110, section 13.2.2).

    If-None-Match decides when present ('*', or a list compared weakly);
    If-Modified-Since counts only without it.
    """
    if_none_match = headers.get_all("If-None-Match")
    if if_none_match:
        value = ", ".join(if_none_match)
        tag = representation.etag.strip('"')
        return value.strip() == "*" or tag in _ETAG.findall(value)
    since = headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        date = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if date.tzinfo is None:  # '-0000': UTC, says RFC 5322
        date = date.replace(tzinfo=UTC)
    return int(representation.mtime) <= date.timestamp()


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = f"feedloom/{__version__}"
    timeout = _IDLE_SECONDS

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _refuse_method(self) -> None:
        # Closing the connection: a body the client may have sent is left unread.
        self._send_status(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": _ALLOWED, "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method

    def _answer(self) -> None:
        relative = resolve(self.server.root, self.path)
        if relative is None:
            self._send_status(HTTPStatus.NOT_FOUND)
            return
        path = os.path.join(self.server.root, relative)
        if os.path.isdir(path):
            self._redirect_to_folder()
            return
        found = _read_file(path)
        if found is None:
            self._send_status(HTTPStatus.NOT_FOUND)
            return
        data, mtime = found
        self._send(represent(data, relative, mtime, self.headers.get("Accept-Encoding", "")))

    def _send(self, representation: Representation) -> None:
        fresh = not_modified(self.headers, representation)
        self.send_response(HTTPStatus.NOT_MODIFIED if fresh else HTTPStatus.OK)
        self.send_header("ETag", representation.etag)
        self.send_header("Cache-Control", "no-cache")
        if representation.varies:
            self.send_header("Vary", "Accept-Encoding")
        if fresh:
            self.end_headers()
            return
        self.send_header("Last-Modified", formatdate(representation.mtime, usegmt=True))
        self.send_header("Content-Type", representation.media_type)
        if representation.gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(representation.data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(representation.data)

    def _redirect_to_folder(self) -> None:
        path, question, query = self.path.partition("?")
        self._send_status(HTTPStatus.MOVED_PERMANENTLY, {"Location": f"{path}/{question}{query}"})

    def _send_status(self, status: HTTPStatus, headers: dict[str, str] | None = None) -> None:
        """An answer with no file: the status as a line of plain text."""
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Type", "text/plain" + _CHARSET)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_request(self, code: int | str = "-", _size: int | str = "-") -> None:
        if self.server.log is not None:
            line = f"{self.command or '-'} {getattr(self, 'path', '-')} {code}"
            self.server.log(line.translate(_CONTROL_CHARS))

    def log_message(self, format: str, *args: object) -> None:
        """Silent: log_request's line, with its status, tells each request and its outcome."""
