"""Stage 2: records -> articles.

The only module that knows the record schema (field names, their quirks and
their fallbacks). A record becomes a typed, repaired :class:`Article`, or is
rejected with one diagnostic naming the line of the offending field.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .diagnostics import Diagnostic, error, warning
from .records import Record
from .text import repair
from .urls import bare_domain, canonical_url, clean_url, host_of, image_type

MAX_TOPICS = 50
MAX_IMAGES = 20
MAX_RELATED = 20
MAX_TEXT = 10_000
_EARLIEST_YEAR, _LATEST_YEAR = 1000, 9999

Warn = Callable[[str], None]
"""Reports a problem with one field that does not reject the record."""


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    type: str
    width: int | None = None
    height: int | None = None
    title: str | None = None
    length: int | None = None
    """Size in bytes, when a probe learnt it (records never say)."""


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    """The provider's domain: what its feed is keyed by."""
    name: str
    url: str | None = None
    """The provider's home page, when its domain makes one."""
    logo: Image | None = None


@dataclass(frozen=True, slots=True)
class Related:
    title: str
    link: str
    excerpt: str = ""
    provider: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One article, as every later stage sees it."""

    id: str
    """The canonical link: the article's identity and its guid."""
    link: str
    title: str
    published: datetime
    """Publication time, always in UTC."""
    path: str
    line: int = 1
    excerpt: str = ""
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    category: str | None = None
    type: str | None = None
    quality: float | None = None
    heat: float | None = None
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()
    draft: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    """What selecting feeds needs of an article: everything but its text and images.

    A build keeps one Entry per record in memory and loads whole articles only
    for the feeds it renders, so memory grows with the records only by this.
    """

    id: str
    link: str
    title: str
    published: datetime
    path: str
    line: int
    draft: bool
    topics: tuple[str, ...]
    provider: Provider | None
    category: str | None
    type: str | None
    quality: float | None
    heat: float | None
    digest: str
    """Changes whenever anything published of the article changes."""


def entry_of(article: Article, digest: str) -> Entry:
    return Entry(
        id=article.id,
        link=article.link,
        title=article.title,
        published=article.published,
        path=article.path,
        line=article.line,
        draft=article.draft,
        topics=article.topics,
        provider=article.provider,
        category=article.category,
        type=article.type,
        quality=article.quality,
        heat=article.heat,
        digest=digest,
    )


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """Settings that change what a record becomes (and so invalidate cached articles)."""

    record_base_url: str | None = None
    """Relative URLs in records are appended to this; without it they are dropped."""


@dataclass(frozen=True, slots=True)
class Normalised:
    """What became of one record: an article or a rejection, with any warnings."""

    article: Article | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())


def normalise(record: Record, settings: ParseSettings | None = None) -> Normalised:
    """Turn one record into an article, or reject it with a reason."""
    notes: list[Diagnostic] = []
    fields = record.fields
    base = (settings or ParseSettings()).record_base_url

    def url(value: Any) -> str | None:
        return clean_url(value, base)

    def reject(key: str, reason: str) -> Normalised:
        return Normalised(None, (*notes, error(record.path, record.line_of(key), reason)))

    def warner(key: str) -> Warn:
        return lambda message: notes.append(warning(record.path, record.line_of(key), message))

    title = _text(fields.get("title"))
    if not title:
        return reject("title", _why_not_text("title", fields.get("title")))
    link = _link(fields, url)
    if link is None:
        return reject(*_why_no_link(fields))
    published = parse_date(fields.get("publishedDateTime"))
    if published is None:
        return reject("publishedDateTime", _why_no_date(fields.get("publishedDateTime")))

    article = Article(
        id=canonical_url(link),
        link=link,
        title=title,
        published=published,
        path=record.path,
        line=record.line_of("title"),
        excerpt=_text(fields.get("excerpt")) or "",
        provider=_provider(fields.get("provider"), link, url, warner("provider")),
        topics=_topics(fields.get("topics"), warner("topics")),
        category=_optional_text(fields.get("category"), "category", warner("category")),
        type=_optional_text(fields.get("type"), "type", warner("type")),
        quality=_number(fields.get("quality"), "quality", warner("quality")),
        heat=_number(fields.get("heat"), "heat", warner("heat")),
        images=_images(fields.get("images"), "image", url, warner("images")),
        related=_related(fields.get("related"), url),
        draft=_is_draft(fields.get("published", True), warner("published")),
    )
    return Normalised(article, tuple(notes))


