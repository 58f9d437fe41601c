"""feedloom: publish RSS 2.0 and Atom 1.0 feeds from YAML front-matter article records."""

from . import api
from .api import *  # noqa: F403  (exactly what api.__all__ lists)
from .version import __version__

__all__ = ["__version__"]
__all__ += api.__all__
