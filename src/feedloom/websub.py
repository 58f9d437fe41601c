"""Push on publish: tell a WebSub hub which feeds changed, so subscribers hear in seconds.

After a build, each feed whose bytes changed is announced to the hub with a
``hub.mode=publish`` request (https://www.w3.org/TR/websub/, and the
PubSubHubbub convention every public hub follows). A hub that is down or
refuses is retried a few times, then reported; it never fails the build.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .probe import reason
from .version import __version__

USER_AGENT = f"feedloom/{__version__} (WebSub publisher)"


@dataclass(frozen=True, slots=True)
class Announcement:
    """What the hub said about one feed: ``error`` is empty when it took it."""

    url: str
    error: str = ""


def announce(
    hub: str, urls: Sequence[str], timeout: float = 10.0, attempts: int = 3, pause: float = 0.5
) -> list[Announcement]:
    """Announce every URL to ``hub``, a few at a time; one Announcement each, in order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda url: _announce(hub, url, timeout, attempts, pause), urls))


def _announce(hub: str, url: str, timeout: float, attempts: int, pause: float) -> Announcement:
    form = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause * 2 ** (attempt - 1))
        try:
            status, location = _post(hub, form, timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            problem = reason(exc)
            continue
        if 200 <= status < 300:
            return Announcement(url)
        problem = f"HTTP {status}" + (f", redirected to {location}" if location else "")
        if status < 500 and status != 429:
            break  # the hub refused this request: asking again will not help
    return Announcement(url, problem)


class _Unredirected(urllib.request.HTTPRedirectHandler):
    """Follows no redirect: one would turn the POST into a GET, which announces nothing."""

    def redirect_request(self, *_request: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_Unredirected)


def _post(hub: str, form: bytes, timeout: float) -> tuple[int, str]:
    """The hub's HTTP status, and where it redirected to, if it did."""
    request = urllib.request.Request(
        hub,
        data=form,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, (exc.headers.get("Location", "") if 300 <= exc.code < 400 else "")
