"""What every output format is: a name, a file suffix, a media type and a renderer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..articles import Article
from ..config import Site
from ..select import FeedPlan

Renderer = Callable[[FeedPlan, Sequence[Article], Site], bytes]
"""A plan, its items as whole articles in the plan's order, the site -> the document."""


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    suffix: str
    media_type: str
    render: Renderer
    label: str
    """What people call it: RSS, Atom, JSON Feed."""

    def file_for(self, plan: FeedPlan) -> str:
        """The feed's file, relative to the output folder."""
        return plan.path + self.suffix
