"""Output formats: each renders one feed plan to bytes. Adding one is a module and a line here."""

from __future__ import annotations

from . import atom, jsonfeed, rss
from .base import OutputFormat

FORMATS: dict[str, OutputFormat] = {f.name: f for f in (rss.FORMAT, atom.FORMAT, jsonfeed.FORMAT)}

__all__ = ["FORMATS", "OutputFormat"]