# --- text ------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """Repaired text from a string value; None for anything else or nothing left."""
    if not isinstance(value, str):
        return None
    return repair(value[:MAX_TEXT]) or None


def _kind_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__


def _why_not_text(key: str, value: Any) -> str:
    if value is None:
        return f"missing {key}"
    if isinstance(value, str):
        return f"{key} is empty"
    return f"{key} must be text, not {_kind_of(value)} (quote it)"


def _optional_text(value: Any, key: str, warn: Warn) -> str | None:
    if value is None:
        return None
    text = _text(value)
    if text is None and not isinstance(value, str):
        warn(f"{key} must be text, not {_kind_of(value)}; ignored")
    return text


def _number(value: Any, key: str, warn: Warn) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
        warn(f"{key} must be a finite number, not {_quoted(str(value))}; ignored")
        return None
    warn(f"{key} must be a number, not {_kind_of(value)}; ignored")
    return None


def _is_draft(value: Any, warn: Warn) -> bool:
    if isinstance(value, bool):
        return not value
    warn(f"published must be true or false, not {_kind_of(value)}; taken as true")
    return False


# --- links and dates -------------------------------------------------------


Clean = Callable[[Any], str | None]
"""Makes a record's URL value absolute and clean, or None."""


def _link(fields: Mapping[str, Any], url: Clean) -> str | None:
    return url(fields.get("webUrl")) or url(fields.get("originalUrl"))


def _why_no_link(fields: Mapping[str, Any]) -> tuple[str, str]:
    """The key to blame for a missing link, and why."""
    given = [(k, fields[k]) for k in ("webUrl", "originalUrl") if fields.get(k) not in (None, "")]
    if not given:
        return "webUrl", "missing link: neither webUrl nor originalUrl is set"
    key, value = given[-1]
    if not isinstance(value, str):
        return key, f"{key} must be text, not {_kind_of(value)}"
    return key, f"{key} {_quoted(value)} is not an absolute http(s) URL"


