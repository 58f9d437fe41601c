"""The baseline: the script a user would write with plain PyYAML and feedgen.

Same feeds as feedloom's shipped definitions (all, one per topic, provider
and category; RSS and Atom; newest 50 items; the lead image as enclosure),
none of its care: ``yaml.safe_load`` (the pure-Python loader), no cache, no
parallelism, every file rewritten on every run.

    python benchmarks/naive.py SEEDS OUT
"""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import yaml
from feedgen.feed import FeedGenerator

BASE = "https://feeds.example.org/ai/"
LIMIT = 50


def load(seeds: Path) -> list[dict]:
    records = []
    for path in sorted(seeds.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text.split("---")[1])
        if not isinstance(data, dict) or data.get("published") is False:
            continue
        when = data["publishedDateTime"]
        if not isinstance(when, datetime):
            when = datetime.fromisoformat(str(when))
        data["publishedDateTime"] = when if when.tzinfo else when.replace(tzinfo=UTC)
        records.append(data)
    return records


def write_feed(out: Path, name: str, title: str, items: list[dict]) -> None:
    feed = FeedGenerator()
    feed.id(BASE + name + ".atom")
    feed.title(title)
    feed.link(href=BASE + name + ".rss", rel="self")
    feed.link(href=BASE, rel="alternate")
    feed.description(title)
    feed.updated(items[0]["publishedDateTime"])
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(item["webUrl"])
        entry.title(item["title"])
        entry.link(href=item["webUrl"])
        entry.description(item.get("excerpt") or item["title"])
        entry.published(item["publishedDateTime"])
        entry.updated(item["publishedDateTime"])
        for topic in item.get("topics") or []:
            entry.category(term=topic)
        images = item.get("images") or []
        if images:
            entry.enclosure(images[0]["url"], "0", "image/jpeg")
    target = out / name
    target.parent.mkdir(parents=True, exist_ok=True)
    feed.rss_file(str(target) + ".rss", pretty=True)
    feed.atom_file(str(target) + ".atom", pretty=True)


def main(seeds: Path, out: Path) -> None:
    records = sorted(load(seeds), key=lambda r: r["publishedDateTime"], reverse=True)
    groups: dict[str, list[dict]] = defaultdict(list)
    groups["all"] = records
    for record in records:
        for topic in record.get("topics") or []:
            groups["topics/" + topic.lower().replace(" ", "-")].append(record)
        provider = record.get("provider") or {}
        if provider.get("domain"):
            groups["providers/" + provider["domain"].replace(".", "-")].append(record)
        if record.get("category"):
            groups["categories/" + record["category"]].append(record)
    for name, items in groups.items():
        write_feed(out, name, name, items[:LIMIT])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
