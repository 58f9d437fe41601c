"""Stage 4 with memory: render each feed in each format, only where its inputs changed.

A feed file's fingerprint covers everything it is rendered from: feedloom's
version, the format, the site settings, the feed's own settings and the
digest of every item. A file whose fingerprint and on-disk state match what
the cache saw after the last build is left alone without rendering it.
Whole articles are loaded from the cache only for the feeds being rendered,
in the worker that renders them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from .articles import Article, Image
from .cache import OutputStamp, attach
from .config import Site
from .formats import OutputFormat
from .parallel import chunks, run_chunks
from .probe import Probe
from .publish import OutputFile, write_files
from .select import FeedPlan
from .version import __version__

_CHUNK = 16  # feeds a worker renders between two reports back


@dataclass(frozen=True, slots=True)
class RenderJob:
    plan: FeedPlan
    format: OutputFormat
    fingerprint: str

    @property
    def file(self) -> str:
        return self.format.file_for(self.plan)


def fingerprint(plan: FeedPlan, output: OutputFormat, site: Site, probes: str = "") -> str:
    """Changes whenever anything the file is rendered from changes.

    ``probes`` is the cache's probes version: learnt enclosure sizes count too.
    """
    # Every field of the plan but its items, which count by their digests.
    head = replace(plan, items=(), sources=dict(sorted(plan.sources.items())))
    parts = (
        __version__,
        probes,
        output.name,
        repr(site),
        repr(head),
        *(item.digest for item in plan.items),
    )
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def plan_jobs(
    plans: Sequence[FeedPlan], formats: Sequence[OutputFormat], site: Site, probes: str = ""
) -> list[RenderJob]:
    return [
        RenderJob(plan, output, fingerprint(plan, output, site, probes))
        for plan in plans
        for output in formats
    ]


def still_current(job: RenderJob, before: OutputStamp | None, out_dir: Path) -> bool:
    """True when the file on disk is the one rendered last time from the same inputs."""
    return (
        before is not None
        and before.fingerprint == job.fingerprint
        and before.matches(out_dir / job.file)
    )


def with_probes(article: Article, probes: Mapping[str, Probe]) -> Article:
    """The article with what probing learnt of its images: true sizes and types."""
    images = tuple(_probed(image, probes.get(image.url)) for image in article.images)
    return article if images == article.images else replace(article, images=images)


def _probed(image: Image, probe: Probe | None) -> Image:
    if probe is None or (probe.size is None and probe.type is None):
        return image
    return replace(image, type=probe.type or image.type, length=probe.size)


def render_part(
    jobs: Sequence[RenderJob], site: Site, articles: Mapping[str, Article]
) -> list[OutputFile]:
    """The files of ``jobs``; ``articles`` holds every item they show, by digest."""
    return [
        OutputFile(
            job.file,
            job.format.render(job.plan, [articles[i.digest] for i in job.plan.items], site),
        )
        for job in jobs
    ]


def produce(
    jobs: Sequence[RenderJob], site: Site, cache_path: Path, out_dir: Path, workers: int
) -> list[tuple[str, bool]]:
    """Render and publish the files of ``jobs``, a few feeds at a time, in parallel.

    Each worker loads the articles of its feeds from the cache, renders them
    and writes them (atomically, unchanged bytes left alone): neither the
    articles nor the documents of all feeds are ever in memory at once.
    Returns (file, written) for each file.
    """
    work = partial(_produce_part, site=site, cache_path=cache_path, out_dir=out_dir)
    return run_chunks(work, chunks(list(jobs), _CHUNK), workers)


def _produce_part(
    jobs: Sequence[RenderJob], site: Site, cache_path: Path, out_dir: Path
) -> list[tuple[str, bool]]:
    reader = attach(cache_path, read_only=True)
    try:
        articles = reader.articles(sorted({i.digest for job in jobs for i in job.plan.items}))
        probes = reader.probes(i.url for a in articles.values() for i in a.images)
    finally:
        reader.close()
    if probes:
        articles = {digest: with_probes(a, probes) for digest, a in articles.items()}
    return write_files(out_dir, render_part(jobs, site, articles))
