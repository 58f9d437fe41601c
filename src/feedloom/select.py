"""Stage 3: articles x feed families -> feed plans.

Leaves out drafts, merges duplicates, orders articles, groups them by the
family's key, gives every feed a unique, safe slug and applies the limit.
What a feed will contain is decided here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .articles import Article, Image
from .config import Config, FeedSpec, Site, limit_of
from .diagnostics import Diagnostic, notice
from .text import short_hash, slugify


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
    items: tuple[Article, ...]
    """Newest first; never empty."""
    logo: Image | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    """Provider key -> path of that provider's feed, for the items' sources."""

    @property
    def newest(self) -> datetime:
        return self.items[0].published


@dataclass(frozen=True, slots=True)
class Selection:
    plans: tuple[FeedPlan, ...]
    articles: int
    """Articles published: drafts and duplicates left out."""
    drafts: int
    duplicates: tuple[Diagnostic, ...]


def select(articles: Iterable[Article], config: Config, include_drafts: bool = False) -> Selection:
    """Plan every feed of every family declared in ``config``."""
    everything = list(articles)
    kept = [a for a in everything if include_drafts or not a.draft]
    unique, duplicates = deduplicate(kept)
    ordered = sorted(unique, key=publication_order)
    groups = [(spec, _groups(spec, ordered)) for spec in config.specs]
    slugs = {spec.source: assign_slugs([g.key for g in found]) for spec, found in groups}
    sources = _provider_feeds(groups, slugs)
    plans = tuple(
        _plan(spec, group, slugs[spec.source], sources, config.site)
        for spec, found in groups
        for group in found
    )
    return Selection(plans, len(unique), len(everything) - len(kept), duplicates)


def publication_order(article: Article) -> tuple[float, str]:
    """Newest first; articles published at the same moment by link."""
    return (-article.published.timestamp(), article.link)


def deduplicate(articles: list[Article]) -> tuple[list[Article], tuple[Diagnostic, ...]]:
    """One article per canonical link.

    The copy published last wins (it carries the newest version of the story);
    equal times go to the record whose path sorts first. Each loser gets a notice.
    """
    best: dict[str, Article] = {}
    for article in sorted(articles, key=lambda a: (-a.published.timestamp(), a.path)):
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
    items: list[Article]


def _facet_topic(article: Article) -> list[tuple[str, str]]:
    return [(t, t) for t in article.topics]


def _facet_provider(article: Article) -> list[tuple[str, str]]:
    p = article.provider
    return [(p.key, p.name)] if p else []


def _facet_category(article: Article) -> list[tuple[str, str]]:
    return [(article.category, article.category)] if article.category else []


def _facet_type(article: Article) -> list[tuple[str, str]]:
    return [(article.type, article.type)] if article.type else []


FACETS: dict[str, Callable[[Article], list[tuple[str, str]]]] = {
    "topic": _facet_topic,
    "provider": _facet_provider,
    "category": _facet_category,
    "type": _facet_type,
}
"""How each ``group_by`` value finds an article's keys and their labels."""


def _groups(spec: FeedSpec, ordered: list[Article]) -> list[_Group]:
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
    """A unique slug for every key.

    Keys that slugify alike ('C' and 'C++') share the plain slug by rule: the
    key that spells it most faithfully, then the first in sort order, gets it;
    the others get a stable suffix made from their own key, so their file
    names do not depend on which other keys exist.
    """
    by_slug: dict[str, list[str]] = {}
    for key in sorted(set(keys)):
        by_slug.setdefault(slugify(key), []).append(key)
    slugs: dict[str, str] = {}
    taken = set(by_slug)
    for slug, rivals in by_slug.items():
        rivals.sort(key=lambda k: (_spelling_distance(k, slug), k))
        slugs[rivals[0]] = slug
        for key in rivals[1:]:
            candidate = f"{slug}-{short_hash(key)}"
            while candidate in taken:
                candidate += "x"
            taken.add(candidate)
            slugs[key] = candidate
    return slugs


def _spelling_distance(key: str, slug: str) -> int:
    """0 when the slug is the key lower-cased with spaces as hyphens, else 1."""
    return 0 if "-".join(key.lower().split()) == slug else 1


def _provider_feeds(
    groups: list[tuple[FeedSpec, list[_Group]]], slugs: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Provider key -> path of its feed, from the first family grouped by provider."""
    for spec, _ in groups:
        if spec.group_by == "provider":
            return {key: _join(spec.folder, slug) for key, slug in slugs[spec.source].items()}
    return {}


def _join(folder: str, slug: str) -> str:
    return f"{folder}/{slug}" if folder else slug


def _plan(
    spec: FeedSpec, group: _Group, slugs: Mapping[str, str], sources: Mapping[str, str], site: Site
) -> FeedPlan:
    slug = slugs[group.key] if spec.group_by else spec.slug
    limit = limit_of(spec, site)
    items = tuple(group.items[:limit] if limit else group.items)
    names = {"site": site.title, "label": group.label, "key": group.key}
    return FeedPlan(
        kind=spec.kind,
        key=group.key,
        label=group.label,
        slug=slug,
        path=_join(spec.folder, slug),
        title=spec.title.format(**names),
        description=spec.description.format(**names),
        items=items,
        logo=_logo(items) if spec.group_by == "provider" else None,
        sources={
            a.provider.key: sources[a.provider.key]
            for a in items
            if a.provider and a.provider.key in sources
        },
    )


def _logo(items: tuple[Article, ...]) -> Image | None:
    """The provider's logo, as the newest article that has one gives it."""
    return next((a.provider.logo for a in items if a.provider and a.provider.logo), None)
