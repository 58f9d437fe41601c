"""config.load_config: the feed definitions, their defaults and every mistake they can hold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import BASE_URL, SHIPPED_FEEDS
from feedloom.articles import Article, Provider
from feedloom.config import Config, ConfigError, Overrides, load_config
from feedloom.diagnostics import Diagnostic
from feedloom.formats import FORMATS
from feedloom.select import select

KNOWN = tuple(FORMATS)


def load(feeds: Path, overrides: Overrides | None = None) -> Config:
    return load_config(feeds, KNOWN, overrides)


def problems_of(feeds: Path, overrides: Overrides | None = None) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as caught:
        load(feeds, overrides)
    problems = caught.value.problems
    assert problems, "a ConfigError must name at least one problem"
    return problems


def append(path: Path, text: str) -> int:
    """Append lines to a definition file; returns the line number of the first one added."""
    before = path.read_text(encoding="utf-8")
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


def replace_line(path: Path, starts_with: str, new: str) -> int:
    """Replace the line starting with ``starts_with``; returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.startswith(starts_with):
            lines[number - 1] = new
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return number
    raise AssertionError(f"{path} has no line starting with {starts_with!r}")


def delete_line(path: Path, starts_with: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(starts_with)]
    assert len(kept) == len(lines) - 1, f"{path} has no line starting with {starts_with!r}"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def the_problem(problems: list[Diagnostic], file: Path, key: str) -> Diagnostic:
    """The problem about ``file`` whose message names ``key``."""
    found = [p for p in problems if Path(p.path).name == file.name and key in p.message]
    assert found, f"no problem names {file.name} and {key!r}: {[str(p) for p in problems]}"
    return found[0]


def assert_reported(problems: list[Diagnostic], file: Path, line: int, key: str) -> Diagnostic:
    problem = the_problem(problems, file, key)
    assert Path(problem.path) == file
    assert problem.line == line, str(problem)
    assert str(problem).startswith(f"{file}:{line}: "), str(problem)
    return problem


def article(n: int, **fields) -> Article:
    link = f"https://news.example.com/articles/{n}"
    values = {
        "id": link,
        "link": link,
        "title": f"Article {n}",
        "published": datetime(2021, 3, 1, 9, n, tzinfo=UTC),
        "path": f"seeds/{n:03d}.md",
        "line": 2,
        "provider": Provider("news.example.com", "Example News"),
        "topics": ("AI",),
        "category": "news",
    }
    values.update(fields)
    return Article(**values)


# --- the shipped definitions ---------------------------------------------------------


def test_shipped_feeds_load_with_four_families_and_a_custom_feed():
    config = load(SHIPPED_FEEDS)
    assert sorted(spec.kind for spec in config.specs) == [
        "all",
        "categories",
        "custom",
        "providers",
        "topics",
    ]


def test_shipped_families_group_by_what_their_name_says():
    config = load(SHIPPED_FEEDS)
    grouping = {spec.kind: spec.group_by for spec in config.specs}
    assert grouping == {
        "all": None,
        "topics": "topic",
        "providers": "provider",
        "categories": "category",
        "custom": None,
    }


def test_shipped_site_settings_are_read():
    site = load(SHIPPED_FEEDS).site
    assert site.title == "A.I. Every Day"
    assert site.base_url == BASE_URL
    assert site.limit == 50
    assert site.formats == ("rss", "atom", "json")
    assert site.record_base_url == "https://everyday-cc.github.io/ai/"


def test_spec_source_names_its_file(feeds_dir):
    config = load(feeds_dir)
    sources = {spec.kind: Path(spec.source) for spec in config.specs}
    assert sources["topics"] == feeds_dir / "topics.yaml"


# --- unknown keys --------------------------------------------------------------------


def test_unknown_key_in_site_file_names_file_line_and_key(feeds_dir):
    site = feeds_dir / "site.yaml"
    line = append(site, "colour: red\n")
    problem = assert_reported(problems_of(feeds_dir), site, line, "colour")
    assert "unknown key" in problem.message


def test_unknown_key_in_family_file_names_file_line_and_key(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    line = append(topics, "group_key: topic\n")
    problem = assert_reported(problems_of(feeds_dir), topics, line, "group_key")
    assert "unknown key" in problem.message


# --- wrong types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit", '"ten"'),
        ("limit", "-1"),
        ("base_url", '"ftp://feeds.example.org/ai/"'),
        ("base_url", '"feeds/ai/"'),
        ("title", '"A.I.\\x01 Every Day"'),  # a control character XML cannot carry
    ],
)
def test_bad_site_value_is_reported_at_its_line(feeds_dir, key, value):
    site = feeds_dir / "site.yaml"
    line = replace_line(site, f"{key}:", f"{key}: {value}")
    assert_reported(problems_of(feeds_dir), site, line, key)


