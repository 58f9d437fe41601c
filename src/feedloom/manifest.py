"""``feeds.json``: what a build published, for people, tools and the next build."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .formats import OutputFormat
from .select import FeedPlan, archive_path
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
    archives: int = 0
    """Archive documents (RFC 5005) the feed has: ``<path>/archive/1`` is the oldest."""

    def archive_files(self) -> list[str]:
        """The archive documents' files, in every format the feed has."""
        return [
            f"{archive_path(base, number)}.{suffix}"
            for base, _, suffix in (path.rpartition(".") for path in self.files.values())
            for number in range(1, self.archives + 1)
        ]


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
        archives=plan.archives,
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
                **({"archives": e.archives} if e.archives else {}),
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
                archives=int(f.get("archives", 0)),
            )
            for f in document["feeds"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ManifestError(f"{MANIFEST} is not a feedloom manifest ({exc})") from None


def files_listed(entries: Iterable[FeedEntry]) -> set[str]:
    return {path for entry in entries for path in (*entry.files.values(), *entry.archive_files())}


def unlisted_files(data: bytes) -> set[str]:
    """Files feedloom wrote that no feed of the manifest lists (see ``with_unlisted``)."""
    unlisted = json.loads(data).get("unlisted", [])
    if not isinstance(unlisted, list):
        raise ManifestError(f"{MANIFEST}: unlisted is not a list")
    return {str(path) for path in unlisted}


def owned_files(data: bytes) -> set[str]:
    """Every file a manifest says feedloom wrote: its feeds', and the unlisted ones."""
    return files_listed(parse_manifest(data)) | unlisted_files(data)


def with_unlisted(manifest: bytes, files: Iterable[str]) -> bytes:
    """The manifest, also naming files that none of its feeds lists.

    A build names that way the files it is about to write for the first time
    and, at the end, the stale files it is about to remove: a build stopped in
    between leaves a manifest from which the next build knows every file
    feedloom may have to remove.
    """
    document = json.loads(manifest)
    document["unlisted"] = sorted(files)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
