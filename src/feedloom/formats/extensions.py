"""feedgen extensions for what feedgen 1.0 cannot write by itself.

feedgen 1.0.0 writes only ``href`` for an Atom entry's links and drops
``rel``, ``type`` and ``length`` (upstream issues 135 and 143), so enclosures
and related links would turn into plain alternate links. This extension
writes entry links whole, through feedgen's own extension hooks.
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem


class EntryLinksExtension(BaseExtension):
    """Feed half of the extension: it adds no namespace."""


class EntryLinksEntryExtension(BaseEntryExtension):
    """Atom ``<link>`` elements of an entry, with all their attributes."""

    def __init__(self) -> None:
        self._links: list[dict[str, str]] = []

    def add(self, href: str, rel: str, type: str | None = None, length: int | None = None) -> None:
        link = {"href": href, "rel": rel}
        if type:
            link["type"] = type
        if length is not None:
            link["length"] = str(length)
        self._links.append(link)

    def extend_atom(self, entry):
        for attributes in self._links:
            # Unqualified, like feedgen's own Atom elements: the root's default
            # namespace makes them Atom elements.
            xml_elem("link", entry, **attributes)
        return entry


def load_entry_links(feed) -> None:
    """Give every entry of ``feed`` an ``entry_links`` extension (Atom only)."""
    feed.register_extension(
        "entry_links", EntryLinksExtension, EntryLinksEntryExtension, atom=True, rss=False
    )


FH_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"


class FeedLinksExtension(BaseExtension):
    """Feed links feedgen cannot write in RSS (it writes one ``atom:link``, the self
    link): WebSub's hub and RFC 5005's current, prev-archive and next-archive; and
    RFC 5005's ``fh:archive`` or ``fh:complete`` marker. The same in Atom."""

    def __init__(self) -> None:
        self._links: list[dict[str, str]] = []
        self._marker: str | None = None

    def add(self, href: str, rel: str, type: str | None = None) -> None:
        self._links.append({"href": href, "rel": rel, **({"type": type} if type else {})})

    def mark(self, marker: str | None) -> None:
        """``archive`` for an archive document, ``complete`` for a complete feed."""
        self._marker = marker

    def extend_ns(self):
        return {"fh": FH_NS} if self._marker else {}

    def extend_rss(self, feed):
        self._write(feed.find("channel"), f"{{{ATOM_NS}}}link")
        return feed

    def extend_atom(self, feed):
        self._write(feed, "link")  # unqualified: the root's default namespace is Atom's
        return feed

    def _write(self, parent, link_tag: str) -> None:
        for attributes in self._links:
            xml_elem(link_tag, parent, **attributes)
        if self._marker:
            xml_elem(f"{{{FH_NS}}}{self._marker}", parent)


def load_feed_links(feed) -> FeedLinksExtension:
    """Register the feed links extension on ``feed`` and return it to fill."""
    feed.register_extension("feed_links", FeedLinksExtension, None, atom=True, rss=True)
    return feed.feed_links
