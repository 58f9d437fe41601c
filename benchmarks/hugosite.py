"""A Hugo site made from the benchmark's records, for comparison with feedloom.

The same records, one content file each, with the front matter a Hugo user
would write for them: ``title``, ``date`` (``publishedDateTime``), ``draft``
(``published: false``), the excerpt as ``description``, the link and lead
image as params, and three taxonomies: ``topics``, ``providers`` (keyed by
domain, as feedloom keys its provider feeds) and ``categories``.

The config makes RSS the only output: for the home page (every article, like
feedloom's ``all``) and for every term of the three taxonomies (feedloom's
topic, provider and category feeds), newest 50 items each. Regular pages are
never rendered (``_build.render: never``, via a cascade) but still listed, so
the terms and the home feed see them; sections, taxonomy lists, sitemap,
robots.txt and 404 are disabled.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # PyYAML without libyaml
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

LIMIT = 50

CONFIG = f"""\
baseURL = "https://feeds.example.org/ai/"
title = "A.I. Every Day"
languageCode = "en"
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
disableHugoGeneratorInject = true
ignoreErrors = ["error-disable-taxonomy"]
enableGitInfo = false
timeZone = "UTC"

[params]
  description = "The day's news on artificial intelligence."

[taxonomies]
  topic = "topics"
  provider = "providers"
  category = "categories"

[outputs]
  home = ["RSS"]
  term = ["RSS"]

[services.rss]
  limit = {LIMIT}

[[cascade]]
  [cascade._build]
    render = "never"
    list = "always"
  [cascade._target]
    kind = "page"
"""

# Hugo's built-in RSS template (0.111), with the item link, guid and
# description taken from the record, and its topics and lead image added as
# feedloom writes them.
RSS = """\
{{- $pages := slice -}}
{{- if .IsHome -}}{{- $pages = .Site.RegularPages -}}{{- else -}}{{- $pages = .Pages -}}{{- end -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 -}}{{- $pages = $pages | first $limit -}}{{- end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>
      {{- if .IsHome }}{{ .Site.Title }}{{ else }}{{ .Title }} on {{ .Site.Title }}{{ end -}}
    </title>
    <link>{{ .Permalink }}</link>
    <description>
      {{- if .IsHome }}{{ .Site.Params.description }}{{ else }}Articles in {{ .Title }}{{ end -}}
    </description>
    <language>{{ site.LanguageCode }}</language>
    {{- if not .Date.IsZero }}
    <lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>
    {{- end }}
    {{- with .OutputFormats.Get "RSS" }}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end }}
    {{- range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Params.weburl }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <guid>{{ .Params.weburl }}</guid>
      <description>{{ .Description }}</description>
      {{- range .Params.topics }}
      <category>{{ . }}</category>
      {{- end }}
      {{- with .Params.image }}
      <enclosure url="{{ . }}" length="0" type="image/jpeg" />
      {{- end }}
    </item>
    {{- end }}
  </channel>
</rss>
"""


def _text(value: object) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)


def _utc(value: object) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def front_matter(data: dict) -> str:
    """The Hugo content file for one parsed record."""
    lines = ["---", f"title: {_text(data['title'])}", f"date: {_utc(data['publishedDateTime'])}"]
    if data.get("published") is False:
        lines.append("draft: true")
    if data.get("excerpt"):
        lines.append(f"description: {_text(data['excerpt'])}")
    lines.append(f"webUrl: {_text(data['webUrl'])}")
    images = data.get("images") or []
    if images:
        lines.append(f"image: {_text(images[0]['url'])}")
    topics = data.get("topics") or []
    if isinstance(topics, str):
        topics = [topics]
    lines.append("topics: [" + ", ".join(_text(t) for t in topics) + "]")
    provider = data.get("provider") or {}
    if provider.get("domain"):
        lines.append(f"providers: [{_text(provider['domain'])}]")
    if provider.get("name"):
        lines.append(f"providerName: {_text(provider['name'])}")
    if data.get("category"):
        lines.append(f"categories: [{_text(data['category'])}]")
    lines += ["---", ""]
    return "\n".join(lines)


def write_site(site: Path, seeds: Path) -> int:
    """(Re)write the whole site in ``site`` from the records in ``seeds``; the count of pages."""
    if site.exists():
        shutil.rmtree(site)
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    count = 0
    for path in sorted(seeds.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text.split("\n---", 1)[0].removeprefix("---\n"), Loader=Loader)
        (posts / path.name).write_text(front_matter(data), encoding="utf-8")
        count += 1
    write_config(site)
    return count


def write_config(site: Path) -> None:
    """The config and the one layout; cheap, so written before every run."""
    (site / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "rss.xml").write_text(RSS, encoding="utf-8")
