"""index.html: a page listing every feed, readable anywhere, with feed autodiscovery.

One file with its styles inside: no script, no font, no image from elsewhere.
Links are relative, so the page works wherever the folder is served.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..config import Site
from ..manifest import FeedEntry
from ..version import __version__
from . import FORMATS
from .listing import anchor, by_kind, kind_name

_STYLE = """
:root { color-scheme: light dark; --muted: #666; --line: #ddd; --accent: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --muted: #aaa; --line: #444; --accent: #8ab4f8; } }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 52rem; padding: 1rem; }
a { color: var(--accent); }
header p, footer { color: var(--muted); }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
ul.feeds { list-style: none; margin: 0; padding: 0; }
ul.feeds li { padding: .6rem 0; border-bottom: 1px solid var(--line); }
ul.feeds li:target { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.feed-title { font-weight: 600; }
.meta { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
.formats a { display: inline-block; margin-right: .75rem; padding: .35rem 0; }
"""


def render_index(entries: Sequence[FeedEntry], site: Site) -> bytes:
    newest = max((e.newest for e in entries), default="")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(site.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(site.title)}: feeds</title>",
        f'<meta name="description" content="{escape(site.description or site.title)}">',
        f'<meta name="generator" content="feedloom {__version__}">',
        *_autodiscovery(entries, site),
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(site.title)}</h1>",
        f"<p>{escape(site.description)}</p>" if site.description else "",
        f'<p><a href="{escape(site.link)}">{escape(site.link)}</a> · '
        '<a href="index.opml" type="text/x-opml">All feeds as OPML</a> · '
        '<a href="feeds.json" type="application/json">feeds.json</a></p>',
        "</header>",
        "<main>",
        *(_section(kind, feeds) for kind, feeds in by_kind(entries)),
        "</main>",
        f"<footer><p>Newest article {escape(_day(newest))}. Made with feedloom {__version__}."
        "</p></footer>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(part for part in parts if part) + "\n").encode("utf-8")


def _autodiscovery(entries: Sequence[FeedEntry], site: Site) -> list[str]:
    """<link rel="alternate"> for the all-articles feed in each format it has."""
    everything = next((e for e in entries if e.kind == "all"), None)
    if everything is None:
        return []
    return [
        f'<link rel="alternate" type="{FORMATS[name].media_type}" '
        f'title="{escape(site.title)} ({FORMATS[name].label})" href="{escape(path)}">'
        for name, path in everything.files.items()
    ]


def _section(kind: str, feeds: Sequence[FeedEntry]) -> str:
    rows = "\n".join(_row(entry) for entry in feeds)
    return (
        f'<section aria-labelledby="kind:{escape(kind)}">\n'
        f'<h2 id="kind:{escape(kind)}">{escape(kind_name(kind))}</h2>\n'
        f'<ul class="feeds">\n{rows}\n</ul>\n</section>'
    )


def _row(entry: FeedEntry) -> str:
    links = " ".join(
        f'<a href="{escape(path)}" type="{FORMATS[name].media_type}">{FORMATS[name].label}</a>'
        for name, path in entry.files.items()
    )
    count = f"{entry.items} article{'' if entry.items == 1 else 's'}"
    return (
        f'<li id="{escape(anchor(entry))}">'
        f'<div class="feed-title">{escape(entry.title)}</div>'
        f'<div class="meta">{count} · newest {escape(_day(entry.newest))}: '
        f"{escape(entry.headline)}</div>"
        f'<div class="formats">{links}</div></li>'
    )


def _day(moment: str) -> str:
    return moment[:10]
