"""Feed definitions: ``feeds/site.yaml`` and one file per feed family.

``site.yaml`` holds the site settings; every other ``*.yaml`` file in the
folder declares a family of feeds (all articles, one feed per topic, ...).
Every mistake is reported as ``FILE:LINE: key: problem`` before anything is
built.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, error
from .records import parse_mapping
from .text import is_reserved, repair, xml_safe
from .urls import bare_domain, clean_url

SITE_FILE = "site.yaml"
INDEX_PAGE = "index.html"
INDEX_OPML = "index.opml"
GROUPINGS = ("topic", "provider", "category", "type")


class ConfigError(Exception):
    """The feed definitions are wrong; ``problems`` names each file and key."""

    def __init__(self, problems: list[Diagnostic]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Site:
    """Settings shared by every feed."""

    title: str
    base_url: str
    """Where the output folder is published; ends with '/'."""
    description: str = ""
    link: str = ""
    """The site the feeds belong to, linked from the index page; defaults to ``base_url``."""
    language: str = "en"
    limit: int = 50
    formats: tuple[str, ...] = ("rss", "atom")
    ttl: int = 60
    author: str = ""
    logo: str | None = None
    record_base_url: str | None = None
    """Relative URLs in records (a logo at '/assets/...') are appended to this."""
    archive: bool = False
    """Publish older items in archive documents (RFC 5005) besides each feed."""
    archive_size: int = 50
    """Items per archive document."""
    websub_hub: str | None = None
    """A WebSub hub: feeds name it, and builds tell it which feeds changed."""

    def url_for(self, relative: str) -> str:
        return self.base_url + relative

    def index_url(self, anchor: str = "") -> str:
        """The HTML index of the feeds (index.html), at a feed's row when given its path."""
        return self.url_for(INDEX_PAGE) + (f"#{anchor}" if anchor else "")


