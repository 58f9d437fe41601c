"""feedloom: publish RSS 2.0 and Atom 1.0 feeds from YAML front-matter article records."""

from .api import (
    BuildError,
    BuildOptions,
    BuildReport,
    ConfigError,
    ReadReport,
    build,
    check,
    list_feeds,
    read_articles,
)
from .version import __version__

__all__ = [
    "BuildError",
    "BuildOptions",
    "BuildReport",
    "ConfigError",
    "ReadReport",
    "__version__",
    "build",
    "check",
    "list_feeds",
    "read_articles",
]
