"""Generate article records shaped like the aggregator's corpus, deterministically.

Used by the benchmark; the texts are made up (word salad from a fixed
vocabulary), the shapes are the corpus's: a few dozen topics, a few hundred
providers, one to three images, some related coverage, drafts, quirks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

TOPICS = [
    "AI",
    "Machine Learning",
    "Computer Vision",
    "Natural Language Processing",
    "AI in Autos",
    "AWS AI",
    "Microsoft AI",
    "Facebook AI",
    "Google AI",
    "AI in Healthcare",
    "AI Hardware",
    "AI in Finance",
    "AI in Robotics",
    "IBM AI",
    "TensorFlow",
    "PyTorch",
    "Reinforcement Learning",
    "Speech Recognition",
    "AI Ethics",
    "Generative AI",
    "Edge AI",
    "MLOps",
    "Data Science",
    "Deep Learning",
    "AI in Retail",
    "AI in Education",
    "AI Policy",
    "Autonomous Vehicles",
    "Chatbots",
    "Recommender Systems",
    "Face Recognition",
    "AI Chips",
    "Quantum ML",
    "AI Startups",
    "Künstliche Intelligenz",
    "C++",
]
WORDS = (
    "model data network learning vision language robot chip market cloud startup research "
    "benchmark training inference dataset policy health finance camera sensor agent platform "
    "open source release study report growth forecast security privacy edge device speech"
).split()
EPOCH = datetime(2019, 1, 1, tzinfo=UTC)


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")[:60]


def _quirk(rng: random.Random) -> str:
    """Now and then the corpus's quirks, about as often as in it: curly quotes in
    one text in ten, accented letters or mojibake in one in thirty."""
    roll = rng.random()
    if roll < 0.01:
        return "â€œquotedâ€ "
    if roll < 0.03:
        return "café "
    return "“quoted” " if roll < 0.13 else ""


def _provider(index: int) -> dict:
    domain = f"provider{index}.example.com"
    provider = {"name": f"Provider {index} News", "domain": domain}
    if index % 3 == 0:
        provider["images"] = [
            {"url": f"https://cdn.example.com/logos/{domain}-50x50.jpg", "width": 50, "height": 50}
        ]
    return provider


def record(n: int, rng: random.Random, providers: int = 300) -> str:
    """The text of record number ``n``."""
    when = EPOCH + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
    provider = _provider(rng.randrange(providers))
    topics = ["AI", *rng.sample(TOPICS[1:], rng.randint(0, 2))]
    title = _sentence(rng, rng.randint(6, 14))
    lines = [
        "---",
        "category: news",
        f'title: "{title} {n}"',
        f'excerpt: "{_sentence(rng, rng.randint(20, 45))} {_quirk(rng)}..."',
        f"publishedDateTime: {when:%Y-%m-%dT%H:%M:%SZ}",
        f'webUrl: "https://{provider["domain"]}/articles/{n}-{_slug(title)}"',
        "type: article",
    ]
    if n % 2:
        lines += [
            f"quality: {rng.randint(30, 99)}",
            f"heat: {rng.randint(30, 99)}",
            f"published: {'false' if n % 6 == 1 else 'true'}",
        ]
    lines += ["", "provider:", f"  name: {provider['name']}", f"  domain: {provider['domain']}"]
    for logo in provider.get("images", []):
        lines += ["  images:", f'    - url: "{logo["url"]}"', "      width: 50", "      height: 50"]
    lines += ["", "topics:", *(f"  - {t}" for t in topics)]
    if rng.random() < 0.8:
        lines += ["", "images:"]
        for i in range(rng.randint(1, 3)):
            query = "w=1200&#038;h=630" if rng.random() < 0.05 else "w=1200&h=630"
            lines += [
                f'  - url: "https://img.example.com/{n}/{i}.jpg?{query}"',
                "    width: 1200",
                "    height: 630",
                "    isCached: true",
            ]
    if rng.random() < 0.15:
        lines += ["", "related:"]
        for i in range(rng.randint(1, 3)):
            lines += [
                f'  - title: "{_sentence(rng, 8)}"',
                f'    excerpt: "{_sentence(rng, 20)} {_quirk(rng)}..."',
                f"    publishedDateTime: {when - timedelta(hours=i + 1):%Y-%m-%dT%H:%M:%SZ}",
                f'    webUrl: "https://related{i}.example.org/{n}"',
                "    type: article",
                "    provider:",
                f"      name: Related {i}",
                f"      domain: related{i}.example.org",
            ]
    lines += ["", f'secured: "{rng.getrandbits(256):064x}"', "---", ""]
    return "\n".join(lines)


def write_records(folder: Path, count: int, seed: int = 1, start: int = 0) -> list[Path]:
    """Write records ``start`` .. ``start + count - 1`` into ``folder``; same seed, same files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + n)
        path = folder / f"{n // 1000:03d}" / f"record-{n:07d}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(record(n, rng), encoding="utf-8")
        paths.append(path)
    return paths