def parse_date(value: Any) -> datetime | None:
    """A publication time in UTC from any form records use; a zone-less time is UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        moment = _parse_date_text(value.strip())
        if moment is None:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        return None
    return moment


def _parse_date_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    rfc822 = _parse_rfc822(text)
    return rfc822 if rfc822 is not None else _parse_date_loosely(text)


_RFC822_ZONES = {"UT", "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
_NUMERIC_ZONE = re.compile(r"[+-][0-9]{4}")


def _parse_rfc822(text: str) -> datetime | None:
    """An RFC 822 date ending in a zone the email module knows (GMT, EST, +0200, ...).

    Anything else goes to dateutil: the email module would take the 'PM' of
    "March 12, 2021 9:37 PM" for a zone and drop it.
    """
    zone = text.rsplit(None, 1)[-1]
    if zone.upper() not in _RFC822_ZONES and not _NUMERIC_ZONE.fullmatch(zone):
        return None
    from email.utils import parsedate_to_datetime  # loaded on first use, like dateutil

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def _parse_date_loosely(text: str) -> datetime | None:
    """Other spellings of a full date ("March 12, 2021 9:37 AM").

    dateutil fills what the text lacks from a default date; parsing with two
    different defaults and requiring the same day keeps "12" or "March" from
    becoming a date made up from the defaults.
    """
    from dateutil import parser  # loaded on first use: most dates are ISO 8601

    with warnings.catch_warnings():
        # A zone dateutil does not know would be dropped in silence, and the time
        # taken as UTC: hours off. Better to say the date cannot be read.
        warnings.simplefilter("error", parser.UnknownTimezoneWarning)
        try:
            first, second = (parser.parse(text, default=d) for d in _DEFAULTS)
        except (ValueError, OverflowError, parser.ParserError, parser.UnknownTimezoneWarning):
            return None
    return first if first == second else None


def _why_no_date(value: Any) -> str:
    if value is None:
        return "missing publishedDateTime"
    if isinstance(value, str | datetime | date):
        return f"publishedDateTime {_quoted(str(value))} is not a date"
    return f"publishedDateTime must be a date, not {_kind_of(value)}"


def _quoted(text: str) -> str:
    short = text if len(text) <= 80 else text[:77] + "..."
    return repr(short)


# --- provider, topics, images, related -----------------------------------


def _provider(value: Any, link: str, url: Clean, warn: Warn) -> Provider | None:
    if value is None:
        return None
    if isinstance(value, str):
        name = _text(value)
        return Provider(host_of(link), name, _home_page(host_of(link))) if name else None
    if not isinstance(value, Mapping):
        warn(f"provider must be a mapping with name and domain, not {_kind_of(value)}; ignored")
        return None
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        warn(f"provider name must be text, not {_kind_of(name)}; ignored")
    domain = _domain(value.get("domain")) or host_of(link)
    logos = _images(value.get("images"), "provider image", url, warn)
    return Provider(domain, _text(name) or domain, _home_page(domain), logos[0] if logos else None)


def _home_page(domain: str) -> str | None:
    return clean_url(f"https://{domain}/")


def _domain(value: Any) -> str | None:
    """A provider's domain in ``host_of``'s form, from text repaired as config filters are."""
    text = _text(value)
    return (bare_domain(text) or None) if text else None


def _topics(value: Any, warn: Warn) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        warn(f"topics must be a list of text, not {_kind_of(value)}; ignored")
        return ()
    topics: dict[str, None] = {}
    for position, item in enumerate(items[:MAX_TOPICS], start=1):
        text = _text(item)
        if text:
            topics.setdefault(text)
        elif not isinstance(item, str):
            warn(f"topic {position} must be text, not {_kind_of(item)}; ignored")
    if len(items) > MAX_TOPICS:
        warn(f"{len(items)} topics, only the first {MAX_TOPICS} are used")
    return tuple(topics)


def _images(value: Any, noun: str, url: Clean, warn: Warn) -> tuple[Image, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    images = []
    for position, item in enumerate(items[:MAX_IMAGES], start=1):
        image = _image(item, url)
        if image is None:
            warn(f"{noun} {position} has no usable http(s) url; ignored")
        else:
            images.append(image)
    return tuple(images)


def _image(value: Any, url: Clean) -> Image | None:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, Mapping):
        return None
    location = url(value.get("url"))
    if location is None:
        return None
    return Image(
        url=location,
        type=image_type(location),
        width=_dimension(value.get("width")),
        height=_dimension(value.get("height")),
        title=_text(value.get("title")),
    )


def _dimension(value: Any) -> int | None:
    if isinstance(value, str):
        digits = value.strip()
        # ASCII digits only ("²" is a digit to Python), and few: Python refuses huge ones.
        value = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 9 else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return value
    return None


def _related(value: Any, url: Clean) -> tuple[Related, ...]:
    """Related coverage; entries without a title or a link are left out quietly."""
    if not isinstance(value, list):
        return ()
    related = []
    for item in value[:MAX_RELATED]:
        if not isinstance(item, Mapping):
            continue
        title, link = _text(item.get("title")), _link(item, url)
        if title and link:
            provider = item.get("provider")
            name = provider.get("name") if isinstance(provider, Mapping) else provider
            related.append(
                Related(
                    title=title,
                    link=link,
                    excerpt=_text(item.get("excerpt")) or "",
                    provider=_text(name),
                    published=parse_date(item.get("publishedDateTime")),
                )
            )
    return tuple(related)
