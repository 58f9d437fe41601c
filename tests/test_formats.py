"""formats: feed plans rendered as RSS 2.0 and Atom 1.0, read back with lxml and feedparser."""

from __future__ import annotations

import calendar
import dataclasses
import email.utils
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from feedloom.articles import Article, Image, Provider, Related
from feedloom.config import Config, Site, load_config
from feedloom.formats import FORMATS
from feedloom.select import FeedPlan, select
from feedloom.urls import image_type

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
}
A = f"{{{NS['atom']}}}"

EXCERPT = "V&L <b>x</b>"
EXCERPT_AS_XML_TEXT = "V&amp;L &lt;b&gt;x&lt;/b&gt;"
SQUARE_LOGO = Image("https://news.example.com/logo.png", "image/png", 64, 64)
WIDE_LOGO = Image("https://daily.example.org/banner.gif", "image/gif", 120, 60)
NEWS = Provider("news.example.com", "Example News", "https://news.example.com/", SQUARE_LOGO)
DAILY = Provider("daily.example.org", "The Daily", "https://daily.example.org/", WIDE_LOGO)


def image(url: str, width: int | None = None, height: int | None = None) -> Image:
    """An image as the articles stage makes it: its type inferred from the URL."""
    return Image(url, image_type(url), width, height)


IMAGES = (
    image("https://img.example.com/lead.png", 800, 600),
    image("https://img.example.com/second.jpg", 400, 300),
    image("https://img.example.com/third.webp"),
)
RELATED = (
    Related("Robots at work", "https://other.example.net/robots", provider="Other Paper"),
    Related(
        "Robots elsewhere",
        "https://third.example.net/more",
        published=datetime(2021, 3, 2, tzinfo=UTC),
    ),
)


def rich_article() -> Article:
    """Three images, an excerpt that looks like markup, related links, a tracked link."""
    return Article(
        id="https://news.example.com/articles/robots",
        link="https://news.example.com/articles/robots?utm_source=feed",
        title="Robots & humans share the floor",
        published=datetime(2021, 3, 3, 12, 30, tzinfo=UTC),
        path="seeds/robots.md",
        line=2,
        excerpt=EXCERPT,
        provider=NEWS,
        topics=("AI", "Robots"),
        category="news",
        images=IMAGES,
        related=RELATED,
    )


def daily_article() -> Article:
    return Article(
        id="https://daily.example.org/2021/vision",
        link="https://daily.example.org/2021/vision",
        title="Vision models get cheaper",
        published=datetime(2021, 3, 2, 8, 0, tzinfo=UTC),
        path="seeds/vision.md",
        line=2,
        excerpt="Prices fall.",
        provider=DAILY,
        topics=("AI",),
        category="news",
        images=(image("https://img.example.com/vision.jpg", 640, 480),),
    )


def bare_article() -> Article:
    """No provider, no images, no topics, no excerpt."""
    return Article(
        id="https://blog.example.net/notes",
        link="https://blog.example.net/notes",
        title="Notes on warm-up",
        published=datetime(2021, 3, 1, 7, 15, tzinfo=UTC),
        path="seeds/notes.md",
        line=2,
    )


def hostile_article() -> Article:
    """A <script> in every piece of record text, after a quote that would end an attribute."""
    script = '"><script>alert(1)</script>'
    return Article(
        id="https://evil.example.com/x",
        link="https://evil.example.com/x",
        title=f"Title {script}",
        published=datetime(2021, 3, 4, tzinfo=UTC),
        path="seeds/evil.md",
        excerpt=f"Excerpt {script}",
        provider=Provider("evil.example.com", f"Evil {script}", "https://evil.example.com/"),
        topics=("AI",),
        images=(Image("https://img.example.com/e.png", "image/png", title=f"Alt {script}"),),
        related=(Related(f"Rel {script}", "https://r.example.com/", provider=f"P {script}"),),
    )


@pytest.fixture
def config(feeds_dir: Path) -> Config:
    return load_config(feeds_dir, FORMATS)


@pytest.fixture
def site(config: Config) -> Site:
    return config.site


def plan_of(articles: list[Article], config: Config, kind: str, key: str = "") -> FeedPlan:
    (plan,) = (p for p in select(articles, config).plans if p.kind == kind and p.key == key)
    return plan


