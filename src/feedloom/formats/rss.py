"""RSS 2.0, with content:encoded, Media RSS and one enclosure per item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..articles import Article
from ..config import Site
from ..select import FeedPlan
from ..version import __version__
from .base import OutputFormat
from .common import start_feed
from .html import item_html, plain_to_html

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

MEDIA_TYPE = "application/rss+xml"
SUFFIX = ".rss"
# The RSS 2.0 limits on the channel image's size.
_MAX_IMAGE_WIDTH, _MAX_IMAGE_HEIGHT = 144, 400


def render(plan: FeedPlan, articles: Sequence[Article], site: Site) -> bytes:
    """The feed document; ``articles`` are the plan's items, whole, in its order."""
    feed = start_feed(plan, site, SUFFIX, MEDIA_TYPE)
    feed.load_extension("media", atom=False, rss=True)
    feed.generator(f"feedloom {__version__}")  # RSS has no version attribute
    feed.link(href=site.index_url(plan.current), rel="alternate")
    feed.ttl(site.ttl)
    _channel_image(feed, plan, site)
    for article in articles:
        _item(feed, article, plan, site)
    return feed.rss_str(pretty=True)


def _channel_image(feed: FeedGenerator, plan: FeedPlan, site: Site) -> None:
    """The provider's logo, else the site's; RSS wants its link to be the channel's link."""
    logo, home = plan.logo, site.index_url(plan.current)
    if logo is not None:
        fits = (logo.width or 0) <= _MAX_IMAGE_WIDTH and (logo.height or 0) <= _MAX_IMAGE_HEIGHT
        width, height = (_text(logo.width), _text(logo.height)) if fits else (None, None)
        feed.image(url=logo.url, title=plan.title, link=home, width=width, height=height)
    elif site.logo:
        feed.image(url=site.logo, title=plan.title, link=home)


def _item(feed: FeedGenerator, article: Article, plan: FeedPlan, site: Site) -> None:
    entry = feed.add_entry(order="append")
    entry.title(article.title)
    entry.link(href=article.link)
    entry.guid(article.id, permalink=True)
    entry.pubDate(article.published)
    if article.excerpt:
        entry.description(plain_to_html(article.excerpt))
    entry.content(item_html(article), type="CDATA")
    for topic in article.topics:
        entry.category(term=topic)
    provider = article.provider
    if provider and provider.key in plan.sources:
        entry.source(url=site.url_for(plan.sources[provider.key] + SUFFIX), title=provider.name)
    if article.images:
        lead = article.images[0]
        # Size unknown (never probed): length 0, as the RSS Best Practices Profile says.
        entry.enclosure(url=lead.url, length=str(lead.length or 0), type=lead.type)
    for image in article.images:
        entry.media.content(
            url=image.url,
            medium="image",
            type=image.type,
            width=_text(image.width),
            height=_text(image.height),
            fileSize=_text(image.length),
            group=None,
        )


def _text(number: int | None) -> str | None:
    """feedgen wants attribute values as text."""
    return None if number is None else str(number)


FORMAT = OutputFormat(name="rss", suffix=SUFFIX, media_type=MEDIA_TYPE, render=render, label="RSS")
