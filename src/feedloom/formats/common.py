"""The part of a feed's head that RSS and Atom share, set through feedgen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Site
from ..select import FeedPlan
from ..version import __version__

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator


def start_feed(plan: FeedPlan, site: Site, self_url: str, media_type: str) -> FeedGenerator:
    """A FeedGenerator with the shared head set; times come from the items, never the clock."""
    from feedgen.feed import FeedGenerator  # loaded on first use: only rendering needs it

    feed = FeedGenerator()
    feed.title(plan.title)
    feed.description(plan.description or plan.title)
    # The self link goes first: feedgen makes the last link the RSS channel link.
    feed.link(href=self_url, rel="self", type=media_type)
    feed.language(site.language)
    feed.updated(plan.newest)
    feed.generator("feedloom", version=__version__)
    return feed
