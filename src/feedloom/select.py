"""Stage 3: articles x feed families -> feed plans.

Leaves out drafts, merges duplicates, orders articles, groups them by the
family's key, gives every feed a unique, safe slug and applies the limit.
What a feed will contain is decided here, and nowhere else. It works on the
light Entry of each article (an Article serves as well): what it decides
needs no excerpt, image or related link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Protocol

from .articles import Image, Provider
from .config import Config, FeedSpec, Filter, Site, joined, limit_of
from .diagnostics import Diagnostic, notice, warning
from .text import MAX_SLUG, is_reserved, short_hash, slugify, transliterate


class Item(Protocol):
    """What selection reads of an article (both Entry and Article have it)."""

    @property
    def id(self) -> str: ...
    @property
    def link(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def draft(self) -> bool: ...
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def provider(self) -> Provider | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def quality(self) -> float | None: ...
    @property
    def heat(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """Everything a format needs to render one feed."""

    kind: str
    key: str
    """The group's key (topic, provider domain, ...); empty for a single feed."""
    label: str
    slug: str
    path: str
    """Where the feed goes, relative to the output folder, without suffix."""
    title: str
    description: str
    items: tuple[Item, ...]
    """Newest first; never empty."""
    logo: Image | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    """Provider key -> path of that provider's feed, for the items' sources."""
    current: str = ""
    """Path of the feed's subscription document (this one's, unless archived)."""
    archived: bool = False
    """An archive document (RFC 5005): its items never change once it is full."""
    prev_archive: str | None = None
    """Path of the next older archive document."""
    next_archive: str | None = None
    """Path of the next newer archive document, or of the subscription document after
    the newest one (archive documents only)."""
    complete: bool = False
    """This document holds every item of the feed (RFC 5005's fh:complete)."""
    archives: int = 0
    """How many archive documents the feed has (on its subscription document)."""

    @property
    def newest(self) -> datetime:
        return self.items[0].published


@dataclass(frozen=True, slots=True)
class Selection:
    plans: tuple[FeedPlan, ...]
    """One subscription document per feed."""
    articles: int
    """Articles published: drafts and duplicates left out."""
    drafts: int
    duplicates: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...] = ()
    """Feed definitions whose filter matched no article."""
    archives: tuple[FeedPlan, ...] = ()
    """The archive documents of every feed, when archiving is on."""

    @property
    def documents(self) -> tuple[FeedPlan, ...]:
        """Everything to render: the subscription documents, then the archives."""
        return self.plans + self.archives


def select(articles: Iterable[Item], config: Config, include_drafts: bool = False) -> Selection:
    """Plan every feed of every family declared in ``config``."""
    everything = list(articles)
    kept = [a for a in everything if include_drafts or not a.draft]
    unique, duplicates = deduplicate(kept)
    ordered = newest_first(unique, tie="link")
    groups = [(spec, _groups(spec, _filtered(spec.filter, ordered))) for spec in config.specs]
    slugs = {spec.source: assign_slugs([g.key for g in found]) for spec, found in groups}
    sources = _provider_feeds(groups, slugs)
    documents = [
        _documents(spec, group, slugs[spec.source], sources, config.site)
        for spec, found in groups
        for group in found
    ]
    plans = tuple(subscription for subscription, _ in documents)
    archives = tuple(page for _, pages in documents for page in pages)
    unmatched = tuple(
        warning(spec.source, spec.lines.get("filter", 1), "the filter matches no article; no feed")
        for spec, found in groups
        if spec.filter is not None and not found and ordered
    )
    drafts = len(everything) - len(kept)
    return Selection(plans, len(unique), drafts, duplicates, unmatched, archives)


def _filtered(rule: Filter | None, ordered: list[Item]) -> list[Item]:
    """The articles a feed definition's filter takes; times count from the newest record."""
    if rule is None or not ordered:
        return ordered
    since = None
    if rule.within_days is not None:
        try:
            since = ordered[0].published - timedelta(days=rule.within_days)
        except OverflowError:  # a window wider than the calendar: every article
            since = None
    return [item for item in ordered if _matches(rule, item, since)]


