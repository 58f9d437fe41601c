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