def test_family_limit_as_text_is_reported(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    line = append(topics, 'limit: "ten"\n')
    assert_reported(problems_of(feeds_dir), topics, line, "limit")


def test_unknown_format_is_reported(feeds_dir):
    site = feeds_dir / "site.yaml"
    line = replace_line(site, "formats:", "formats: [xml]")
    problem = assert_reported(problems_of(feeds_dir), site, line, "formats")
    assert "xml" in problem.message


# --- templates and URLs ----------------------------------------------------------------


def test_unknown_template_placeholder_is_reported(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    line = replace_line(topics, "title:", 'title: "{nope}"')
    problem = assert_reported(problems_of(feeds_dir), topics, line, "title")
    assert "{nope}" in problem.message


def test_known_template_placeholders_are_accepted(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    replace_line(topics, "title:", 'title: "{site} / {label} / {key}"')
    spec = next(s for s in load(feeds_dir).specs if s.kind == "topics")
    assert spec.title == "{site} / {label} / {key}"


def test_invalid_base_url_is_not_also_reported_as_missing(feeds_dir):
    site = feeds_dir / "site.yaml"
    replace_line(site, "base_url:", 'base_url: "ftp://feeds.example.org/ai/"')
    messages = [str(p) for p in problems_of(feeds_dir)]
    assert len(messages) == 1, messages


def test_missing_base_url_is_reported(feeds_dir):
    site = feeds_dir / "site.yaml"
    delete_line(site, "base_url:")
    problem = the_problem(problems_of(feeds_dir), site, "base_url")
    assert "required" in problem.message


def test_base_url_gets_a_trailing_slash(feeds_dir):
    site = feeds_dir / "site.yaml"
    replace_line(site, "base_url:", 'base_url: "https://feeds.example.org/ai"')
    assert load(feeds_dir).site.base_url == "https://feeds.example.org/ai/"


def test_self_urls_are_built_under_base_url(feeds_dir):
    site = feeds_dir / "site.yaml"
    replace_line(site, "base_url:", 'base_url: "https://feeds.example.org/ai"')
    config = load(feeds_dir)
    assert config.site.url_for("topics/ai.rss") == "https://feeds.example.org/ai/topics/ai.rss"


# --- missing files and keys --------------------------------------------------------------


def test_missing_site_file_is_reported(feeds_dir):
    site = feeds_dir / "site.yaml"
    site.unlink()
    problems = problems_of(feeds_dir)
    assert any(Path(p.path) == site for p in problems), [str(p) for p in problems]


def test_missing_kind_is_reported(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    delete_line(topics, "kind:")
    problem = the_problem(problems_of(feeds_dir), topics, "kind")
    assert "required" in problem.message


def test_slug_with_group_by_names_the_slug_line(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    line = append(topics, "slug: topics\n")
    assert_reported(problems_of(feeds_dir), topics, line, "slug")


def test_two_families_in_one_folder_are_rejected_naming_both_files(feeds_dir):
    clash = feeds_dir / "zz-tags.yaml"
    clash.write_text("kind: tags\ngroup_by: topic\nfolder: topics\n", encoding="utf-8")
    problems = problems_of(feeds_dir)
    text = "\n".join(map(str, problems))
    assert "zz-tags.yaml" in text
    assert "topics.yaml" in text


def test_two_single_feeds_with_one_slug_are_rejected(feeds_dir):
    clash = feeds_dir / "zz-everything.yaml"
    clash.write_text("kind: everything\nslug: all\n", encoding="utf-8")
    text = "\n".join(map(str, problems_of(feeds_dir)))
    assert "zz-everything.yaml" in text
    assert "all.yaml" in text


def test_two_families_in_one_folder_name_the_folder_line_and_key(feeds_dir):
    clash = feeds_dir / "zz-tags.yaml"
    clash.write_text("kind: tags\ngroup_by: topic\nfolder: topics\n", encoding="utf-8")
    assert_reported(problems_of(feeds_dir), clash, 3, "folder")


def test_yaml_syntax_error_names_its_line(feeds_dir):
    topics = feeds_dir / "topics.yaml"
    line = replace_line(topics, "group_by:", "group_by: topic: x")
    problems = problems_of(feeds_dir)
    problem = next(p for p in problems if Path(p.path) == topics)
    assert problem.line == line, str(problem)
    assert "YAML" in problem.message


def test_site_file_tagged_as_a_set_is_a_config_error_naming_the_file(feeds_dir):
    site = feeds_dir / "site.yaml"
    site.write_text("!!set {title, base_url}\n", encoding="utf-8")
    problems = problems_of(feeds_dir)
    assert [str(p) for p in problems] == [f"{site}:1: not a mapping of fields"]


def test_every_mistake_is_reported_at_once(feeds_dir):
    site, topics = feeds_dir / "site.yaml", feeds_dir / "topics.yaml"
    replace_line(site, "limit:", "limit: -1")
    append(topics, "colour: red\n")
    problems = problems_of(feeds_dir)
    assert {Path(p.path) for p in problems} >= {site, topics}


# --- overrides -----------------------------------------------------------------------


def test_override_base_url_wins_and_gets_a_slash(feeds_dir):
    site = load(feeds_dir, Overrides(base_url="https://mirror.example.net/x")).site
    assert site.base_url == "https://mirror.example.net/x/"


def test_override_limit_wins(feeds_dir):
    assert load(feeds_dir, Overrides(limit=7)).site.limit == 7


def test_override_limit_zero_wins(feeds_dir):
    assert load(feeds_dir, Overrides(limit=0)).site.limit == 0


def test_override_formats_win(feeds_dir):
    assert load(feeds_dir, Overrides(formats=("atom",))).site.formats == ("atom",)


def test_no_overrides_keep_site_file(feeds_dir):
    site = load(feeds_dir, Overrides()).site
    assert (site.base_url, site.limit, site.formats) == (BASE_URL, 50, ("rss", "atom"))


def test_override_base_url_replaces_a_missing_one(feeds_dir):
    delete_line(feeds_dir / "site.yaml", "base_url:")
    site = load(feeds_dir, Overrides(base_url="https://mirror.example.net/")).site
    assert site.base_url == "https://mirror.example.net/"


# --- families are data ------------------------------------------------------------------


def test_without_categories_file_no_category_feeds_are_planned(feeds_dir):
    articles = [article(1), article(2, category="opinion")]
    before = {plan.kind for plan in select(articles, load(feeds_dir)).plans}
    assert "categories" in before
    (feeds_dir / "categories.yaml").unlink()
    plans = select(articles, load(feeds_dir)).plans
    assert "categories" not in {plan.kind for plan in plans}
    assert not any(plan.path.startswith("categories/") for plan in plans)
    assert {plan.kind for plan in plans} == {"all", "topics", "providers"}


def test_new_family_file_grouped_by_type_plans_a_feed_per_type(feeds_dir):
    (feeds_dir / "types.yaml").write_text(
        'kind: types\ngroup_by: type\ntitle: "{site}: {label}s"\n', encoding="utf-8"
    )
    config = load(feeds_dir)
    assert "types" in {spec.kind for spec in config.specs}
    articles = [
        article(1, type="Review"),
        article(2, type="Review"),
        article(3, type="Interview"),
        article(4),
    ]
    plans = {p.path: p for p in select(articles, config).plans if p.kind == "types"}
    assert sorted(plans) == ["types/interview", "types/review"]
    assert len(plans["types/review"].items) == 2
    assert len(plans["types/interview"].items) == 1
    assert plans["types/review"].title == "A.I. Every Day: Reviews"


# --- filters ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["[]", "{any: []}", "{all: []}"])
def test_an_empty_filter_list_is_a_mistake_not_a_filter_that_takes_everything(feeds_dir, value):
    custom = feeds_dir / "mine.yaml"
    custom.write_text(f"kind: mine\nfilter:\n  topics: {value}\n")
    problem = assert_reported(problems_of(feeds_dir), custom, 2, "filter")
    assert "at least one" in problem.message


def test_provider_filters_are_domains_however_they_are_written(feeds_dir):
    custom = feeds_dir / "mine.yaml"
    custom.write_text(
        "kind: mine\nfilter:\n  providers: [News.Example.com, 'https://robots.example.io/']\n"
    )
    spec = next(s for s in load(feeds_dir).specs if s.kind == "mine")
    assert spec.filter.providers == ("news.example.com", "robots.example.io")


def test_provider_filters_take_the_form_of_link_hosts(feeds_dir):
    custom = feeds_dir / "mine.yaml"
    custom.write_text(
        "kind: mine\nfilter:\n  providers: [www.example.com, 'https://WWW.Example.com:8443/']\n"
    )
    spec = next(s for s in load(feeds_dir).specs if s.kind == "mine")
    assert spec.filter.providers == ("example.com",)


def test_filter_texts_are_repaired_as_record_texts_are(feeds_dir):
    custom = feeds_dir / "mine.yaml"
    custom.write_text(
        "kind: mine\nfilter:\n"
        "  topics: ['Climate\u00a0change', ' Deep  dive ']\n"
        "  categories: [Caf\u0065\u0301]\n"
        "  types: [R&amp;D]\n",
        encoding="utf-8",
    )
    rule = next(s for s in load(feeds_dir).specs if s.kind == "mine").filter
    assert rule.topics_any == ("Climate change", "Deep dive")
    assert rule.categories == ("Caf\u00e9",)
    assert rule.types == ("R&D",)


@pytest.mark.parametrize("value", ["['\u00a0']", '["\\x07"]'])
def test_a_filter_text_that_repair_leaves_empty_is_a_mistake(feeds_dir, value):
    custom = feeds_dir / "mine.yaml"
    custom.write_text(f"kind: mine\nfilter:\n  categories: {value}\n", encoding="utf-8")
    problem = assert_reported(problems_of(feeds_dir), custom, 2, "filter")
    assert "list of text" in problem.message
