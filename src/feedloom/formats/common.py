"""The part of a feed's head that RSS and Atom share, set through feedgen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Site
from ..select import FeedPlan
from ..version import __version__

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator


def start_feed(plan: FeedPlan, site: Site, suffix: str, media_type: str) -> FeedGenerator:
    """A FeedGenerator with the shared head set; times come from the items, never the clock.

    Besides the self link: the WebSub hub, and the links between a feed's
    subscription document and its archive documents (RFC 5005).
    """
    from feedgen.feed import FeedGenerator  # loaded on first use: only rendering needs it

    from .extensions import load_feed_links  # subclasses feedgen's: loaded with it

    feed = FeedGenerator()
    feed.title(plan.title)
    feed.description(plan.description or plan.title)
    # The self link goes first: feedgen makes the last link the RSS channel link.
    feed.link(href=site.url_for(plan.path + suffix), rel="self", type=media_type)
    feed.language(site.language)
    feed.updated(plan.newest)
    feed.generator("feedloom", version=__version__)
    links = load_feed_links(feed)
    if site.websub_hub:
        links.add(site.websub_hub, "hub")
    for rel, path in history_links(plan):
        links.add(site.url_for(path + suffix), rel, media_type)
    links.mark("archive" if plan.archived else "complete" if plan.complete else None)
    return feed


def history_links(plan: FeedPlan) -> list[tuple[str, str]]:
    """(relation, path) of the RFC 5005 links a document carries."""
    links = [("current", plan.current)] if plan.archived else []
    links += [("prev-archive", plan.prev_archive), ("next-archive", plan.next_archive)]
    return [(rel, path) for rel, path in links if path]