@pytest.fixture
def all_plan(config: Config) -> FeedPlan:
    return plan_of([bare_article(), rich_article(), daily_article()], config, "all")


@pytest.fixture
def rich_plan(config: Config) -> FeedPlan:
    return plan_of([rich_article()], config, "topics", "Robots")


def render(name: str, plan: FeedPlan, site: Site) -> bytes:
    return FORMATS[name].render(plan, plan.items, site)


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def html_fragment(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(text, create_parent="div")


def only_item(data: bytes) -> etree._Element:
    (item,) = xml(data).findall("channel/item")
    return item


def only_entry(data: bytes) -> etree._Element:
    (entry,) = xml(data).findall(f"{A}entry")
    return entry


def atom_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- RSS: the channel ----------------------------------------------------------------


def test_rss_channel_head(rich_plan, site):
    channel = xml(render("rss", rich_plan, site)).find("channel")
    assert channel.findtext("title") == "A.I. Every Day: Robots"
    assert channel.findtext("description") == "Articles about Robots, newest first."
    assert channel.findtext("language") == "en"
    assert channel.findtext("ttl") == "60"
    assert channel.findtext("generator").startswith("feedloom")


def test_rss_ttl_comes_from_the_site(rich_plan, site):
    channel = xml(render("rss", rich_plan, dataclasses.replace(site, ttl=15))).find("channel")
    assert channel.findtext("ttl") == "15"


def test_rss_self_link_is_the_absolute_feed_url(rich_plan, site):
    channel = xml(render("rss", rich_plan, site)).find("channel")
    selfs = channel.findall("atom:link[@rel='self']", NS)
    assert [link.get("href") for link in selfs] == [
        "https://feeds.example.org/ai/topics/robots.rss"
    ]
    assert selfs[0].get("href") == site.base_url + rich_plan.path + ".rss"
    assert selfs[0].get("type") == "application/rss+xml"


def test_rss_channel_link_is_the_feeds_row_on_the_index_page_not_the_self_link(rich_plan, site):
    home = dataclasses.replace(site, link="https://www.example.org/home/")
    channel = xml(render("rss", rich_plan, home)).find("channel")
    expected = f"{site.base_url}index.html#{rich_plan.path}"
    assert [link.text for link in channel.findall("link")] == [expected]


def test_rss_last_build_date_is_the_newest_item_time(all_plan, site):
    channel = xml(render("rss", all_plan, site)).find("channel")
    built = email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate"))
    assert built == datetime(2021, 3, 3, 12, 30, tzinfo=UTC)
    assert built == all_plan.newest


def test_rss_provider_feed_image_is_the_provider_logo(config, site):
    plan = plan_of([rich_article()], config, "providers", "news.example.com")
    image_element = xml(render("rss", plan, site)).find("channel/image")
    assert image_element is not None
    assert image_element.findtext("url") == SQUARE_LOGO.url
    assert image_element.findtext("width") == "64"
    assert image_element.findtext("height") == "64"


def test_rss_feed_without_logo_has_no_image(rich_plan, site):
    assert site.logo is None
    assert xml(render("rss", rich_plan, site)).find("channel/image") is None


# --- RSS: items ----------------------------------------------------------------------


def test_rss_one_enclosure_per_item_even_with_three_images(rich_plan, site):
    enclosures = only_item(render("rss", rich_plan, site)).findall("enclosure")
    assert len(enclosures) == 1
    assert enclosures[0].get("url") == IMAGES[0].url


def test_rss_enclosure_has_zero_length_and_inferred_type(rich_plan, site):
    (enclosure,) = only_item(render("rss", rich_plan, site)).findall("enclosure")
    assert enclosure.get("length") == "0"
    assert enclosure.get("type") == "image/png"


def test_rss_item_without_images_has_no_enclosure(config, site):
    plan = plan_of([bare_article()], config, "all")
    assert only_item(render("rss", plan, site)).findall("enclosure") == []


def test_rss_every_image_is_media_content_directly_under_item(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    assert item.findall(".//media:group", NS) == []
    contents = item.findall(".//media:content", NS)
    assert all(c.getparent() is item for c in contents)
    assert [c.get("url") for c in contents] == [i.url for i in IMAGES]
    assert {c.get("medium") for c in contents} == {"image"}
    assert [c.get("type") for c in contents] == ["image/png", "image/jpeg", "image/webp"]
    sizes = [(c.get("width"), c.get("height")) for c in contents]
    assert sizes == [("800", "600"), ("400", "300"), (None, None)]


def test_rss_description_is_the_excerpt_html_escaped(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    assert item.findtext("description") == EXCERPT_AS_XML_TEXT


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_summary_reaches_feedparser_as_text(name, rich_plan, site):
    """The RSS description and the Atom summary: the excerpt as text, not markup."""
    entry = feedparser.parse(render(name, rich_plan, site)).entries[0]
    summary = html_fragment(entry.summary)
    assert "V&L <b>x</b>" in summary.text_content()
    assert summary.findall(".//b") == []


def test_rss_content_holds_the_lead_image(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    content = html_fragment(item.findtext("content:encoded", namespaces=NS))
    images = content.findall(".//img")
    assert [img.get("src") for img in images] == [IMAGES[0].url]
    assert (images[0].get("width"), images[0].get("height")) == ("800", "600")


def test_rss_content_holds_the_excerpt_as_text(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    content = html_fragment(item.findtext("content:encoded", namespaces=NS))
    assert EXCERPT in content.text_content()
    assert content.findall(".//b") == []


def test_rss_content_links_to_the_original_naming_the_provider(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    content = html_fragment(item.findtext("content:encoded", namespaces=NS))
    (original,) = (a for a in content.iter("a") if a.get("href") == rich_article().link)
    assert "Example News" in original.text_content()


def test_rss_content_lists_the_related_links(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    content = html_fragment(item.findtext("content:encoded", namespaces=NS))
    links = {a.get("href"): a.text_content() for a in content.iter("a")}
    for related in RELATED:
        assert links.get(related.link) == related.title
    text = content.text_content()
    assert "Other Paper" in text
    assert "third.example.net, 2021-03-02" in text


def test_rss_guid_is_the_canonical_id_as_permalink(rich_plan, site):
    guid = only_item(render("rss", rich_plan, site)).find("guid")
    assert guid.text == "https://news.example.com/articles/robots"
    assert guid.get("isPermaLink") == "true"


def test_rss_item_link_is_the_article_link(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    assert item.findtext("link") == rich_article().link


def test_rss_categories_are_the_topics(rich_plan, site):
    item = only_item(render("rss", rich_plan, site))
    assert [c.text for c in item.findall("category")] == ["AI", "Robots"]


def test_rss_source_names_the_provider_feed(rich_plan, site):
    source = only_item(render("rss", rich_plan, site)).find("source")
    assert source is not None
    assert source.get("url") == "https://feeds.example.org/ai/providers/news-example-com.rss"
    assert source.text == "Example News"


def test_rss_item_without_provider_has_no_source(config, site):
    plan = plan_of([bare_article()], config, "all")
    assert only_item(render("rss", plan, site)).find("source") is None


# --- Atom: the feed ------------------------------------------------------------------


def test_atom_feed_id_is_the_self_url(rich_plan, site):
    root = xml(render("atom", rich_plan, site))
    url = "https://feeds.example.org/ai/topics/robots.atom"
    assert root.findtext(f"{A}id") == url
    selfs = root.findall(f"{A}link[@rel='self']")
    assert [link.get("href") for link in selfs] == [url]
    assert selfs[0].get("type") == "application/atom+xml"


def test_atom_feed_links_to_its_row_on_the_index_page(rich_plan, site):
    home = dataclasses.replace(site, link="https://www.example.org/home/")
    root = xml(render("atom", rich_plan, home))
    alternates = root.findall(f"{A}link[@rel='alternate']")
    assert [link.get("href") for link in alternates] == [
        f"{site.base_url}index.html#{rich_plan.path}"
    ]
    assert [link.get("type") for link in alternates] == ["text/html"]


def test_atom_feed_updated_is_the_newest_item_time(all_plan, site):
    root = xml(render("atom", all_plan, site))
    assert atom_time(root.findtext(f"{A}updated")) == datetime(2021, 3, 3, 12, 30, tzinfo=UTC)


def test_atom_feed_has_an_author(all_plan, site):
    root = xml(render("atom", all_plan, site))
    (author,) = root.findall(f"{A}author")
    assert author.findtext(f"{A}name") == site.author
    assert site.author


def test_atom_square_provider_logo_is_the_icon(config, site):
    plan = plan_of([rich_article()], config, "providers", "news.example.com")
    root = xml(render("atom", plan, site))
    assert root.findtext(f"{A}icon") == SQUARE_LOGO.url
    assert root.find(f"{A}logo") is None


def test_atom_other_provider_logo_is_the_logo(config, site):
    plan = plan_of([daily_article()], config, "providers", "daily.example.org")
    root = xml(render("atom", plan, site))
    assert root.findtext(f"{A}logo") == WIDE_LOGO.url
    assert root.find(f"{A}icon") is None


def test_atom_logo_of_unknown_size_is_the_logo(config, site):
    unsized = Image("https://daily.example.org/logo.svg", "image/svg+xml")
    provider = dataclasses.replace(DAILY, logo=unsized)
    article = dataclasses.replace(daily_article(), provider=provider)
    plan = plan_of([article], config, "providers", DAILY.key)
    root = xml(render("atom", plan, site))
    assert root.findtext(f"{A}logo") == unsized.url
    assert root.find(f"{A}icon") is None


# --- Atom: entries -------------------------------------------------------------------


def test_atom_entry_has_id_title_updated_and_published(rich_plan, site):
    entry = only_entry(render("atom", rich_plan, site))
    assert entry.findtext(f"{A}id") == "https://news.example.com/articles/robots"
    assert entry.findtext(f"{A}title") == "Robots & humans share the floor"
    moment = datetime(2021, 3, 3, 12, 30, tzinfo=UTC)
    assert atom_time(entry.findtext(f"{A}updated")) == moment
    assert atom_time(entry.findtext(f"{A}published")) == moment


def test_atom_entry_author_is_the_provider(rich_plan, site):
    entry = only_entry(render("atom", rich_plan, site))
    (author,) = entry.findall(f"{A}author")
    assert author.findtext(f"{A}name") == "Example News"


def test_atom_entry_alternate_link_is_the_article_link(rich_plan, site):
    entry = only_entry(render("atom", rich_plan, site))
    alternates = entry.findall(f"{A}link[@rel='alternate']")
    assert [link.get("href") for link in alternates] == [rich_article().link]
    assert alternates[0].get("type") == "text/html"


def test_atom_one_enclosure_link_per_image_with_href_type_and_rel(rich_plan, site):
    # feedgen 1.0.0 drops rel and type from entry links (upstream issues 135, 143):
    # this fails if that bug reaches the output again.
    entry = only_entry(render("atom", rich_plan, site))
    enclosures = entry.findall(f"{A}link[@rel='enclosure']")
    assert [link.get("href") for link in enclosures] == [i.url for i in IMAGES]
    assert [link.get("type") for link in enclosures] == [i.type for i in IMAGES]
    for link in enclosures:
        assert {"href", "rel", "type"} <= set(link.attrib)


def test_atom_every_entry_link_keeps_its_rel(rich_plan, site):
    entry = only_entry(render("atom", rich_plan, site))
    links = entry.findall(f"{A}link")
    assert len(links) == 1 + len(IMAGES)
    assert all(link.get("rel") in {"alternate", "enclosure"} for link in links)
    assert all(link.get("type") for link in links)


def test_atom_enclosures_reach_feedparser(rich_plan, site):
    entry = feedparser.parse(render("atom", rich_plan, site)).entries[0]
    assert [(e.href, e.type) for e in entry.enclosures] == [(i.url, i.type) for i in IMAGES]
    assert entry.link == rich_article().link


def test_atom_summary_is_escaped_html(rich_plan, site):
    summary = only_entry(render("atom", rich_plan, site)).find(f"{A}summary")
    assert summary.get("type") == "html"
    assert summary.text == EXCERPT_AS_XML_TEXT


def test_atom_content_is_html_with_the_lead_image_and_original_link(rich_plan, site):
    content = only_entry(render("atom", rich_plan, site)).find(f"{A}content")
    assert content.get("type") == "html"
    body = html_fragment(content.text)
    assert [img.get("src") for img in body.iter("img")] == [IMAGES[0].url]
    assert rich_article().link in [a.get("href") for a in body.iter("a")]


def test_atom_categories_are_the_topics(rich_plan, site):
    entry = only_entry(render("atom", rich_plan, site))
    assert [c.get("term") for c in entry.findall(f"{A}category")] == ["AI", "Robots"]


def test_atom_entry_without_provider_relies_on_the_feed_author(config, site):
    plan = plan_of([bare_article()], config, "all")
    root = xml(render("atom", plan, site))
    assert root.find(f"{A}entry/{A}author") is None
    assert root.findtext(f"{A}author/{A}name")


# --- markup in record text ------------------------------------------------------------


def test_rss_script_in_record_text_never_becomes_markup(config, site):
    plan = plan_of([hostile_article()], config, "all")
    item = only_item(render("rss", plan, site))
    for html in (item.findtext("content:encoded", namespaces=NS), item.findtext("description")):
        fragment = html_fragment(html)
        assert list(fragment.iter("script")) == []
        assert "alert(1)" in fragment.text_content()


def test_atom_script_in_record_text_never_becomes_markup(config, site):
    plan = plan_of([hostile_article()], config, "all")
    entry = only_entry(render("atom", plan, site))
    for html in (entry.findtext(f"{A}content"), entry.findtext(f"{A}summary")):
        fragment = html_fragment(html)
        assert list(fragment.iter("script")) == []
        assert "alert(1)" in fragment.text_content()


def test_script_in_related_and_image_text_stays_text(config, site):
    plan = plan_of([hostile_article()], config, "all")
    item = only_item(render("rss", plan, site))
    fragment = html_fragment(item.findtext("content:encoded", namespaces=NS))
    assert list(fragment.iter("script")) == []
    (img,) = fragment.iter("img")
    assert img.get("alt") == 'Alt "><script>alert(1)</script>'
    text = fragment.text_content()
    assert 'Rel "><script>alert(1)</script>' in text
    assert 'P "><script>alert(1)</script>' in text
    assert 'Evil "><script>alert(1)</script>' in text


# --- both formats --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_feedparser_reads_without_complaint(name, all_plan, site):
    parsed = feedparser.parse(render(name, all_plan, site))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 3


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_hostile_feed_reads_without_complaint(name, config, site):
    plan = plan_of([hostile_article(), rich_article()], config, "all")
    assert feedparser.parse(render(name, plan, site)).bozo == 0


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_titles_links_dates_and_order_survive_the_round_trip(name, all_plan, site):
    entries = feedparser.parse(render(name, all_plan, site)).entries
    assert [e.title for e in entries] == [a.title for a in all_plan.items]
    assert [e.link for e in entries] == [a.link for a in all_plan.items]
    assert [e.id for e in entries] == [a.id for a in all_plan.items]
    published = [calendar.timegm(e.published_parsed) for e in entries]
    assert published == [a.published.timestamp() for a in all_plan.items]
    assert published == sorted(published, reverse=True)


@pytest.mark.parametrize(("name", "per_item"), [("rss", 1), ("atom", None)])
def test_enclosure_urls_survive_the_round_trip(name, per_item, all_plan, site):
    entries = feedparser.parse(render(name, all_plan, site)).entries
    found = [[e.href for e in entry.get("enclosures", [])] for entry in entries]
    assert found == [[i.url for i in a.images][:per_item] for a in all_plan.items]


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_feed_title_survives_the_round_trip(name, rich_plan, site):
    assert feedparser.parse(render(name, rich_plan, site)).feed.title == rich_plan.title


def test_output_does_not_depend_on_the_clock(all_plan, site):
    first = {name: render(name, all_plan, site) for name in ("rss", "atom")}
    time.sleep(1.1)
    second = {name: render(name, all_plan, site) for name in ("rss", "atom")}
    assert first == second


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_output_is_utf8_xml(name, config, site):
    article = dataclasses.replace(rich_article(), title="Künstliche Intelligenz — ein Überblick")
    data = render(name, plan_of([article], config, "all"), site)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Künstliche Intelligenz — ein Überblick".encode() in data
