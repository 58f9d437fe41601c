"""select.select: which articles go into which feed, in what order, under what name."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import article_fields
from feedloom.api import read_articles
from feedloom.articles import Article, Image, Provider
from feedloom.config import Config, Overrides, load_config
from feedloom.diagnostics import Severity
from feedloom.formats import FORMATS
from feedloom.select import FeedPlan, Selection, assign_slugs, select

T0 = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
NEWS = Provider("news.example.com", "Example News", "https://news.example.com/")
DAILY = Provider("daily.example.org", "The Daily", "https://daily.example.org/")


def make(
    n: int,
    *,
    at: datetime | None = None,
    link: str | None = None,
    provider: Provider | None = NEWS,
    topics: tuple[str, ...] = ("AI",),
    category: str | None = "news",
    path: str | None = None,
    **fields,
) -> Article:
    """An article; ``n`` makes its link, title, path and (by default) time distinct."""
    link = link or f"https://news.example.com/articles/{n}"
    return Article(
        id=link,
        link=link,
        title=f"Article {n}",
        published=at or T0 + timedelta(hours=n),
        path=path or f"seeds/{n:03d}.md",
        line=2,
        provider=provider,
        topics=topics,
        category=category,
        **fields,
    )


@pytest.fixture
def config(feeds_dir: Path) -> Config:
    return load_config(feeds_dir, FORMATS)


def plans_of(selection: Selection, kind: str) -> dict[str, FeedPlan]:
    return {plan.key: plan for plan in selection.plans if plan.kind == kind}


def the_all_feed(selection: Selection) -> FeedPlan:
    (plan,) = (p for p in selection.plans if p.kind == "all")
    return plan


def titles(plan: FeedPlan) -> list[str]:
    return [a.title for a in plan.items]


# --- order ---------------------------------------------------------------------------


def test_items_are_newest_first(config):
    articles = [make(2), make(5), make(1), make(4), make(3)]
    plan = the_all_feed(select(articles, config))
    assert titles(plan) == ["Article 5", "Article 4", "Article 3", "Article 2", "Article 1"]


def test_equal_times_are_ordered_by_link(config):
    articles = [
        make(1, at=T0, link="https://c.example.com/x"),
        make(2, at=T0, link="https://a.example.com/x"),
        make(3, at=T0, link="https://b.example.com/x"),
    ]
    plan = the_all_feed(select(articles, config))
    assert [a.link for a in plan.items] == [
        "https://a.example.com/x",
        "https://b.example.com/x",
        "https://c.example.com/x",
    ]


def test_order_does_not_depend_on_input_order(config):
    articles = [make(n, at=T0 + timedelta(hours=n % 3)) for n in range(1, 10)]
    forward = the_all_feed(select(articles, config))
    backward = the_all_feed(select(list(reversed(articles)), config))
    assert forward.items == backward.items


def test_plan_newest_is_its_first_items_time(config):
    plan = the_all_feed(select([make(1), make(7), make(3)], config))
    assert plan.newest == T0 + timedelta(hours=7)


# --- limit ---------------------------------------------------------------------------


def test_site_limit_cuts_every_feed_to_the_newest(feeds_dir):
    config = load_config(feeds_dir, FORMATS, Overrides(limit=2))
    selection = select([make(n) for n in range(1, 6)], config)
    for plan in selection.plans:
        assert titles(plan) == ["Article 5", "Article 4"], plan.path


def test_site_limit_from_site_file_applies(feeds_dir):
    site = feeds_dir / "site.yaml"
    site.write_text(site.read_text().replace("limit: 50", "limit: 3"))
    selection = select([make(n) for n in range(1, 6)], load_config(feeds_dir, FORMATS))
    assert titles(the_all_feed(selection)) == ["Article 5", "Article 4", "Article 3"]


def test_limit_applies_per_feed_not_to_the_whole_selection(feeds_dir):
    config = load_config(feeds_dir, FORMATS, Overrides(limit=2))
    articles = [make(n, topics=("Robots",)) for n in (1, 2, 3)] + [
        make(n, topics=("Vision",)) for n in (4, 5, 6)
    ]
    topics = plans_of(select(articles, config), "topics")
    assert titles(topics["Robots"]) == ["Article 3", "Article 2"]
    assert titles(topics["Vision"]) == ["Article 6", "Article 5"]


def test_family_limit_wins_over_site_limit(feeds_dir):
    with (feeds_dir / "topics.yaml").open("a") as f:
        f.write("limit: 1\n")
    selection = select([make(n) for n in range(1, 6)], load_config(feeds_dir, FORMATS))
    assert titles(plans_of(selection, "topics")["AI"]) == ["Article 5"]
    assert len(the_all_feed(selection).items) == 5


def test_family_limit_zero_means_all_despite_site_limit(feeds_dir):
    with (feeds_dir / "topics.yaml").open("a") as f:
        f.write("limit: 0\n")
    config = load_config(feeds_dir, FORMATS, Overrides(limit=2))
    selection = select([make(n) for n in range(1, 6)], config)
    assert len(plans_of(selection, "topics")["AI"].items) == 5
    assert len(the_all_feed(selection).items) == 2


def test_limit_zero_means_all(feeds_dir):
    config = load_config(feeds_dir, FORMATS, Overrides(limit=0))
    selection = select([make(n) for n in range(1, 81)], config)
    assert len(the_all_feed(selection).items) == 80


def test_default_limit_is_fifty(config):
    selection = select([make(n) for n in range(1, 81)], config)
    plan = the_all_feed(selection)
    assert len(plan.items) == 50
    assert plan.items[0].title == "Article 80"


# --- drafts --------------------------------------------------------------------------


def test_drafts_are_left_out(config):
    articles = [make(1), make(2, draft=True), make(3)]
    selection = select(articles, config)
    assert titles(the_all_feed(selection)) == ["Article 3", "Article 1"]
    assert selection.drafts == 1
    assert selection.articles == 2


def test_drafts_are_in_with_include_drafts(config):
    articles = [make(1), make(2, draft=True), make(3)]
    selection = select(articles, config, include_drafts=True)
    assert titles(the_all_feed(selection)) == ["Article 3", "Article 2", "Article 1"]
    assert selection.drafts == 0


def test_a_draft_only_topic_gets_no_feed(config):
    articles = [make(1), make(2, topics=("Secret",), draft=True)]
    assert "Secret" not in plans_of(select(articles, config), "topics")


# --- duplicates ----------------------------------------------------------------------


SAME = "https://news.example.com/story"


def test_duplicate_published_last_wins(config):
    older = make(1, link=SAME, path="seeds/a.md")
    newer = make(2, link=SAME, path="seeds/b.md")
    selection = select([older, newer], config)
    assert the_all_feed(selection).items == (newer,)
    assert selection.articles == 1


def test_duplicate_with_equal_times_goes_to_path_that_sorts_first(config):
    first = make(1, at=T0, link=SAME, path="seeds/a.md")
    second = make(2, at=T0, link=SAME, path="seeds/b.md")
    for articles in ([first, second], [second, first]):
        assert the_all_feed(select(articles, config)).items == (first,)


def test_duplicate_notice_names_loser_place_and_winner_path(config):
    loser = make(1, link=SAME, path="seeds/2021/old-copy.md")
    winner = make(2, link=SAME, path="seeds/2021/new-copy.md")
    (notice,) = select([loser, winner], config).duplicates
    assert notice.severity is Severity.NOTICE
    assert (notice.path, notice.line) == (loser.path, loser.line)
    assert str(notice).startswith(f"{loser.path}:{loser.line}:")
    assert winner.path in notice.message


def test_distinct_links_are_not_duplicates(config):
    selection = select([make(1), make(2)], config)
    assert selection.duplicates == ()
    assert selection.articles == 2


def test_duplicates_in_every_feed_are_merged(config):
    a = make(1, link=SAME, topics=("AI",), path="seeds/a.md")
    b = make(2, link=SAME, topics=("AI",), path="seeds/b.md")
    for plan in select([a, b], config).plans:
        assert plan.items == (b,), plan.path


# --- grouping ------------------------------------------------------------------------


def test_one_feed_per_topic(config):
    articles = [
        make(1, topics=("AI", "Robots")),
        make(2, topics=("Robots",)),
        make(3, topics=("Vision", "AI")),
    ]
    topics = plans_of(select(articles, config), "topics")
    assert sorted(topics) == ["AI", "Robots", "Vision"]
    assert titles(topics["AI"]) == ["Article 3", "Article 1"]
    assert titles(topics["Robots"]) == ["Article 2", "Article 1"]
    assert titles(topics["Vision"]) == ["Article 3"]


def test_one_feed_per_provider_keyed_by_domain(config):
    renamed = Provider("news.example.com", "Example News Ltd", "https://news.example.com/")
    articles = [make(1), make(2, provider=DAILY), make(3, provider=renamed)]
    providers = plans_of(select(articles, config), "providers")
    assert sorted(providers) == ["daily.example.org", "news.example.com"]
    assert titles(providers["news.example.com"]) == ["Article 3", "Article 1"]


def test_provider_label_is_the_newest_articles_name(config):
    old_name = Provider("news.example.com", "Old Name", "https://news.example.com/")
    new_name = Provider("news.example.com", "New Name", "https://news.example.com/")
    articles = [make(2, provider=new_name), make(1, provider=old_name), make(0, provider=old_name)]
    plan = plans_of(select(articles, config), "providers")["news.example.com"]
    assert plan.label == "New Name"
    assert plan.title == "New Name on A.I. Every Day"
    assert plan.description == "Articles from New Name (news.example.com), newest first."


def test_provider_feed_logo_is_the_newest_that_has_one(config):
    old = Image("https://news.example.com/old.png", "image/png", 32, 32)
    new = Image("https://news.example.com/new.png", "image/png", 32, 32)
    articles = [
        make(1, provider=Provider(NEWS.key, NEWS.name, NEWS.url, old)),
        make(2, provider=Provider(NEWS.key, NEWS.name, NEWS.url, new)),
        make(3, provider=NEWS),
    ]
    plan = plans_of(select(articles, config), "providers")["news.example.com"]
    assert plan.logo == new


def test_one_feed_per_category(config):
    articles = [make(1, category="news"), make(2, category="opinion"), make(3, category="news")]
    categories = plans_of(select(articles, config), "categories")
    assert sorted(categories) == ["news", "opinion"]
    assert titles(categories["news"]) == ["Article 3", "Article 1"]


def test_group_counts_match_an_independent_count(feeds_dir):
    config = load_config(feeds_dir, FORMATS, Overrides(limit=0))
    topic_sets = [("AI",), ("AI", "Robots"), ("Vision",), (), ("Robots", "Vision", "AI")]
    providers = [NEWS, DAILY, None]
    categories = ["news", "opinion", None, "news"]
    articles = [
        make(
            n,
            topics=topic_sets[n % len(topic_sets)],
            provider=providers[n % len(providers)],
            category=categories[n % len(categories)],
        )
        for n in range(1, 41)
    ]
    selection = select(articles, config)
    expected = {
        "topics": Counter(t for a in articles for t in a.topics),
        "providers": Counter(a.provider.key for a in articles if a.provider),
        "categories": Counter(a.category for a in articles if a.category),
    }
    for kind, counts in expected.items():
        found = {key: len(plan.items) for key, plan in plans_of(selection, kind).items()}
        assert found == dict(counts), kind
    assert len(the_all_feed(selection).items) == 40


def test_article_without_provider_topics_or_category_is_only_in_all(config):
    bare = make(9, provider=None, topics=(), category=None)
    selection = select([make(1), bare], config)
    holding = [plan.kind for plan in selection.plans if bare in plan.items]
    assert holding == ["all"]


def test_no_articles_plan_no_feeds(config):
    assert select([], config).plans == ()


def test_topic_title_uses_the_template(config):
    plan = plans_of(select([make(1, topics=("Robots",))], config), "topics")["Robots"]
    assert plan.title == "A.I. Every Day: Robots"
    assert plan.description == "Articles about Robots, newest first."


# --- slugs ---------------------------------------------------------------------------


def topic_slug(config: Config, topic: str, *others: str) -> str:
    articles = [make(n, topics=(t,)) for n, t in enumerate((topic, *others), start=1)]
    return plans_of(select(articles, config), "topics")[topic].slug


def test_slug_is_lower_case_ascii(config):
    assert topic_slug(config, "Machine Learning") == "machine-learning"


def test_slug_is_transliterated(config):
    assert topic_slug(config, "Künstliche Intelligenz") == "kunstliche-intelligenz"


def test_slug_is_never_empty(config):
    assert topic_slug(config, "???").startswith("untitled-")


def test_slugs_of_keys_that_slugify_alike_differ(config):
    topics = plans_of(select([make(1, topics=("C", "C++"))], config), "topics")
    assert topics["C"].slug != topics["C++"].slug


def test_faithful_key_gets_the_plain_slug(config):
    for order in (("C", "C++"), ("C++", "C")):
        topics = plans_of(select([make(1, topics=order)], config), "topics")
        assert topics["C"].slug == "c"
        assert topics["C++"].slug.startswith("c-")


def test_assign_slugs_is_deterministic():
    # 'ai' and 'AI' both spell 'ai' faithfully, so which one keeps the plain
    # slug must not depend on the order the keys arrive in.
    keys = ["ai", "AI", "C++"]
    assert assign_slugs(keys) == assign_slugs(list(reversed(keys)))


def test_rival_slug_does_not_depend_on_which_keys_exist():
    with_c = assign_slugs(["C", "C++"])["C++"]
    without_c = assign_slugs(["C++"])["C++"]
    assert with_c == without_c


def test_topic_feed_path_of_a_rival_does_not_depend_on_other_topics(config):
    assert topic_slug(config, "C++") == topic_slug(config, "C++", "C")


def test_rival_slug_does_not_depend_on_other_rivals():
    assert assign_slugs(["C", "C++"])["C++"] == assign_slugs(["C", "C#", "C++"])["C++"]


def test_assigned_slugs_are_unique():
    keys = ["C", "C++", "C#", "c", "???", "!!!", "", "AI", "ai", "A.I."]
    slugs = assign_slugs(keys)
    assert len(set(slugs.values())) == len(set(keys))


@pytest.mark.parametrize("key", ["CON", "con", "nul", "NUL", "Aux", "prn", "com1", "LPT9"])
def test_windows_device_names_never_become_bare_slugs(key):
    slug = assign_slugs([key])[key]
    assert slug.lower() not in {"con", "prn", "aux", "nul", "com1", "lpt9"}
    assert slug.startswith(key.lower())


def test_windows_device_name_topic_path_is_not_bare(config):
    plan = plans_of(select([make(1, topics=("CON",))], config), "topics")["CON"]
    assert plan.path != "topics/con"
    assert plan.path.startswith("topics/con-")


@pytest.mark.parametrize("key", ["../../etc", "/abs", "..", "a/../../b", "\\\\server\\share"])
def test_path_like_keys_stay_inside_their_folder(config, key):
    plan = plans_of(select([make(1, topics=(key,))], config), "topics")[key]
    assert ".." not in plan.path
    assert not plan.path.startswith("/")
    assert "\\" not in plan.path
    assert plan.path.startswith("topics/")
    assert "/" not in plan.slug


def test_long_key_slug_is_at_most_sixty_characters():
    key = "deep " * 40
    slug = assign_slugs([key])[key]
    assert 0 < len(slug) <= 60
    assert not slug.endswith("-")


def test_long_keys_alike_in_their_first_sixty_characters_stay_within_sixty():
    first, second = "x" * 70, "x" * 65 + "y"
    slugs = assign_slugs([first, second])
    assert slugs[first] != slugs[second]
    assert all(len(slug) <= 60 for slug in slugs.values()), slugs


@pytest.mark.parametrize(
    "key", ["C++", "Künstliche Intelligenz", "???", "CON", "../../etc", "日本語", "x" * 200]
)
def test_every_slug_is_a_safe_file_name(key):
    slug = assign_slugs([key, "C", "c"])[key]
    assert slug
    assert slug.isascii()
    assert slug == slug.lower()
    assert all(ch.isalnum() or ch == "-" for ch in slug)


# --- paths and sources --------------------------------------------------------------


def test_plan_path_is_folder_and_slug(config):
    article = make(1, topics=("Machine Learning",), category="Deep Dives")
    selection = select([article], config)
    paths = {plan.kind: plan.path for plan in selection.plans}
    assert paths == {
        "all": "all",
        "topics": "topics/machine-learning",
        "providers": "providers/news-example-com",
        "categories": "categories/deep-dives",
    }
    for plan in selection.plans:
        folder = {"all": ""}.get(plan.kind, plan.kind)
        assert plan.path == (f"{folder}/{plan.slug}" if folder else plan.slug)


def test_sources_map_provider_key_to_provider_feed_path(config):
    articles = [make(1), make(2, provider=DAILY), make(3, provider=None)]
    selection = select(articles, config)
    provider_paths = {key: plan.path for key, plan in plans_of(selection, "providers").items()}
    assert provider_paths == {
        "news.example.com": "providers/news-example-com",
        "daily.example.org": "providers/daily-example-org",
    }
    assert dict(the_all_feed(selection).sources) == provider_paths


def test_sources_list_only_providers_of_the_feeds_items(config):
    articles = [make(1, topics=("Robots",)), make(2, provider=DAILY, topics=("Vision",))]
    topics = plans_of(select(articles, config), "topics")
    assert dict(topics["Robots"].sources) == {"news.example.com": "providers/news-example-com"}
    assert dict(topics["Vision"].sources) == {"daily.example.org": "providers/daily-example-org"}


def test_sources_follow_a_provider_slug_suffix(config):
    # Two provider keys that slugify alike: the sources use the slug each one really got.
    dotted = Provider("a.b.example.com", "Dotted")
    dashed = Provider("a-b.example.com", "Dashed")
    selection = select([make(1, provider=dotted), make(2, provider=dashed)], config)
    providers = plans_of(selection, "providers")
    assert providers[dotted.key].path != providers[dashed.key].path
    sources = the_all_feed(selection).sources
    assert sources == {key: plan.path for key, plan in providers.items()}


def test_without_a_provider_family_there_are_no_sources(feeds_dir):
    (feeds_dir / "providers.yaml").unlink()
    selection = select([make(1)], load_config(feeds_dir, FORMATS))
    assert all(dict(plan.sources) == {} for plan in selection.plans)


# --- records to feeds ----------------------------------------------------------------


def plan_of_kind(selection: Selection, kind: str) -> FeedPlan:
    (plan,) = (p for p in selection.plans if p.kind == kind)
    return plan


def test_one_provider_written_three_ways_has_one_feed_and_its_filter_takes_all(
    feeds_dir, seeds, write_record
):
    (feeds_dir / "mine.yaml").write_text("kind: mine\nfilter:\n  providers: [www.example.com]\n")
    for n, provider in enumerate(
        [{"name": "Ex", "domain": "www.example.com"}, {"name": "Ex", "domain": "example.com"}]
    ):
        write_record(f"{n}.md", article_fields(n, provider=provider))
    link = "https://www.example.com:8443/articles/3"
    write_record("3.md", article_fields(3, webUrl=link, provider={"name": "Ex"}))
    selection = select(read_articles(seeds).articles, load_config(feeds_dir, FORMATS))
    providers = plans_of(selection, "providers")
    assert {key: len(plan.items) for key, plan in providers.items()} == {"example.com": 3}
    assert len(plan_of_kind(selection, "mine").items) == 3


def test_a_filter_written_with_odd_white_space_matches_the_records_text(
    feeds_dir, seeds, write_record
):
    (feeds_dir / "mine.yaml").write_text(
        "kind: mine\nfilter:\n  topics: ['Climate\u00a0change']\n"
        "  categories: ['Deep  dive']\n  types: ['Caf\u0065\u0301']\n",
        encoding="utf-8",
    )
    fields = {"topics": ["Climate  change"], "category": "Deep\u00a0dive", "type": "Caf\u00e9"}
    write_record("1.md", article_fields(1, **fields))
    write_record("2.md", article_fields(2))
    selection = select(read_articles(seeds).articles, load_config(feeds_dir, FORMATS))
    assert titles(plan_of_kind(selection, "mine")) == ["Article 1"]
