"""Messages about the user's files: one line each, ``PATH:LINE: message``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a message matters; only errors reject a record."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A message tied to a place in a file the user wrote."""

    path: str
    line: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        return f"{self.path}:{self.line}: {prefix}{self.message}"


def error(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.ERROR)


def warning(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.WARNING)


def notice(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.NOTICE)
