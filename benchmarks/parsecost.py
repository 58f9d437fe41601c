"""What parsing one record's front matter costs, step by step, in microseconds.

    .venv/bin/python benchmarks/parsecost.py [SEEDS]   (default: benchmarks/work/seeds)

The floor under feedloom's read stage: libyaml's own parse, PyYAML's loader
on top of it, and feedloom's parser, each over the same front matters, in one
process, the files already in the page cache (best of three passes).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml

from feedloom.records import parse_mapping

HERE = Path(__file__).resolve().parent


def front_matter(data: bytes) -> str:
    text = data.decode("utf-8")
    body = text.split("\n", 1)[1]
    return body[: body.index("\n---")]


def compose(source: str) -> None:
    loader = yaml.CSafeLoader(source)
    try:
        loader.get_single_node()
    finally:
        loader.dispose()


def events(source: str) -> None:
    for _ in yaml.parse(source, Loader=yaml.CSafeLoader):
        pass


def per_record(items: list, step: Callable) -> float:
    """Best of three passes, in microseconds an item."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for item in items:
            step(item)
        best = min(best, time.perf_counter() - start)
    return best / len(items) * 1e6


def main() -> None:
    seeds = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "work" / "seeds"
    paths = sorted(p for p in seeds.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not paths:
        sys.exit(f"no records below {seeds}: run bench.py first, or name a seeds folder")
    sources = [front_matter(p.read_bytes()) for p in paths]
    print(f"{len(paths):,} records below {seeds}, µs a record:")
    print(f"  reading the file                 {per_record(paths, Path.read_bytes):6.1f}")
    print(f"  libyaml events only              {per_record(sources, events):6.1f}")
    print(f"  libyaml composing PyYAML nodes   {per_record(sources, compose):6.1f}")
    load = partial(yaml.load, Loader=yaml.CSafeLoader)
    print(f"  yaml.load with CSafeLoader       {per_record(sources, load):6.1f}")
    parse = partial(parse_mapping, display="record")
    print(f"  feedloom records.parse_mapping   {per_record(sources, parse):6.1f}")


if __name__ == "__main__":
    main()
