"""The one place the version is read from."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("feedloom")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
