"""Messages about the user's files: one line each, ``PATH:LINE: message``."""

from __future__ import annotations

import re
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
        return _one_line(f"{self.path}:{self.line}: {prefix}{self.message}")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    """Control characters (a file name may hold a line break) shown as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def error(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.ERROR)


def warning(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.WARNING)


def notice(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.NOTICE)
