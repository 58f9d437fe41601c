"""Stage 5: bytes -> files in the output folder.

Every file is written to a temporary name beside its target and renamed into
place, so a reader (or a crash) sees the old file or the new one, never half
of one. Unchanged files are left alone, so their times and caches stay
valid. Only files that the previous manifest lists are ever removed, and no
path can leave the output folder or pass through a symbolic link.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .manifest import MANIFEST, owned_files, render_manifest, unlisted_files, with_unlisted


class PublishError(Exception):
    """The output folder cannot be written as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class OutputFile:
    path: str
    """Relative to the output folder, with '/' separators."""
    data: bytes


@dataclass(frozen=True, slots=True)
class PublishResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def target_in(out_dir: Path, relative: str) -> Path:
    """The absolute path of ``relative`` inside ``out_dir``; refuse anything that escapes it."""
    parts = relative.split("/")
    if not relative or not all(_SAFE_PART.fullmatch(p) and p not in (".", "..") for p in parts):
        raise PublishError(f"refusing unsafe output path {relative!r}")
    return out_dir.joinpath(*parts)


def previously_published(out_dir: Path) -> set[str]:
    """The files the last build's manifest lists; none when there is no usable manifest."""
    try:
        return owned_files((out_dir / MANIFEST).read_bytes())
    except (OSError, ValueError):  # no manifest, or not ours (ManifestError is a ValueError)
        return set()


def claim(out_dir: Path, files: Iterable[str]) -> None:
    """Name in the manifest, as unlisted, the files about to be written that it does not own.

    Called before writing feeds: a build stopped after writing a new feed but
    before writing its own manifest then leaves that feed owned, and the next
    build removes it if no feed needs it any more.
    """
    try:
        manifest = (out_dir / MANIFEST).read_bytes()
        owned, unlisted = owned_files(manifest), unlisted_files(manifest)
    except (OSError, ValueError):  # as previously_published: nothing of ours is there
        manifest, owned, unlisted = render_manifest([]), set(), set()
    new = set(files) - owned
    if new:
        Writer(out_dir).write_if_changed(
            OutputFile(MANIFEST, with_unlisted(manifest, unlisted | new))
        )


def write_files(out_dir: Path, files: Iterable[OutputFile]) -> list[tuple[str, bool]]:
    """Write each file whose bytes changed; (path, written) for each. Safe in parallel."""
    writer = Writer(out_dir)
    return [(item.path, writer.write_if_changed(item)) for item in files]


def finish(
    out_dir: Path,
    results: Iterable[tuple[str, bool]],
    site_files: Iterable[OutputFile],
    manifest: bytes,
    kept: Iterable[str] = (),
) -> PublishResult:
    """After the feeds: write the site's own files, remove stale feeds, the manifest last.

    The manifest is written after every feed it lists, so a build stopped
    half-way leaves a manifest that lists only files that exist. Stale feeds
    are first named as ``unlisted`` in it, then removed, then the manifest is
    written without them: a build stopped among the removals leaves the next
    one knowing what is still to remove. ``kept`` are files this build
    publishes without rendering them again: unchanged, never stale.
    """
    before = previously_published(out_dir)
    written, unchanged = [], list(kept)
    for path, was_written in results:
        (written if was_written else unchanged).append(path)
    writer = Writer(out_dir)
    for item in site_files:
        writer.write_if_changed(item)
    stale = sorted(before - {*written, *unchanged})
    removed = []
    if stale:
        writer.write_if_changed(OutputFile(MANIFEST, with_unlisted(manifest, stale)))
        removed = [path for path in stale if _remove(out_dir, path)]
    writer.write_if_changed(OutputFile(MANIFEST, manifest))
    return PublishResult(tuple(written), tuple(sorted(unchanged)), tuple(removed))


def make_folder(out_dir: Path) -> None:
    """Create the output folder (and its parents) if need be."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {out_dir}: {exc.strerror or exc}") from None


# What ``_atomic_write`` names a file while writing it: ".<name>.<8 random>.tmp".
_LEFTOVER = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")


def sweep_leftovers(out_dir: Path) -> None:
    """Remove the half-written files a build that was killed left behind.

    Only safe while holding the output folder: a running build's are live.
    """
    for folder, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(folder, name)
            if _LEFTOVER.fullmatch(name) and path.is_file() and not path.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


class Writer:
    """Writes files below one output folder, creating (and checking) folders once each."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        make_folder(out_dir)
        self._ready = {out_dir}
        self._mode = _file_mode()

    def write_if_changed(self, item: OutputFile) -> bool:
        """Atomically replace the file unless it already holds these bytes; True if written."""
        target = target_in(self.out_dir, item.path)
        self._make_folder(target.parent)
        if _holds(target, item.data):
            return False
        _atomic_write(target, item.data, self._mode)
        return True

    def _make_folder(self, folder: Path) -> None:
        """Create ``folder`` inside the output folder, never through a symbolic link."""
        missing = []
        while folder not in self._ready:  # target_in keeps every folder below out_dir
            missing.append(folder)
            folder = folder.parent
        for level in reversed(missing):
            try:
                if level.is_symlink():
                    raise PublishError(f"refusing to write through the symbolic link {level}")
                level.mkdir(exist_ok=True)
            except OSError as exc:
                raise PublishError(f"cannot create folder {level}: {exc.strerror or exc}") from None
            self._ready.add(level)


def _holds(target: Path, data: bytes) -> bool:
    try:
        if target.is_symlink() or target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def _file_mode() -> int:
    """The mode a new file gets under the current umask (mkstemp would give 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _atomic_write(target: Path, data: bytes, mode: int) -> None:
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise PublishError(f"cannot write in {target.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise PublishError(f"cannot write {target}: {exc.strerror or exc}") from None


def _remove(out_dir: Path, relative: str) -> bool:
    """Remove a file the last build wrote, and the folders it leaves empty."""
    try:
        target = target_in(out_dir, relative)
    except PublishError:
        return False
    if any(p.is_symlink() for p in target.parents if out_dir in p.parents):
        return False
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise PublishError(f"cannot remove {target}: {exc.strerror or exc}") from None
    for folder in target.parents:
        if folder == out_dir or out_dir not in folder.parents:
            break
        try:
            folder.rmdir()
        except OSError:
            break
    return True