def _matches(rule: Filter, item: Item, since: datetime | None) -> bool:
    provider = item.provider.key if item.provider else None
    return (
        (not rule.topics_any or any(topic in item.topics for topic in rule.topics_any))
        and all(topic in item.topics for topic in rule.topics_all)
        and (not rule.providers or provider in rule.providers)
        and (not rule.categories or item.category in rule.categories)
        and (not rule.types or item.type in rule.types)
        and _at_least(item.quality, rule.min_quality)
        and _at_least(item.heat, rule.min_heat)
        and (since is None or item.published >= since)
    )


def _at_least(value: float | None, minimum: float | None) -> bool:
    return minimum is None or (value is not None and value >= minimum)


def newest_first(articles: Iterable[Item], tie: str) -> list[Item]:
    """Newest first; articles published at the same moment in the order of ``tie``.

    Two stable sorts on plain attributes: much faster than one on a computed key.
    """
    by_tie = sorted(articles, key=attrgetter(tie))
    return sorted(by_tie, key=attrgetter("published"), reverse=True)


def deduplicate(articles: list[Item]) -> tuple[list[Item], tuple[Diagnostic, ...]]:
    """One article per canonical link.

    The copy published last wins (it carries the newest version of the story);
    equal times go to the record whose path sorts first. Each loser gets a notice.
    """
    best: dict[str, Item] = {}
    for article in newest_first(articles, tie="path"):
        best.setdefault(article.id, article)
    notices = tuple(
        notice(a.path, a.line, f"same link as {best[a.id].path}; left out as a duplicate")
        for a in articles
        if best[a.id] is not a
    )
    return list(best.values()), notices


# --- grouping ------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    key: str
    label: str
    items: list[Item]


def _facet_topic(article: Item) -> list[tuple[str, str]]:
    return [(t, t) for t in article.topics]


def _facet_provider(article: Item) -> list[tuple[str, str]]:
    p = article.provider
    return [(p.key, p.name)] if p else []


def _facet_category(article: Item) -> list[tuple[str, str]]:
    return [(article.category, article.category)] if article.category else []


def _facet_type(article: Item) -> list[tuple[str, str]]:
    return [(article.type, article.type)] if article.type else []


FACETS: dict[str, Callable[[Item], list[tuple[str, str]]]] = {
    "topic": _facet_topic,
    "provider": _facet_provider,
    "category": _facet_category,
    "type": _facet_type,
}
"""How each ``group_by`` value finds an article's keys and their labels."""


def _groups(spec: FeedSpec, ordered: list[Item]) -> list[_Group]:
    if spec.group_by is None:
        return [_Group("", "", ordered)] if ordered else []
    facet = FACETS[spec.group_by]
    groups: dict[str, _Group] = {}
    for article in ordered:
        for key, label in facet(article):
            group = groups.get(key)
            if group is None:
                # The newest article's spelling of the label wins.
                groups[key] = _Group(key, label, [article])
            else:
                group.items.append(article)
    return [groups[k] for k in sorted(groups)]


def assign_slugs(keys: list[str]) -> dict[str, str]:
    """A unique slug for every key, stable whatever other keys exist.

    A key whose slug loses something that matters ('C++' and 'C#' both make
    'c'), or is a Windows device name, always gets a suffix made from the key
    itself ('c-f1deb75f'), so its file name never depends on which other keys
    exist. Two keys that both
    spell their slug faithfully ('AI' and 'ai') share it by sort order: the
    first keeps it, the other is suffixed.
    """
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(set(keys), key=lambda k: (not _spells_its_slug(k), k)):
        slug = slugify(key)
        if slug in taken or not _spells_its_slug(key):
            slug = _suffixed(slug, key, taken)
        taken.add(slug)
        slugs[key] = slug
    return slugs


# Characters a slug may drop without losing what the key means.
_SEPARATORS = re.compile(r"[\s\-_.,:;/&'\"()!?]+")


