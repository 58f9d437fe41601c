"""The HTML body of an item, shared by every format.

Every piece of text from a record is escaped here: a record can never inject
markup, and every link in it is http(s) because only such links get past the
articles stage.
"""

from __future__ import annotations

from html import escape

from ..articles import Article, Image, Related
from ..urls import host_of


def item_html(article: Article) -> str:
    """Lead image, excerpt, a link to the original and the related coverage."""
    parts = []
    if article.images:
        parts.append(f"<p>{_img(article.images[0], article.title)}</p>")
    if article.excerpt:
        parts.append(f"<p>{plain_to_html(article.excerpt)}</p>")
    where = plain_to_html(article.provider.name if article.provider else host_of(article.link))
    parts.append(f'<p><a href="{escape(article.link)}">Read the full article at {where}</a></p>')
    if article.related:
        items = "".join(f"<li>{_related(r)}</li>" for r in article.related)
        parts.append(f"<p>Related coverage:</p><ul>{items}</ul>")
    return "\n".join(parts)


def plain_to_html(text: str) -> str:
    """Plain text made safe to use where HTML is expected (an RSS description)."""
    return escape(text, quote=False)


def _img(image: Image, fallback_alt: str) -> str:
    size = "".join(
        f' {name}="{value}"'
        for name, value in (("width", image.width), ("height", image.height))
        if value
    )
    alt = escape(image.title or fallback_alt)
    return f'<img src="{escape(image.url)}" alt="{alt}"{size}>'


def _related(item: Related) -> str:
    link = f'<a href="{escape(item.link)}">{plain_to_html(item.title)}</a>'
    about = [item.provider or host_of(item.link)]
    if item.published:
        about.append(item.published.strftime("%Y-%m-%d"))
    return f"{link} ({plain_to_html(', '.join(about))})"
