"""Shared fixtures: real files in temporary folders, the shipped feed definitions, the corpus."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from feedloom.cli import main

REPO = Path(__file__).resolve().parent.parent
SHIPPED_FEEDS = REPO / "feeds"
SHIPPED_SEEDS = REPO / "seeds"
CORPUS = REPO.parent / "shared" / "corpus" / "everyday-ai"
BASE_URL = "https://feeds.example.org/ai/"

WriteRecord = Callable[..., Path]


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too), by '/'-separated relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def cli(*args: str) -> Result:
    """``feedloom ARGS`` through click's runner; any exception but the exit is a failure."""
    result = CliRunner().invoke(main, list(args))
    # Any exception other than the exit status would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def record_text(fields: dict[str, Any], body: str = "") -> str:
    """A record file: YAML front matter between '---' lines, then an optional body."""
    front = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body}"


def article_fields(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid record's fields; ``n`` makes title, link and time distinct."""
    fields: dict[str, Any] = {
        "title": f"Article {n}",
        "excerpt": f"Excerpt of article {n}.",
        "publishedDateTime": f"2021-03-{n % 28 + 1:02d}T09:{n % 60:02d}:00Z",
        "webUrl": f"https://news.example.com/articles/{n}",
        "provider": {"name": "Example News", "domain": "news.example.com"},
        "topics": ["AI"],
        "category": "news",
        "images": [{"url": f"https://img.example.com/{n}.jpg", "width": 800, "height": 600}],
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


ROBOT_REPORT = {"name": "Robot Report", "domain": "robots.example.io"}
"""The second provider of three_records."""


def three_records(write_record: WriteRecord) -> None:
    """Two providers, two categories, topics AI / Robotics / Vision: the feeds THREE_FEEDS."""
    write_record("one.md", article_fields(1, topics=["AI"]))
    write_record(
        "two.md",
        article_fields(2, topics=["Robotics"], category="research", provider=ROBOT_REPORT),
    )
    write_record("three.md", article_fields(3, topics=["AI", "Vision"]))


THREE_FEEDS = (
    "all",
    "topics/ai",
    "topics/robotics",
    "topics/vision",
    "providers/news-example-com",
    "providers/robots-example-io",
    "categories/news",
    "categories/research",
)
"""The feeds (paths without a suffix) that three_records makes."""


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


@pytest.fixture
def write_record(seeds: Path) -> WriteRecord:
    """Write a record file into the temporary seeds folder; returns its path."""

    def write(name: str, fields: dict[str, Any] | None = None, *, text: str | None = None) -> Path:
        path = seeds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text is not None else record_text(fields or article_fields()))
        return path

    return write


CORE_FAMILIES = ("all.yaml", "topics.yaml", "providers.yaml", "categories.yaml")


@pytest.fixture
def feeds_dir(tmp_path: Path) -> Path:
    """The shipped site settings and four core families (all, topics, providers,
    categories), in RSS and Atom: a stable base for tests to edit."""
    target = tmp_path / "feeds"
    target.mkdir()
    for name in CORE_FAMILIES:
        shutil.copy(SHIPPED_FEEDS / name, target / name)
    site = (SHIPPED_FEEDS / "site.yaml").read_text(encoding="utf-8")
    (target / "site.yaml").write_text(
        re.sub(r"(?m)^formats:.*$", "formats: [rss, atom]", site), encoding="utf-8"
    )
    return target


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "output"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the real corpus; skipped where ../shared is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/everyday-ai is absent (it only exists beside the project)")
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in its own folder, so the default cache (.feedloom) is the test's own."""
    monkeypatch.chdir(tmp_path)