def _spells_its_slug(key: str) -> bool:
    """True when the slug is the key, lower-cased, with its separators as hyphens.

    'untitled' (a key of no letters) and device names ('CON') never are.
    """
    slug = slugify(key)
    if slug == "untitled" or is_reserved(slug):
        return False
    return slug == _SEPARATORS.sub("-", transliterate(key).lower()).strip("-")


def _suffixed(slug: str, key: str, taken: set[str]) -> str:
    tag = short_hash(key)
    base = slug[: MAX_SLUG - len(tag) - 1].strip("-")
    candidate = f"{base}-{tag}"
    while candidate in taken:  # a hash clash between keys: practically never
        candidate = f"{base[:-1]}-{short_hash(candidate)}"
    return candidate


def _provider_feeds(
    groups: list[tuple[FeedSpec, list[_Group]]], slugs: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Provider key -> path of its feed, from the first family grouped by provider."""
    for spec, _ in groups:
        if spec.group_by == "provider":
            return {key: joined(spec.folder, slug) for key, slug in slugs[spec.source].items()}
    return {}


def _documents(
    spec: FeedSpec, group: _Group, slugs: Mapping[str, str], sources: Mapping[str, str], site: Site
) -> tuple[FeedPlan, list[FeedPlan]]:
    """A feed's subscription document (its newest items) and, when archiving, its archives.

    Archive documents take every older item, ``archive_size`` a document,
    numbered from the oldest: page 1 holds the oldest items. New articles only
    ever fill the newest page, so a full page never changes its items; its
    next-archive link moves once, from the subscription document to the page
    opened after it.
    """
    slug = slugs[group.key] if spec.group_by else spec.slug
    path = joined(spec.folder, slug)
    names = {"site": site.title, "label": group.label, "key": group.key}
    feed = FeedPlan(
        kind=spec.kind,
        key=group.key,
        label=group.label,
        slug=slug,
        path=path,
        title=spec.title.format(**names),
        description=spec.description.format(**names),
        items=(),
        logo=_logo(group.items) if spec.group_by == "provider" else None,
        current=path,
    )
    limit = limit_of(spec, site)
    newest = group.items[:limit] if limit else group.items
    older = group.items[len(newest) :] if site.archive else []
    # Pages newest first within, the first page the oldest items: ``older`` is
    # newest first, so pages are cut from its end.
    size = site.archive_size
    pages = [older[max(0, end - size) : end] for end in range(len(older), 0, -size)]
    subscription = _with_items(
        feed,
        newest,
        sources,
        prev_archive=archive_path(path, len(pages)) if pages else None,
        # Only a feed that will always hold everything is "complete": a client may
        # delete what such a feed no longer lists.
        complete=not site.archive and limit == 0,
        archives=len(pages),
    )
    archives = [
        _with_items(
            feed,
            page,
            sources,
            path=archive_path(path, number),
            archived=True,
            prev_archive=archive_path(path, number - 1) if number > 1 else None,
            # The newest archive's next is the subscription document: what follows it
            # in time, and a page every archive links on to (the validator wants one).
            next_archive=archive_path(path, number + 1) if number < len(pages) else path,
        )
        for number, page in enumerate(pages, start=1)
    ]
    return subscription, archives


def archive_path(path: str, number: int) -> str:
    """Where archive document ``number`` (1: the oldest) of the feed at ``path`` lives."""
    return f"{path}/archive/{number}"


def _with_items(
    feed: FeedPlan, items: list[Item], sources: Mapping[str, str], **changes: object
) -> FeedPlan:
    """``feed`` holding ``items``, with the sources of their providers."""
    used = {
        a.provider.key: sources[a.provider.key]
        for a in items
        if a.provider and a.provider.key in sources
    }
    return replace(feed, items=tuple(items), sources=used, **changes)


def _logo(items: tuple[Item, ...]) -> Image | None:
    """The provider's logo, as the newest article that has one gives it."""
    return next((a.provider.logo for a in items if a.provider and a.provider.logo), None)
