"""Stage 1: files -> records.

Finds record files, splits off the YAML front matter and parses it with
libyaml, keeping the line of every top-level key so later stages can name the
exact line of a bad field. Nothing here knows what the fields mean.
"""

from __future__ import annotations

import codecs
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .diagnostics import Diagnostic, error

DEFAULT_MAX_BYTES = 1024 * 1024

try:
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader
    warnings.warn(
        "PyYAML has no libyaml support: parsing records will be several times slower",
        RuntimeWarning,
        stacklevel=1,
    )


class _Loader(_BaseLoader):
    """PyYAML's safe loader, remembering the type of plain scalars it has seen.

    Records repeat the same plain scalars (every key, 'true', 'news', '1200');
    resolving each one runs a row of regular expressions, a fifth of the
    parse. The type of a plain scalar depends on its text alone.
    """

    _known: ClassVar[dict[str, str]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode or not implicit[0]:
            return super().resolve(kind, value, implicit)
        tag = self._known.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._known) < 10_000 and len(value) < 64:
                self._known[value] = tag
        return tag


_CLOSING_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Record:
    """The parsed front matter of one record file."""

    path: str
    fields: Mapping[str, Any]
    lines: Mapping[str, int]
    """1-based line in the file of each top-level key."""

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the opening fence when the key is absent."""
        return self.lines.get(key, 1)


def _walk(seeds: Path) -> list[tuple[str, os.DirEntry]]:
    """(relative path, entry) of every record file, sorted by relative path.

    Folders are entered only when they are real folders, not links to one. An
    entry whose type cannot be learnt (a link that loops, or leads where we may
    not look) is no record, and a folder below ``seeds`` that cannot be listed
    is skipped; a file that cannot be read is found, for reading to report.
    """
    found: list[tuple[str, os.DirEntry]] = []
    pending = [("", str(seeds))]
    while pending:
        prefix, folder = pending.pop()
        for entry in _listing(folder, must_list=not prefix):
            try:  # not contextlib.suppress: that makes an object per entry
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{prefix}{entry.name}/", entry.path))
                elif entry.is_file():
                    found.append((prefix + entry.name, entry))
            except OSError:
                continue
    found.sort(key=lambda pair: pair[0])
    return found


def _listing(folder: str, must_list: bool) -> list[os.DirEntry]:
    """The entries of ``folder`` but hidden ones; none if unlistable, unless ``must_list``."""
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if not entry.name.startswith(".")]
    except OSError:
        if must_list:
            raise
        return []


@dataclass(frozen=True, slots=True)
class RecordFile:
    """A record file found below the seeds folder, with what its stat said."""

    path: str
    """Absolute."""
    display: str
    """As the user would type it: the seeds argument joined with the file's place."""
    size: int
    mtime_ns: int


def discover_files(seeds: Path, display_root: str) -> list[RecordFile]:
    """Every record file below ``seeds`` with its size and time, sorted like ``discover``."""
    root = str(seeds.absolute())
    display = display_root.rstrip("/") + "/" if display_root not in ("", ".") else ""
    found = []
    for relative, entry in _walk(seeds):
        try:
            info = entry.stat()
        except OSError:
            continue  # gone since it was listed
        found.append(
            RecordFile(f"{root}/{relative}", display + relative, info.st_size, info.st_mtime_ns)
        )
    return found