@dataclass(frozen=True, slots=True)
class Filter:
    """Which articles a feed takes; an empty part takes every article."""

    topics_any: tuple[str, ...] = ()
    topics_all: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    """Provider domains."""
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    min_quality: float | None = None
    min_heat: float | None = None
    within_days: int | None = None
    """Only articles at most this many days older than the newest record."""


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A family of feeds: one feed, or one feed per value of ``group_by``."""

    kind: str
    title: str
    description: str
    source: str
    """The definition file, for messages."""
    group_by: str | None = None
    slug: str = ""
    folder: str = ""
    limit: int | None = None
    filter: Filter | None = None
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    """The line of each key in the definition file, for messages."""


@dataclass(frozen=True, slots=True)
class Config:
    site: Site
    specs: tuple[FeedSpec, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Overrides:
    """Settings given on the command line; they win over ``site.yaml``."""

    base_url: str | None = None
    limit: int | None = None
    formats: tuple[str, ...] | None = None
    archive: bool | None = None


def load_config(
    feeds_dir: Path, known_formats: Iterable[str], overrides: Overrides | None = None
) -> Config:
    """Read and check every definition in ``feeds_dir``; raise ConfigError on mistakes."""
    problems: list[Diagnostic] = []
    site = _load_site(feeds_dir, tuple(known_formats), overrides or Overrides(), problems)
    specs = [_load_spec(path, problems) for path in _spec_files(feeds_dir)]
    found = tuple(s for s in specs if s is not None)
    if not found and not problems:
        problems.append(error(str(feeds_dir), 1, "no feed definitions (*.yaml besides site.yaml)"))
    _check_unique_paths(found, problems)
    if problems or site is None:
        raise ConfigError(problems)
    return Config(site, found)


def _spec_files(feeds_dir: Path) -> list[Path]:
    if not feeds_dir.is_dir():
        return []
    return sorted(
        p
        for p in feeds_dir.iterdir()
        if p.suffix in (".yaml", ".yml") and p.name != SITE_FILE and not p.name.startswith(".")
    )


# --- checking values ---------------------------------------------------------


class _Bad(ValueError):
    """A value that does not fit its key."""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("must be text")
    if xml_safe(value) != value:  # it would reach every feed, which XML cannot carry
        raise _Bad("must not hold control characters")
    return value.strip()


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad("must be a whole number, 0 or more")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("must be true or false")
    return value


def _positive(value: Any) -> int:
    if _count(value) < 1:
        raise _Bad("must be a whole number, 1 or more")
    return value


def _url(value: Any) -> str:
    url = clean_url(value)
    if url is None:
        raise _Bad("must be an absolute http(s) URL")
    return url


def _base_url(value: Any) -> str:
    url = _url(value)
    return url if url.endswith("/") else url + "/"


def _formats(known: tuple[str, ...]) -> Callable[[Any], tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...]:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            raise _Bad(f"must be a list of formats ({', '.join(known)})")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise _Bad(f"unknown format {unknown[0]!r} (known: {', '.join(known)})")
        return tuple(dict.fromkeys(names))

    return check


_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*")


def _language(value: Any) -> str:
    text = _text(value)
    if not _LANGUAGE.fullmatch(text):
        raise _Bad("must be a language tag such as en or en-GB")
    return text


_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def _name(value: Any) -> str:
    text = _text(value)
    if not _NAME.fullmatch(text):
        raise _Bad("must be lower-case letters, digits and hyphens (at most 60)")
    if is_reserved(text):
        raise _Bad(f"{text!r} is a device name Windows does not allow as a file name")
    return text


_MAX_DEPTH = 8


def _folder(value: Any) -> str:
    text = _text(value)
    if not text:
        return text
    parts = text.split("/")
    if not all(_NAME.fullmatch(part) for part in parts):
        raise _Bad("must be a relative folder of lower-case names such as 'topics'")
    if len(parts) > _MAX_DEPTH:
        raise _Bad(f"is {len(parts)} folders deep; at most {_MAX_DEPTH}")
    reserved = [part for part in parts if is_reserved(part)]
    if reserved:
        raise _Bad(f"{reserved[0]!r} is a device name Windows does not allow as a file name")
    return text


def _grouping(value: Any) -> str:
    if value not in GROUPINGS:
        raise _Bad(f"must be one of {', '.join(GROUPINGS)}")
    return value


def _template(*names: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _text(value)
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise _Bad(f"is not a valid template: {exc}") from None
        unknown = sorted(used - set(names))
        if unknown:
            allowed = ", ".join("{" + n + "}" for n in names)
            raise _Bad(f"uses {{{unknown[0]}}}; it may use {allowed}")
        return text

    return check


def _site_keys(known_formats: tuple[str, ...]) -> dict[str, Callable[[Any], Any]]:
    return {
        "title": _text,
        "description": _text,
        "base_url": _base_url,
        "link": _url,
        "language": _language,
        "limit": _count,
        "formats": _formats(known_formats),
        "ttl": _count,
        "author": _text,
        "logo": _url,
        "record_base_url": _base_url,
        "archive": _flag,
        "archive_size": _positive,
        "websub_hub": _url,
    }


def _texts(value: Any) -> tuple[str, ...]:
    """Repaired as records' text is, so filters match it; sorted and unique.

    A definition's repr must not depend on hashing (it is fingerprinted).
    """
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _Bad("must be a list of text")
    texts = {repair(i) for i in items}
    if not texts:
        raise _Bad("must name at least one (leave the key out to take every article)")
    if "" in texts:
        raise _Bad("must be a list of text")
    return tuple(sorted(texts))


def _domains(value: Any) -> tuple[str, ...]:
    """Provider domains, as records key them: lower-case, without scheme or path."""
    return tuple(sorted({bare_domain(d) for d in _texts(value)}))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad("must be a number")
    return float(value)


def _topics(value: Any) -> dict[str, tuple[str, ...]]:
    """A list (any of them), or a mapping with ``any`` and/or ``all``."""
    if not isinstance(value, dict):
        return {"topics_any": _texts(value)}
    unknown = sorted(set(value) - {"any", "all"})
    if unknown or not value:
        raise _Bad("must be a list of topics, or a mapping with 'any' and/or 'all'")
    parts = {}
    for way in ("any", "all"):
        if way in value:
            try:
                parts[f"topics_{way}"] = _texts(value[way])
            except _Bad as exc:
                raise _Bad(f"{way} {exc}") from None
    return parts


_FILTER_KEYS: dict[str, Callable[[Any], Any]] = {
    "topics": _topics,
    "providers": _domains,
    "categories": _texts,
    "types": _texts,
    "min_quality": _number,
    "min_heat": _number,
    "within_days": _count,
}


def _filter(value: Any) -> Filter:
    if not isinstance(value, dict) or not value:
        raise _Bad(f"must be a mapping of {', '.join(_FILTER_KEYS)}")
    parts: dict[str, Any] = {}
    for key, raw in value.items():
        check = _FILTER_KEYS.get(key)
        if check is None:
            raise _Bad(f"unknown key {key!r} (known: {', '.join(_FILTER_KEYS)})")
        try:
            checked = check(raw)
        except _Bad as exc:
            raise _Bad(f"{key} {exc}") from None
        parts.update(checked if key == "topics" else {key: checked})
    return Filter(**parts)


_SPEC_KEYS: dict[str, Callable[[Any], Any]] = {
    "kind": _name,
    "group_by": _grouping,
    "slug": _name,
    "folder": _folder,
    "title": _template("site", "label", "key"),
    "description": _template("site", "label", "key"),
    "limit": _count,
    "filter": _filter,
}
# Names at the top of the output folder that feedloom writes itself.
_RESERVED_ROOT = {"feeds", "index"}


@dataclass(slots=True)
class _Definition:
    """The checked values of one definition file, and where each key stands."""

    path: Path
    values: dict[str, Any]
    lines: dict[str, int]
    problems: list[Diagnostic]

    def problem(self, key: str, message: str) -> None:
        self.problems.append(error(str(self.path), self.lines.get(key, 1), f"{key}: {message}"))


def _read_definition(
    path: Path, checks: Mapping[str, Callable[[Any], Any]], problems: list[Diagnostic]
) -> _Definition | None:
    """Read and check a definition file; problems are appended, not raised."""
    display = str(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(error(display, 1, f"cannot read: {exc}"))
        return None
    parsed = parse_mapping(source, display)
    if isinstance(parsed, Diagnostic):
        problems.append(parsed)
        return None
    fields, lines = parsed
    definition = _Definition(path, {}, lines, problems)
    for key, raw in fields.items():
        check = checks.get(key)
        if check is None:
            known = ", ".join(sorted(checks))
            problems.append(
                error(display, lines.get(key, 1), f"unknown key {key!r} (known: {known})")
            )
            continue
        try:
            definition.values[key] = check(raw)
        except _Bad as exc:
            definition.problem(key, str(exc))
    return definition


def _load_site(
    feeds_dir: Path,
    known_formats: tuple[str, ...],
    overrides: Overrides,
    problems: list[Diagnostic],
) -> Site | None:
    path = feeds_dir / SITE_FILE
    if not path.is_file():
        problems.append(error(str(path), 1, "missing: the site settings file is required"))
        return None
    checks = _site_keys(known_formats)
    site = _read_definition(path, checks, problems)
    if site is None:
        return None
    values = site.values
    for option, key, value in (
        ("--base-url", "base_url", overrides.base_url),
        ("--limit", "limit", overrides.limit),
        ("--format", "formats", list(overrides.formats) if overrides.formats else None),
        ("--archive", "archive", overrides.archive),
    ):
        if value is not None:
            try:
                values[key] = checks[key](value)
            except _Bad as exc:
                problems.append(error(option, 1, f"{value!r} {exc}"))
    if "base_url" not in values:
        if "base_url" not in site.lines:
            site.problem("base_url", "required (where the feeds are published)")
        return None
    values.setdefault("title", "feedloom")
    values.setdefault("link", values["base_url"])
    values.setdefault("author", values["title"])
    return Site(**values)


def _load_spec(path: Path, problems: list[Diagnostic]) -> FeedSpec | None:
    before = len(problems)
    spec = _read_definition(path, _SPEC_KEYS, problems)
    if spec is None or len(problems) > before:
        return None
    values = spec.values
    if "kind" not in values:
        spec.problem("kind", "required (the family's name, e.g. topics)")
        return None
    kind = values["kind"]
    grouped = "group_by" in values
    if grouped and "slug" in values:
        spec.problem("slug", "not allowed with group_by (slugs come from keys)")
        return None
    values.setdefault("title", "{site}: {label}" if grouped else "{site}")
    values.setdefault("description", values["title"])
    values.setdefault("folder", kind if grouped else "")
    if grouped and not values["folder"]:
        spec.problem("folder", "a grouped family needs a folder of its own")
        return None
    if not grouped:
        values.setdefault("slug", kind)
        if not values["folder"] and values["slug"] in _RESERVED_ROOT:
            spec.problem(
                "slug", f"{values['slug']!r} is taken by feedloom's own files; pick another"
            )
            return None
    return FeedSpec(source=str(path), lines=spec.lines, **values)


def _check_unique_paths(specs: tuple[FeedSpec, ...], problems: list[Diagnostic]) -> None:
    """No two families may write into the same place.

    A grouped family owns its whole folder (its slugs come from keys not known
    yet); a single feed owns its file and, for archives, the folder of its path.
    """
    owned: list[tuple[str, FeedSpec]] = []
    for spec in specs:
        place = spec.folder if spec.group_by else joined(spec.folder, spec.slug)
        other = next((o for p, o in owned if _overlap(place, p)), None)
        if other is not None:
            key = "folder" if "folder" in spec.lines or spec.group_by else "slug"
            line = spec.lines.get(key, 1)
            problems.append(error(spec.source, line, f"{key}: writes where {other.source} does"))
        owned.append((place, spec))


def joined(folder: str, slug: str) -> str:
    """A feed's path: its slug in its family's folder."""
    return f"{folder}/{slug}" if folder else slug


def _overlap(place: str, other: str) -> bool:
    """Whether two places are one, or one holds the other."""
    return place == other or place.startswith(other + "/") or other.startswith(place + "/")


def limit_of(spec: FeedSpec, site: Site) -> int:
    """The item limit of a feed family: its own, else the site's (0: no limit)."""
    return site.limit if spec.limit is None else spec.limit
