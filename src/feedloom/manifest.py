"""``feeds.json``: what a build published, for people, tools and the next build."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .formats import OutputFormat
from .select import FeedPlan
from .text import iso_time
from .version import __version__

MANIFEST = "feeds.json"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed as the manifest lists it."""

    kind: str
    key: str
    title: str
    slug: str
    items: int
    newest: str
    headline: str
    """The newest item's title."""
    files: dict[str, str]


def entry_for(plan: FeedPlan, formats: Sequence[OutputFormat]) -> FeedEntry:
    return FeedEntry(
        kind=plan.kind,
        key=plan.key,
        title=plan.title,
        slug=plan.slug,
        items=len(plan.items),
        newest=iso_time(plan.newest),
        headline=plan.items[0].title,
        files={f.name: f.file_for(plan) for f in formats},
    )


def render_manifest(entries: Iterable[FeedEntry]) -> bytes:
    document = {
        "generator": f"feedloom {__version__}",
        "feeds": [
            {
                "kind": e.kind,
                "key": e.key,
                "title": e.title,
                "slug": e.slug,
                "items": e.items,
                "newest": e.newest,
                "headline": e.headline,
                "files": e.files,
            }
            for e in entries
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class ManifestError(ValueError):
    """``feeds.json`` is not one that feedloom wrote."""


def parse_manifest(data: bytes) -> list[FeedEntry]:
    try:
        document = json.loads(data)
        return [
            FeedEntry(
                kind=str(f["kind"]),
                key=str(f["key"]),
                title=str(f["title"]),
                slug=str(f["slug"]),
                items=int(f["items"]),
                newest=str(f["newest"]),
                headline=str(f.get("headline", "")),
                files={str(k): str(v) for k, v in dict(f["files"]).items()},
            )
            for f in document["feeds"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ManifestError(f"{MANIFEST} is not a feedloom manifest ({exc})") from None


def files_listed(entries: Iterable[FeedEntry]) -> set[str]:
    return {path for entry in entries for path in entry.files.values()}
