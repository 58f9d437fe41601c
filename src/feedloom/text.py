"""Text helpers shared by the stages: repair, XML safety and slugs."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime

# Code points XML 1.0 forbids, plus lone surrogates, which no encoder can write.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The above and what XML discourages: C1 controls and non-characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# What ftfy can act on: entities, C1 controls, the Latin-1 letters that UTF-8
# lead bytes turn into when mis-decoded (mojibake), and ligatures.
_NEEDS_REPAIR = re.compile("[&\x80-\x9f\u00c2-\u00f4\ufb00-\ufb06]")


def repair(text: str) -> str:
    """Fix mojibake and HTML entities, drop what XML cannot carry, fold white space.

    ftfy is slow, so it is only consulted when the text holds something it can
    fix; other text is only brought to NFC, as ftfy would. C1 controls are
    removed only after ftfy has seen them: ``â€\x9d`` is the mojibake of a
    closing quote.
    """
    if text.isascii() and "&" not in text:  # the common case, kept fast
        return " ".join(_NOT_XML.sub("", text).split())
    text = _FORBIDDEN.sub("", text)
    if _NEEDS_REPAIR.search(text):
        text = _fixer()(text)
    elif not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(_NOT_XML.sub("", text).split())


@functools.cache
def _fixer() -> Callable[[str], str]:
    """ftfy, loaded on first use: a build that reads no record never pays for it."""
    import ftfy

    config = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, explain=False)
    return functools.partial(ftfy.fix_text, config=config)


def xml_safe(text: str) -> str:
    """Remove the characters XML 1.0 cannot carry, nothing else."""
    return _NOT_XML.sub("", text)


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 60
# Names Windows refuses as file names whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{n}" for d in ("com", "lpt") for n in range(10)}


def slugify(key: str) -> str:
    """A lower-case ASCII name for ``key``: transliterated, at most MAX_SLUG long, never empty."""
    slug = _SLUG_JUNK.sub("-", transliterate(key).lower()).strip("-")[:MAX_SLUG].strip("-")
    return slug or "untitled"


def transliterate(text: str) -> str:
    """ASCII for any script (anyascii, loaded on first use)."""
    from anyascii import anyascii

    return anyascii(text)


def is_reserved(slug: str) -> bool:
    """True for names Windows refuses as files (``con``, ``nul``, ``com1``...)."""
    return slug in _RESERVED


def short_hash(key: str) -> str:
    """A stable 8-character tag for ``key``, used to tell apart keys that slugify alike."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def iso_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a 'Z' (a UTC time), as feed readers and people expect."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