def read_bytes(
    path: Path | str, display: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes | Diagnostic:
    """The bytes of a record file, or why they cannot be had; an oversized file is not read."""
    try:
        handle = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(handle).st_size
            if size > max_bytes:
                return _too_big(display, size, max_bytes)
            data = _read_up_to(handle, size, max_bytes + 1)
        finally:
            os.close(handle)
    except OSError as exc:
        return error(display, 1, f"cannot read file: {exc.strerror or exc}")
    if len(data) > max_bytes:  # the file grew since fstat
        return _too_big(display, len(data), max_bytes)
    return data


def _read_up_to(handle: int, size: int, limit: int) -> bytes:
    """The ``size`` bytes fstat gave, through short reads; more, up to ``limit``, if it grew."""
    data = os.read(handle, limit)
    while len(data) < size:
        more = os.read(handle, limit - len(data))
        if not more:
            break
        data += more
    return data


def _too_big(display: str, size: int, max_bytes: int) -> Diagnostic:
    return error(display, 1, f"file is {size} bytes, over the limit of {max_bytes}")


def read_record(
    path: Path, display: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> Record | Diagnostic:
    """Read and parse one record file; a problem becomes a one-line diagnostic."""
    data = read_bytes(path, display, max_bytes)
    return data if isinstance(data, Diagnostic) else parse_record(data, display)


def parse_record(data: bytes, display: str) -> Record | Diagnostic:
    """Parse the bytes of a record file."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        where = bom + exc.start
        line = data.count(b"\n", 0, where) + 1
        return error(display, line, f"not valid UTF-8 (byte {where + 1})")
    text = text.replace("\r\n", "\n")
    try:
        front = _front_matter(text)
    except _NoFrontMatter as exc:
        return error(display, 1, str(exc))
    return _parse_yaml(front, display)


class _NoFrontMatter(Exception):
    """The file does not start with a fenced front-matter block."""


def _front_matter(text: str) -> str:
    """The YAML text between the fences; it starts on line 2 of the file."""
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        raise _NoFrontMatter("no front matter: the first line must be '---'")
    closing = _CLOSING_FENCE.search(rest)
    if closing is None:
        raise _NoFrontMatter("front matter is not closed by a '---' line")
    return rest[: closing.start()]


def _parse_yaml(source: str, display: str) -> Record | Diagnostic:
    parsed = parse_mapping(source, display, first_line=2)
    if isinstance(parsed, Diagnostic):
        return parsed
    fields, lines = parsed
    return Record(display, fields, lines)


def parse_mapping(
    source: str, display: str, first_line: int = 1
) -> tuple[dict[str, Any], dict[str, int]] | Diagnostic:
    """Parse a YAML mapping with libyaml, keeping the line of every top-level key.

    ``first_line`` is the line of the file on which ``source`` starts.
    """
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return error(display, first_line, "empty: a mapping of fields was expected")
        if not isinstance(node, yaml.MappingNode):
            return error(display, node.start_mark.line + first_line, "not a mapping of fields")
        lines = {
            str(key.value): key.start_mark.line + first_line
            for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)
        }
        fields = _construct(node, loader)
        if not isinstance(fields, dict):  # a tag such as !!set builds something else
            return error(display, node.start_mark.line + first_line, "not a mapping of fields")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else first_line
        return error(display, line, f"YAML syntax error: {exc.problem or exc.context}")
    except Exception as exc:  # PyYAML raises odd types on hostile input: all are one line
        return error(display, first_line, f"YAML error: {_first_line(exc)}")
    finally:
        loader.dispose()
    return {str(k): v for k, v in fields.items()}, lines


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))
# Tags whose constructor turns a scalar into a value (not a generator of a collection).
_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp")}
_MERGE = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """A node the fast constructor leaves to PyYAML's own."""


def _construct(node: yaml.Node, loader: Any) -> Any:
    """Python values for a composed document, as PyYAML's SafeConstructor builds them.

    Records are plain maps, lists and scalars; building those directly takes
    a fraction of SafeConstructor's time. Anything else (merge keys, explicit
    collection tags, unhashable keys) goes to SafeConstructor, so the result
    and its error messages are PyYAML's own. Aliased nodes become one shared
    object, as in PyYAML, so alias bombs cost no memory. A scalar that only
    looks like a date or number (2021-02-30) stays text, so the articles stage
    can name its field and line.
    """
    scalars = loader.yaml_constructors
    built: dict[int, Any] = {}

    def build(node: yaml.Node) -> Any:
        kind, tag = node.__class__, node.tag
        if kind is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            if tag not in _SCALARS:  # "!!seq x", "!!binary ...": PyYAML's to judge
                raise _Unusual
            try:
                return scalars[tag](loader, node)
            except (ValueError, TypeError, AttributeError, OverflowError):
                # 2021-02-30, or "!!timestamp soon": the text, for the next stage to judge
                return node.value
        done = built.get(id(node))
        if done is not None:
            return done
        if kind is yaml.MappingNode and tag == _MAP:
            mapping: dict[Any, Any] = {}
            built[id(node)] = mapping
            for key, value in node.value:
                if key.tag == _MERGE:
                    raise _Unusual
                mapping[build(key)] = build(value)
            return mapping
        if kind is yaml.SequenceNode and tag == _SEQ:
            sequence: list[Any] = []
            built[id(node)] = sequence
            sequence.extend(build(item) for item in node.value)
            return sequence
        raise _Unusual

    try:
        return build(node)
    except (_Unusual, KeyError, TypeError):
        return loader.construct_document(node)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
