"""What the site-wide pages share: the feeds grouped by kind, in a reader's order."""

from __future__ import annotations

from collections.abc import Sequence

from ..manifest import FeedEntry

# Families people look for first, in this order; any other kind follows, alphabetically.
KIND_NAMES = {
    "all": "All articles",
    "topics": "Topics",
    "providers": "Providers",
    "categories": "Categories",
    "custom": "Selections",
}


def by_kind(entries: Sequence[FeedEntry]) -> list[tuple[str, list[FeedEntry]]]:
    """(kind, its feeds) in reading order; feeds by title within a kind."""
    kinds: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        kinds.setdefault(entry.kind, []).append(entry)
    first = list(KIND_NAMES)
    order = sorted(kinds, key=lambda k: (first.index(k) if k in first else len(first), k))
    return [
        (kind, sorted(kinds[kind], key=lambda e: (e.title.casefold(), e.slug))) for kind in order
    ]


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("-", " ").capitalize())


def anchor(entry: FeedEntry) -> str:
    """The feed's row on the index page: its path without suffix (what feeds link to)."""
    first = next(iter(entry.files.values()))
    return first.rsplit(".", 1)[0]
