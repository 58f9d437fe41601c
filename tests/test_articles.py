"""Stage 2: Record -> Article (articles.normalise) and api.read_articles over a folder."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import article_fields
from feedloom.api import read_articles
from feedloom.articles import Article, Normalised, ParseSettings, normalise
from feedloom.diagnostics import Diagnostic, Severity
from feedloom.records import Record, parse_record
from feedloom.text import repair

PATH = "seeds/a.md"
# Lines 2-4 of every record made by `yaml_record`; further keys start on line 5.
HEAD = (
    "title: A title\n"
    "publishedDateTime: 2021-03-12T09:37:00Z\n"
    "webUrl: https://news.example.com/story\n"
)


# --- helpers -----------------------------------------------------------------


def yaml_record(front: str) -> Record:
    """A record from YAML text as written in a file: '---' on line 1, the YAML from line 2."""
    result = parse_record(f"---\n{front}---\nbody\n".encode(), PATH)
    assert isinstance(result, Record), f"stage 1 rejected the record: {result}"
    return result


def accept(front: str, settings: ParseSettings | None = None) -> Normalised:
    result = normalise(yaml_record(front), settings)
    assert result.article is not None, [str(d) for d in result.diagnostics]
    return result


def article(front: str, settings: ParseSettings | None = None) -> Article:
    found = accept(front, settings).article
    assert found is not None
    return found


def rejection(front: str) -> Diagnostic:
    result = normalise(yaml_record(front))
    assert result.article is None, f"accepted: {result.article}"
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1, result.diagnostics
    return errors[0]


def warnings_of(result: Normalised) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.severity is Severity.WARNING]


def dated(value: str) -> str:
    return f"title: T\nwebUrl: https://news.example.com/x\npublishedDateTime: {value}\n"


def linked(lines: str) -> str:
    return "title: T\npublishedDateTime: 2021-03-12T09:37:00Z\n" + lines


def with_images(urls: list[str]) -> tuple[Any, ...]:
    items = "".join(f"  - url: '{u}'\n" for u in urls)
    return article(HEAD + "images:\n" + items).images


# --- publishedDateTime -------------------------------------------------------


def test_bare_yaml_timestamp_with_z_is_utc() -> None:
    published = article(dated("2021-03-12T09:37:00Z")).published
    assert published == datetime(2021, 3, 12, 9, 37, tzinfo=UTC)
    assert published.utcoffset().total_seconds() == 0


def test_quoted_iso_time_with_offset_is_converted_to_utc() -> None:
    published = article(dated("'2021-03-12T09:37:00+02:00'")).published
    assert published == datetime(2021, 3, 12, 7, 37, tzinfo=UTC)
    assert (published.hour, published.utcoffset().total_seconds()) == (7, 0)


def test_bare_yaml_timestamp_with_offset_is_converted_to_utc() -> None:
    published = article(dated("2021-03-12T01:30:00-05:00")).published
    assert (published.day, published.hour, published.minute) == (12, 6, 30)
    assert published.utcoffset().total_seconds() == 0


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with a local time zone far from UTC, so 'naive means local' would show."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_date_only_is_midnight_utc(local_time_not_utc: None) -> None:
    assert article(dated("2021-03-12")).published == datetime(2021, 3, 12, 0, 0, tzinfo=UTC)


def test_quoted_date_only_is_midnight_utc(local_time_not_utc: None) -> None:
    assert article(dated("'2021-03-12'")).published == datetime(2021, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize("value", ["'2021-03-12T09:37:00'", "2021-03-12 09:37:00"])
def test_naive_time_is_taken_as_utc(value: str, local_time_not_utc: None) -> None:
    published = article(dated(value)).published
    assert published == datetime(2021, 3, 12, 9, 37, tzinfo=UTC)
    assert published.utcoffset().total_seconds() == 0


def test_rfc822_date_is_parsed() -> None:
    published = article(dated("'Fri, 12 Mar 2021 09:37:00 +0200'")).published
    assert published == datetime(2021, 3, 12, 7, 37, tzinfo=UTC)


def test_spelled_out_date_with_am_pm_is_parsed() -> None:
    published = article(dated("'March 12, 2021 9:37 PM'")).published
    assert published == datetime(2021, 3, 12, 21, 37, tzinfo=UTC)


def test_spelled_out_date_with_am_is_parsed() -> None:
    published = article(dated("March 12, 2021 9:37 AM")).published
    assert published == datetime(2021, 3, 12, 9, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["'12'", "March", "soon", "'2021'", "March 2021", "12 March", "'9:37 AM'", "'2021-03'"]
)
def test_partial_or_vague_date_is_rejected_not_invented(text: str) -> None:
    diagnostic = rejection(dated(text))
    assert diagnostic.line == 4
    assert "publishedDateTime" in diagnostic.message


def test_missing_date_is_rejected_on_line_1() -> None:
    diagnostic = rejection("title: T\nwebUrl: https://news.example.com/x\n")
    assert diagnostic.line == 1
    assert "publishedDateTime" in diagnostic.message


def test_unparseable_date_is_rejected_naming_its_line_and_value() -> None:
    diagnostic = rejection(dated("next tuesday-ish"))
    assert diagnostic.line == 4
    assert "next tuesday-ish" in diagnostic.message


def test_date_that_is_a_list_is_rejected() -> None:
    assert rejection(dated("[2021, 3, 12]")).line == 4


# --- links -------------------------------------------------------------------


def test_web_url_is_preferred_over_original_url() -> None:
    found = article(linked("webUrl: https://a.example/web\noriginalUrl: https://b.example/orig\n"))
    assert found.link == "https://a.example/web"


def test_original_url_is_used_when_web_url_is_missing() -> None:
    assert article(linked("originalUrl: https://b.example/orig\n")).link == (
        "https://b.example/orig"
    )


@pytest.mark.parametrize(
    "bad", ["/relative/path", "'javascript:alert(1)'", "'data:text/html,hi'", "file:///etc/passwd"]
)
def test_original_url_is_used_when_web_url_is_unusable(bad: str) -> None:
    found = article(linked(f"webUrl: {bad}\noriginalUrl: https://b.example/orig\n"))
    assert found.link == "https://b.example/orig"


@pytest.mark.parametrize(
    "bad", ["/relative/path", "'javascript:alert(1)'", "'data:text/html,hi'", "file:///etc/passwd"]
)
def test_unusable_web_url_is_rejected_naming_key_and_line(bad: str) -> None:
    diagnostic = rejection(linked(f"topics: [AI]\nwebUrl: {bad}\n"))
    assert diagnostic.line == 5
    assert diagnostic.message.startswith("webUrl")
    assert bad.strip("'") in diagnostic.message


def test_unusable_original_url_is_rejected_naming_key_and_line() -> None:
    diagnostic = rejection(linked("category: news\noriginalUrl: 'javascript:void(0)'\n"))
    assert diagnostic.line == 5
    assert diagnostic.message.startswith("originalUrl")


def test_empty_web_url_with_bad_original_url_names_original_url_line() -> None:
    diagnostic = rejection(linked("webUrl:\noriginalUrl: /relative/path\n"))
    assert "originalUrl" in diagnostic.message
    assert diagnostic.line == 5


def test_missing_link_is_rejected_on_line_1() -> None:
    diagnostic = rejection(linked("category: news\n"))
    assert diagnostic.line == 1
    assert "webUrl" in diagnostic.message


@pytest.mark.parametrize(
    ("given", "link"),
    [
        ("http://[::1]/a", "http://[::1]/a"),
        ("https://[2001:DB8::1]:8443/a", "https://[2001:db8::1]:8443/a"),
        ("https://[2001:db8::1]:443/a", "https://[2001:db8::1]/a"),
    ],
)
def test_ipv6_literal_host_is_a_usable_link(given: str, link: str) -> None:
    assert article(linked(f"webUrl: '{given}'\n")).link == link


@pytest.mark.parametrize("bad", ["http://[v1.x]/a", "http://[fe80::1%25eth0]/a", "http://[::1/a"])
def test_bracketed_host_that_is_no_plain_ipv6_address_is_rejected(bad: str) -> None:
    assert rejection(linked(f"webUrl: '{bad}'\n")).message.startswith("webUrl")


def test_html_entity_in_url_is_decoded() -> None:
    found = article(linked("webUrl: https://a.example/p?w=600&#038;h=400\n"))
    assert found.link == "https://a.example/p?w=600&h=400"


def test_amp_entity_in_url_is_decoded() -> None:
    assert article(linked("webUrl: https://a.example/p?a=1&amp;b=2\n")).link == (
        "https://a.example/p?a=1&b=2"
    )


def test_query_that_looks_like_an_entity_name_is_left_alone() -> None:
    assert article(linked("webUrl: https://a.example/p?a=1&copy=2\n")).link == (
        "https://a.example/p?a=1&copy=2"
    )


def test_entity_is_decoded_while_entity_like_query_name_is_kept() -> None:
    found = article(linked("webUrl: https://A.example/p?a=1&copy=2&#038;b=3#top\n"))
    assert found.link == "https://a.example/p?a=1&copy=2&b=3#top"


def test_canonical_id_drops_utm_parameters_and_fragment() -> None:
    found = article(
        linked("webUrl: https://a.example/p?utm_source=tw&id=7&UTM_Medium=social#comments\n")
    )
    assert found.id == "https://a.example/p?id=7"
    assert found.link == "https://a.example/p?utm_source=tw&id=7&UTM_Medium=social#comments"


def test_canonical_id_lower_cases_scheme_and_host_but_not_path() -> None:
    found = article(linked("webUrl: HTTPS://News.Example.COM/Some/Path\n"))
    assert found.id == "https://news.example.com/Some/Path"


def test_same_story_with_and_without_tracking_has_one_id() -> None:
    plain = article(linked("webUrl: https://a.example/p\n"))
    tracked = article(linked("webUrl: HTTPS://A.EXAMPLE/p?utm_campaign=x#top\n"))
    assert plain.id == tracked.id


# --- text repair -------------------------------------------------------------


def test_mojibake_open_quote_is_repaired() -> None:
    found = article(HEAD.replace("A title", "â€œAI for allâ€ says lab") + "excerpt: itâ€™s here\n")
    assert "â€" not in found.title
    assert found.title.startswith("“AI for all")
    assert found.excerpt == "it’s here"


def test_mojibake_close_quote_with_c1_byte_is_repaired() -> None:
    found = article(HEAD.replace("A title", '"â€œQuotedâ€\\x9d text"'))
    assert found.title == "“Quoted” text"


def test_html_entity_in_title_is_decoded() -> None:
    assert article(HEAD.replace("A title", "Q&amp;A with &#8220;experts&#8221;")).title == (
        "Q&A with “experts”"
    )


def test_xml_forbidden_control_characters_are_removed() -> None:
    front = HEAD.replace("A title", '"a\\x00b\\x08c\\x0bd\\x1fe"') + 'excerpt: "x\\x01y\\x0cz"\n'
    found = article(front)
    assert found.title == "abcde"
    assert found.excerpt == "xyz"

    # libyaml refuses surrogate escapes outright: YAML allows no surrogates.
    # libyaml refuses \\ud800 escapes outright (YAML allows no surrogates).
    front = HEAD.replace("A title", '"a\\ud800b"')
    result = parse_record(f"---\n{front}---\n".encode(), PATH)
    assert isinstance(result, Diagnostic)
    assert str(result).startswith(f"{PATH}:2: ")


def test_repair_removes_lone_surrogates_that_reach_it() -> None:
    # The pure-Python YAML loader (used where libyaml is missing) lets them through.
    assert repair("before\ud800after") == "beforeafter"


def test_white_space_in_title_is_folded() -> None:
    assert article(HEAD.replace("A title", '"  two\\n\\tlines  "')).title == "two lines"


# --- title -------------------------------------------------------------------


def test_missing_title_is_rejected_on_line_1() -> None:
    diagnostic = rejection(
        "publishedDateTime: 2021-03-12T09:37:00Z\nwebUrl: https://news.example.com/x\n"
    )
    assert diagnostic.line == 1
    assert "title" in diagnostic.message
    assert str(diagnostic).startswith(f"{PATH}:1: ")


@pytest.mark.parametrize(
    ("value", "word"), [("''", "empty"), ("'   '", "empty"), ("42", "number"), ("[a, b]", "list")]
)
def test_bad_title_is_rejected_naming_the_title_line(value: str, word: str) -> None:
    front = f"excerpt: x\nwebUrl: https://news.example.com/x\ntitle: {value}\n"
    diagnostic = rejection(front + "publishedDateTime: 2021-03-12T09:37:00Z\n")
    assert str(diagnostic).startswith(f"{PATH}:4: title")
    assert word in diagnostic.message


def test_title_of_only_forbidden_characters_is_rejected() -> None:
    diagnostic = rejection(HEAD.replace("A title", '"\\x01\\x02"'))
    assert diagnostic.line == 2


def test_article_line_is_the_title_line() -> None:
    assert article("excerpt: e\n\n" + HEAD).line == 4


# --- topics, drafts, unknown fields ------------------------------------------


def test_single_string_topic_becomes_one_topic() -> None:
    assert article(HEAD + "topics: Machine Learning\n").topics == ("Machine Learning",)


def test_topics_keep_order_and_drop_duplicates() -> None:
    assert article(HEAD + "topics: [ML, AI, ML]\n").topics == ("ML", "AI")


def test_non_string_topics_are_dropped_with_a_warning_naming_the_topics_line() -> None:
    result = accept(HEAD + "category: news\ntopics:\n  - AI\n  - 3\n  - {a: 1}\n  - Robots\n")
    assert result.article is not None
    assert result.article.topics == ("AI", "Robots")
    found = warnings_of(result)
    assert len(found) == 2
    assert {d.line for d in found} == {6}
    assert all(str(d).startswith(f"{PATH}:6: warning: topic") for d in found)


def test_published_false_makes_a_draft() -> None:
    assert article(HEAD + "published: false\n").draft is True


def test_published_true_or_absent_is_not_a_draft() -> None:
    assert article(HEAD + "published: true\n").draft is False
    assert article(HEAD).draft is False


def test_secured_and_unknown_fields_never_reach_the_article() -> None:
    front = HEAD + "secured: 'SECRET-TOKEN-123'\nmadeUpField: 'UNKNOWN-VALUE-456'\n"
    text = repr(dataclasses.asdict(article(front)))
    assert "SECRET-TOKEN-123" not in text
    assert "UNKNOWN-VALUE-456" not in text
    assert "secured" not in text
    assert "madeUpField" not in text


# --- provider ----------------------------------------------------------------


def test_provider_domain_is_the_key_and_name_is_kept() -> None:
    provider = article(HEAD + "provider:\n  name: Example News\n  domain: Example.ORG\n").provider
    assert provider is not None
    assert (provider.key, provider.name) == ("example.org", "Example News")


def test_provider_name_falls_back_to_domain() -> None:
    provider = article(HEAD + "provider:\n  domain: wire.example.net\n").provider
    assert provider is not None
    assert (provider.key, provider.name) == ("wire.example.net", "wire.example.net")


def test_provider_without_domain_is_keyed_by_link_host_without_www() -> None:
    front = linked("webUrl: https://www.daily.example.com/story\nprovider:\n  name: Daily\n")
    provider = article(front).provider
    assert provider is not None
    assert (provider.key, provider.name) == ("daily.example.com", "Daily")


@pytest.mark.parametrize(
    "domain", ["www.example.com", "Example.com", "https://WWW.example.com:8443/news", "example.com"]
)
def test_provider_domain_is_keyed_like_a_link_host(domain: str) -> None:
    provider = article(HEAD + f"provider:\n  name: Ex\n  domain: '{domain}'\n").provider
    assert provider is not None
    assert provider.key == "example.com"


def test_provider_without_domain_is_keyed_by_link_host_without_port() -> None:
    front = linked("webUrl: https://www.example.com:8443/story\nprovider:\n  name: Ex\n")
    provider = article(front).provider
    assert provider is not None
    assert provider.key == "example.com"


def test_provider_logo_comes_from_provider_images() -> None:
    front = HEAD + (
        "provider:\n  name: Ex\n  domain: ex.example\n  images:\n"
        "    - url: https://cdn.example/logo.png\n      width: 50\n      height: 40\n"
    )
    provider = article(front).provider
    assert provider is not None and provider.logo is not None
    assert provider.logo.url == "https://cdn.example/logo.png"
    assert (provider.logo.type, provider.logo.width, provider.logo.height) == (
        "image/png",
        50,
        40,
    )


def test_relative_logo_is_made_absolute_with_record_base_url() -> None:
    front = HEAD + "provider:\n  name: Ex\n  images:\n    - url: /assets/x.jpg\n"
    settings = ParseSettings(record_base_url="https://site.example/ai/")
    provider = article(front, settings).provider
    assert provider is not None and provider.logo is not None
    assert provider.logo.url == "https://site.example/ai/assets/x.jpg"


def test_relative_logo_without_base_url_is_dropped_with_a_warning() -> None:
    front = HEAD + "provider:\n  name: Ex\n  images:\n    - url: /assets/x.jpg\n"
    result = accept(front)
    assert result.article is not None and result.article.provider is not None
    assert result.article.provider.logo is None
    found = warnings_of(result)
    assert len(found) == 1
    assert found[0].line == 5
    assert str(found[0]).startswith(f"{PATH}:5: warning: ")


# --- images ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "media_type"),
    [
        ("https://i.example/a.png", "image/png"),
        ("https://i.example/a.jpeg", "image/jpeg"),
        ("https://i.example/a.GIF", "image/gif"),
        ("https://i.example/a.webp", "image/webp"),
    ],
)
def test_image_type_from_extension(url: str, media_type: str) -> None:
    assert with_images([url])[0].type == media_type


def test_format_query_parameter_wins_over_extension() -> None:
    assert with_images(["https://i.example/a.png?w=400&format=jpeg"])[0].type == "image/jpeg"


def test_fm_query_parameter_wins_over_extension() -> None:
    assert with_images(["https://i.example/a.jpg?fm=png&q=80"])[0].type == "image/png"


def test_type_from_percent_encoded_inner_path() -> None:
    images = with_images(
        [
            "https://i.example/imageserve/0x0.png%3FcropX1%3D0%26cropX2%3D800",
            "https://i.example/imageserve/0x0.gif%3Fformat%3Dpng",
        ]
    )
    assert [i.type for i in images] == ["image/png", "image/gif"]


def test_image_type_defaults_to_jpeg() -> None:
    images = with_images(["https://i.example/render", "https://i.example/img.php?id=3"])
    assert [i.type for i in images] == ["image/jpeg", "image/jpeg"]


def test_image_width_and_height_kept_when_numbers() -> None:
    front = HEAD + (
        "images:\n"
        "  - url: https://i.example/a.png\n    width: 800\n    height: 600\n"
        "  - url: https://i.example/b.png\n    width: wide\n    height: [1]\n"
    )
    sizes = [(i.width, i.height) for i in article(front).images]
    assert sizes == [(800, 600), (None, None)]


def test_image_url_entities_are_decoded() -> None:
    url = "https://i.example/a.jpg?w=600&#038;h=600"
    assert with_images([url])[0].url == "https://i.example/a.jpg?w=600&h=600"


# --- related -----------------------------------------------------------------


def test_related_entries_need_title_and_link() -> None:
    front = HEAD + (
        "related:\n"
        "  - title: Kept one\n    webUrl: https://r.example/1\n    provider: {name: Wire}\n"
        "  - title: No link\n"
        "  - webUrl: https://r.example/no-title\n"
        "  - title: Bad link\n    webUrl: 'javascript:x'\n"
        "  - title: Kept two\n    originalUrl: https://r.example/2\n"
        "  - just a string\n"
    )
    related = article(front).related
    assert [(r.title, r.link) for r in related] == [
        ("Kept one", "https://r.example/1"),
        ("Kept two", "https://r.example/2"),
    ]
    assert related[0].provider == "Wire"


# --- read_articles over a folder ---------------------------------------------


def test_read_articles_accepts_good_and_reports_bad_records(seeds: Path, write_record) -> None:
    write_record("a.md", article_fields(1))
    write_record("sub/b.txt", article_fields(2, title=None))
    write_record("c", article_fields(3, published=False))
    report = read_articles(seeds)
    assert report.records == 3
    assert [a.title for a in report.articles] == ["Article 1", "Article 3"]
    assert [a.draft for a in report.articles] == [False, True]
    assert report.rejected == 1
    assert str(report.diagnostics[0]) == f"{seeds}/sub/b.txt:1: missing title"


def test_read_articles_names_the_line_of_a_bad_field(seeds: Path, write_record) -> None:
    fields = article_fields(1, publishedDateTime="sometime")
    path = write_record("a.md", fields)
    report = read_articles(seeds)
    assert report.articles == ()
    line = path.read_text().splitlines().index("publishedDateTime: sometime") + 1
    assert [d.line for d in report.diagnostics] == [line]


def test_read_articles_applies_record_base_url(seeds: Path, write_record) -> None:
    provider = {"name": "Ex", "domain": "ex.example", "images": [{"url": "/assets/ex.png"}]}
    write_record("a.md", article_fields(1, provider=provider))
    with_base = read_articles(seeds, ParseSettings(record_base_url="https://s.example/ai/"))
    without = read_articles(seeds)
    logo = with_base.articles[0].provider.logo
    assert logo is not None and logo.url == "https://s.example/ai/assets/ex.png"
    assert without.articles[0].provider.logo is None
    assert [d.severity for d in without.diagnostics] == [Severity.WARNING]


def test_read_articles_skips_hidden_files(seeds: Path, write_record) -> None:
    write_record("a.md", article_fields(1))
    write_record(".draft.md", article_fields(2))
    write_record(".trash/b.md", article_fields(3))
    assert [a.title for a in read_articles(seeds).articles] == ["Article 1"]


# --- the real corpus ---------------------------------------------------------


def test_corpus_every_record_is_accepted(corpus: Path) -> None:
    report = read_articles(corpus)
    assert report.records == 200
    assert report.rejected == 0, [str(d) for d in report.diagnostics if d.severity == "error"]
    assert len(report.articles) == 200


def test_corpus_has_66_drafts(corpus: Path) -> None:
    report = read_articles(corpus)
    assert sum(a.draft for a in report.articles) == 66


def test_corpus_image_urls_written_with_html_entities_come_out_with_ampersands(
    corpus: Path,
) -> None:
    # The only entities in the corpus: two WordPress image URLs with '&#038;'.
    images = {Path(a.path).name: [i.url for i in a.images] for a in read_articles(corpus).articles}
    hackaday = (
        "archive__2019-12-23-help-computer-vision-researchers-get-a-3d-model-of-your-living-room.md"
    )
    inc42 = "archive__2019-12-27-how-artificial-intelligence-is-transforming-small-businesses.md"
    assert images[hackaday] == [
        "https://hackaday.com/wp-content/uploads/2020/01/old-computer-mouse-thumb.jpg?w=600&h=600"
    ]
    assert images[inc42] == [
        "https://i2.wp.com/cdn.inc42.com/wp-content/uploads/2019/12/"
        "Untitled-design-2019-12-15T010933.942.jpg?fit=1200%2C628&ssl=1"
    ]
