"""URL helpers: cleaning what records hold, canonical forms, and media types."""

from __future__ import annotations

import functools
import html
import re
from ipaddress import IPv6Address
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from .text import xml_safe

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|amp|quot|apos|lt|gt);")
# Characters allowed unescaped in a URI (RFC 3986), plus '%' for escapes already made.
_URI_SAFE = "!$%&'()*+,/:;=?@~-._"
# An absolute http(s) URL with a lower-case host and nothing to decode, escape or
# drop: no entity (no ';'), no fragment, no user, no port, no stray '%'.
_ALREADY_CLEAN = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    r"/(?:[A-Za-z0-9\-._~!$&'()*+,=:@/]|%[0-9A-Fa-f]{2})*"
    r"(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,=:@/?]|%[0-9A-Fa-f]{2})*)?"
)
_HOST = re.compile(r"[a-z0-9.-]+")
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048


def clean_url(value: object, base: str | None = None) -> str | None:
    """An absolute http(s) URL from a record value, or None when it is not one.

    Undoes HTML entities (``&#038;`` -> ``&``; only complete ones, so a query
    such as ``?a=1&copy=2`` is left alone), lower-cases scheme and host,
    punycodes an international host and percent-encodes what a URI cannot hold.
    A relative URL is appended to ``base`` when one is given, with or without
    its leading '/', as a static site's ``relative_url`` makes it absolute.
    """
    if not isinstance(value, str):
        return None
    if _ALREADY_CLEAN.fullmatch(value):
        return value  # what the slow path would return unchanged: most URLs
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), xml_safe(value).strip())
    if base and text and not _HAS_SCHEME.match(text):
        text = "https:" + text if text.startswith("//") else base + text.lstrip("/")
    if len(text) > MAX_URL_LENGTH:
        return None
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    host = _url_host(parts)
    if scheme not in _DEFAULT_PORTS or host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path, query, fragment = (_percent_encode(p) for p in parts[2:])
    return urlunsplit((scheme, netloc, path or "/", query, fragment))


def _url_host(parts: SplitResult) -> str | None:
    """A split URL's host as a clean URL writes it: punycoded, or an IPv6 address in brackets."""
    hostname = parts.hostname
    if not hostname:
        return None
    if parts.netloc.rpartition("@")[2].startswith("["):  # hostname has lost the brackets
        return f"[{hostname}]" if _is_ipv6(hostname) else None
    try:
        host = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if _HOST.fullmatch(host) else None


def _is_ipv6(text: str) -> bool:
    """An IPv6 address without a zone (``%25eth0``, which links to the web never need)."""
    try:
        return IPv6Address(text).scope_id is None
    except ValueError:
        return False


def _percent_encode(part: str) -> str:
    """Encode what a URI cannot hold; a '%' that starts no escape becomes ``%25``."""
    return quote(_STRAY_PERCENT.sub("%25", part), safe=_URI_SAFE)


def canonical_url(url: str) -> str:
    """The identity of a cleaned URL: no fragment, no ``utm_*`` tracking parameters."""
    address, _, query = url.partition("#")[0].partition("?")
    if not query:
        return address
    kept = [p for p in query.split("&") if p and not p.lower().startswith("utm_")]
    return f"{address}?{'&'.join(kept)}" if kept else address


@functools.lru_cache(maxsize=4096)  # records repeat a few hundred providers' domains
def bare_domain(text: str) -> str:
    """A domain as people write it ("https://www.News.example.com:8443/"), as feeds key it.

    That is ``host_of``'s form ("news.example.com"), so a provider's records
    with and without a domain share one key. Text that names no host is only
    trimmed and lower-cased.
    """
    written = text.strip().lower().split("//", 1)[-1].split("/", 1)[0]
    url = clean_url(f"https://{written}/")
    return host_of(url) if url else written


def host_of(url: str) -> str:
    """The host of a cleaned URL without a leading ``www.``."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


_IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "jfif": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "ico": "image/vnd.microsoft.icon",
    "heic": "image/heic",
}
FALLBACK_IMAGE_TYPE = "image/jpeg"
_EXTENSION = re.compile(r"\.([a-z0-9]{2,5})$")


def image_type(url: str) -> str:
    """The media type of an image URL, inferred without asking the network.

    A ``format=``/``fm=`` query parameter wins (image CDNs convert on the fly),
    then the extension of the path, also of a path that is itself
    percent-encoded (``...0x0.jpg%3FcropX1%3D0``). Unknown: JPEG, the web's
    commonest photo format.
    """
    path, _, query = url.partition("#")[0].partition("?")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name.lower() in ("format", "fm"):
            found = _IMAGE_TYPES.get(value.lower())
            if found:
                return found
    path = unquote(path).split("?", 1)[0].lower()
    match = _EXTENSION.search(path)
    if match and match.group(1) in _IMAGE_TYPES:
        return _IMAGE_TYPES[match.group(1)]
    return FALLBACK_IMAGE_TYPE
