"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..articles import Article, Image
from ..config import Site
from ..select import FeedPlan
from ..text import iso_time
from .base import OutputFormat
from .html import item_html

MEDIA_TYPE = "application/feed+json"
SUFFIX = ".json"
VERSION = "https://jsonfeed.org/version/1.1"
_FAVICON_MAX = 128  # pixels; provider logos are 50 x 50


def render(plan: FeedPlan, articles: Sequence[Article], site: Site) -> bytes:
    """The feed document; ``articles`` are the plan's items, whole, in its order."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": plan.title,
        "home_page_url": site.index_url(plan.current),
        "feed_url": site.url_for(plan.path + SUFFIX),
        "description": plan.description,
        "language": site.language,
    }
    if plan.prev_archive:
        # JSON Feed pages with next_url: from the newest items towards the oldest.
        feed["next_url"] = site.url_for(plan.prev_archive + SUFFIX)
    if site.websub_hub:
        feed["hubs"] = [{"type": "WebSub", "url": site.websub_hub}]
    if plan.logo:
        # JSON Feed wants a large square icon, a small one as favicon.
        small = (plan.logo.width or 0) <= _FAVICON_MAX
        feed["favicon" if small else "icon"] = plan.logo.url
    elif site.logo:
        feed["icon"] = site.logo
    feed["authors"] = [{"name": site.author}]
    feed["items"] = [_item(article) for article in articles]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.id,
        "url": article.link,
        "title": article.title,
        "content_html": item_html(article),
    }
    if article.excerpt:
        item["summary"] = article.excerpt
    if article.images:
        item["image"] = article.images[0].url
    item["date_published"] = iso_time(article.published)
    if article.topics:
        item["tags"] = list(article.topics)
    if article.provider:
        author = {"name": article.provider.name}
        if article.provider.url:
            author["url"] = article.provider.url
        item["authors"] = [author]
    if article.images:
        item["attachments"] = [_attachment(image) for image in article.images]
    return item


def _attachment(image: Image) -> dict[str, Any]:
    attachment: dict[str, Any] = {"url": image.url, "mime_type": image.type}
    if image.length is not None:
        attachment["size_in_bytes"] = image.length
    return attachment


FORMAT = OutputFormat(
    name="json", suffix=SUFFIX, media_type=MEDIA_TYPE, render=render, label="JSON Feed"
)
