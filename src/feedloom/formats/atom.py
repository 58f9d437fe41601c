"""Atom 1.0, with an enclosure link per image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..articles import Article
from ..config import Site
from ..select import FeedPlan
from .base import OutputFormat
from .common import start_feed
from .html import item_html, plain_to_html

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

MEDIA_TYPE = "application/atom+xml"
SUFFIX = ".atom"


def render(plan: FeedPlan, articles: Sequence[Article], site: Site) -> bytes:
    """The feed document; ``articles`` are the plan's items, whole, in its order."""
    feed = start_feed(plan, site, SUFFIX, MEDIA_TYPE)
    from .extensions import load_entry_links  # subclasses feedgen's: loaded with it

    load_entry_links(feed)
    feed.id(site.url_for(plan.path + SUFFIX))
    feed.link(href=site.index_url(plan.current), rel="alternate", type="text/html")
    # Entries without a provider fall back to the feed's author, which Atom requires.
    feed.author(name=site.author)
    _head_image(feed, plan, site)
    for article in articles:
        _entry(feed, article)
    return feed.atom_str(pretty=True)


def _head_image(feed: FeedGenerator, plan: FeedPlan, site: Site) -> None:
    """A square logo is an Atom icon; any other is a logo (which Atom wants 2:1)."""
    logo = plan.logo
    if logo is None:
        if site.logo:
            feed.logo(site.logo)
    elif logo.width and logo.width == logo.height:
        feed.icon(logo.url)
    else:
        feed.logo(logo.url)


def _entry(feed: FeedGenerator, article: Article) -> None:
    entry = feed.add_entry(order="append")
    entry.id(article.id)
    entry.title(article.title)
    entry.updated(article.published)
    entry.published(article.published)
    entry.entry_links.add(article.link, rel="alternate", type="text/html")
    for image in article.images:
        entry.entry_links.add(image.url, rel="enclosure", type=image.type, length=image.length)
    if article.provider:
        entry.author(name=article.provider.name, uri=article.provider.url)
    if article.excerpt:
        # Declared as HTML and escaped, so text that merely looks like markup
        # ("a <b> tag") reaches readers as text and the validator stays quiet.
        entry.summary(plain_to_html(article.excerpt), type="html")
    entry.content(item_html(article), type="html")
    for topic in article.topics:
        entry.category(term=topic)


FORMAT = OutputFormat(
    name="atom", suffix=SUFFIX, media_type=MEDIA_TYPE, render=render, label="Atom"
)
