"""True enclosure sizes and types: ask each image URL, politely, and remember the answer.

Podcast-style clients trust an enclosure's ``length`` and ``type``; records
give neither. ``feedloom probe`` (or ``build --probe-enclosures``) asks each
enclosure URL with a HEAD request, falling back to a one-byte ranged GET
where HEAD tells nothing, follows a few redirects (http and https only), and
stores what it learnt, failures too, in the build cache. Builds then use the
stored answers and never touch the network themselves. A URL is asked again
only when its answer is older than ``max_age``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from .version import __version__

if TYPE_CHECKING:  # loaded when probing, not by every build that reads the cache
    import http.client

USER_AGENT = f"feedloom/{__version__} (feed publisher; checks enclosure sizes)"
_MEDIA_TYPE = re.compile(r"(image|audio|video|application)/[A-Za-z0-9.+-]+")
_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


@dataclass(frozen=True, slots=True)
class Probe:
    """What asking one URL gave."""

    url: str
    checked: float
    """When (seconds since the epoch)."""
    size: int | None = None
    type: str | None = None
    error: str = ""
    """Why no size or type could be had; empty on success."""


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    timeout: float = 10.0
    concurrency: int = 8
    per_host: float = 0.5
    """Seconds between two requests to one host."""
    max_redirects: int = 5
    max_age: float = 30 * 86400.0
    """Seconds after which an answer is asked again."""


def due(
    urls: Iterable[str], known: Mapping[str, Probe], settings: ProbeSettings, now: float
) -> list[str]:
    """The URLs never asked, or asked longer ago than ``max_age``, sorted."""
    return sorted({u for u in urls if u not in known or now - known[u].checked > settings.max_age})


def probe_all(urls: Iterable[str], settings: ProbeSettings) -> list[Probe]:
    """Ask every URL, ``concurrency`` at a time and never a host faster than ``per_host``."""
    pacer = _Pacer(settings.per_host)
    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        return list(pool.map(lambda url: probe(url, settings, pacer.wait), urls))


def probe(url: str, settings: ProbeSettings, wait: Callable[[str], None] | None = None) -> Probe:
    """Ask one URL: HEAD, else a ranged GET; the error is kept when neither tells."""
    started = time.time()
    wait = wait or _Pacer(settings.per_host).wait
    size, kind, problem = _try(url, "HEAD", settings, wait)
    if size is None:  # HEAD refused or silent on the size: ask for the first byte
        size, ranged_kind, problem = _try(url, "GET", settings, wait)
        kind = kind or ranged_kind
    if size is None:
        return Probe(url, started, type=kind, error=problem or "the server gives no size")
    return Probe(url, started, size, kind)


def _try(
    url: str, method: str, settings: ProbeSettings, wait: Callable[[str], None]
) -> tuple[int | None, str | None, str]:
    from http.client import HTTPException

    try:
        return (*_ask(url, method, settings, wait), "")
    except _Refused as exc:
        return None, None, str(exc)
    except (OSError, HTTPException, ValueError) as exc:
        return None, None, reason(exc)


class _Refused(Exception):
    """An answer that settles the matter: an HTTP error, a redirect to elsewhere."""


def _ask(
    url: str, method: str, settings: ProbeSettings, wait: Callable[[str], None]
) -> tuple[int | None, str | None]:
    """(size, type) from a HEAD, or from a GET of the first byte; follows redirects."""
    for _ in range(settings.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Refused(f"not an http(s) URL: {url}")
        wait(parts.hostname)
        response, connection = _request(parts, method, settings.timeout)
        try:
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if response.status >= 400:
                raise _Refused(f"HTTP {response.status}")
            return _size(response), _type(response.getheader("Content-Type"))
        finally:
            connection.close()
    raise _Refused(f"more than {settings.max_redirects} redirects")


def _request(
    parts, method: str, timeout: float
) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    import http.client
    import ssl

    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if method == "GET":
        headers["Range"] = "bytes=0-0"
    connection.request(method, target, headers=headers)
    return connection.getresponse(), connection


def _size(response: http.client.HTTPResponse) -> int | None:
    """The whole resource's size: Content-Range's total for a ranged answer, else its length."""
    if response.status == 206:
        total = _TOTAL.fullmatch((response.getheader("Content-Range") or "").strip())
        return int(total.group(1)) if total else None
    length = response.getheader("Content-Length")
    if length is None or not length.strip().isdigit():
        return None
    return int(length)  # from a server that ignored the range too: still the size


def _type(header: str | None) -> str | None:
    kind = (header or "").split(";", 1)[0].strip().lower()
    return kind if _MEDIA_TYPE.fullmatch(kind) else None


def reason(exc: BaseException) -> str:
    """Why a request failed, in a few words: what websub and probe report."""
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timed out"
    text = str(getattr(exc, "reason", None) or exc).strip()
    if isinstance(exc, OSError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Pacer:
    """Keeps requests to one host at least ``interval`` seconds apart, across threads."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.interval
        if start > now:
            time.sleep(start - now)
