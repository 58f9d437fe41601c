"""index.opml (OPML 2.0): every feed, grouped by kind, for readers to import at once."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Site
from ..manifest import FeedEntry
from .listing import anchor, by_kind, kind_name

# Readers import one subscription per outline: the first of these formats the feed has.
_PREFERRED = ("rss", "atom", "json")


def render_opml(entries: Sequence[FeedEntry], site: Site) -> bytes:
    from lxml import etree  # loaded on first use, like feedgen (which uses it too)

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{site.title}: feeds"
    etree.SubElement(head, "ownerName").text = site.author
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for kind, feeds in by_kind(entries):
        group = etree.SubElement(body, "outline", text=kind_name(kind), title=kind_name(kind))
        for entry in feeds:
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=entry.title,
                title=entry.title,
                # xmlUrl last: importers that read outlines as text, such as podget's,
                # take the last attribute whose name ends in "url" as the feed.
                htmlUrl=site.index_url(anchor(entry)),
                xmlUrl=site.url_for(_subscription(entry)),
            )
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _subscription(entry: FeedEntry) -> str:
    name = next((n for n in _PREFERRED if n in entry.files), next(iter(entry.files)))
    return entry.files[name]
