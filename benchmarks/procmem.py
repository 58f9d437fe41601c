"""Run a command and measure it: wall time, CPU time and the peak memory of its process tree.

Memory is sampled every ``interval`` seconds from a thread: the process and all
its descendants (found by their parent pid in ``/proc/<pid>/stat``, as this
kernel may lack ``/proc/<pid>/task/*/children``), summing each one's ``Pss``
from ``/proc/<pid>/smaps_rollup`` (``VmRSS`` from ``/proc/<pid>/status`` when
that is unreadable). Pss shares pages fairly between forked workers, so the
sum is what the tree really holds. The peak is the largest sum seen.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float  # wall time, time.perf_counter around the subprocess
    peak_mb: float | None  # largest sum of Pss over the process tree, MiB; None: not sampled
    cpu_seconds: float  # user + system time of the process and its waited-for descendants
    samples: int
    other_cpu_seconds: float  # CPU time the whole machine spent meanwhile, less ``cpu_seconds``


class CommandFailed(RuntimeError):
    pass


def _pids() -> set[int]:
    try:
        return {int(name) for name in os.listdir(PROC) if name.isdigit()}
    except OSError:
        return set()


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


def _busy_seconds() -> float:
    """CPU time the machine has spent busy since boot, all CPUs (from /proc/stat)."""
    try:
        with open(PROC / "stat", "rb") as file:
            fields = [int(v) for v in file.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / os.sysconf("SC_CLK_TCK")


def _memory_kb(pid: int) -> int:
    """Pss of one process in KiB (VmRSS as a fallback; 0 once it is gone)."""
    try:
        with open(PROC / str(pid) / "smaps_rollup", "rb") as file:
            for line in file:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(PROC / str(pid) / "status", "rb") as file:
            for line in file:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed memory of ``root`` and its descendants until stopped."""

    def __init__(self, root: int, foreign: set[int], interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.tree = {root}
        # Processes that existed before the root started cannot be its descendants
        # (pids are handed out in sequence and do not wrap within a run).
        self.foreign = set(foreign) - {root}
        self.peak_kb = 0
        self.samples = 0
        self._done = threading.Event()

    def _discover(self) -> None:
        new = _pids() - self.foreign - self.tree
        if not new:
            return
        parents = {pid: _parent(pid) for pid in new}
        grew = True
        while grew:
            grew = False
            for pid, parent in list(parents.items()):
                if parent in self.tree:
                    self.tree.add(pid)
                    del parents[pid]
                    grew = True
        self.foreign.update(parents)  # not ours (or already gone)

    def sample(self) -> None:
        self._discover()
        total = 0
        for pid in list(self.tree):
            kb = _memory_kb(pid)
            if kb == 0 and pid != self.root:
                self.tree.discard(pid)  # exited: its pid must not be claimed again
                self.foreign.add(pid)
            total += kb
        self.samples += 1
        self.peak_kb = max(self.peak_kb, total)

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def measure(
    command: Sequence[str | os.PathLike], cwd: Path | None = None, interval: float | None = 0.02
) -> Measurement:
    """Run ``command`` to its end; raise CommandFailed (with its stderr) when it fails.

    With ``interval`` None, memory is not sampled: sampling reads every
    process's ``smaps_rollup``, which costs CPU that a command using every CPU misses.
    """
    with tempfile.TemporaryFile() as errors:
        before = _pids()
        busy = _busy_seconds()
        start = time.perf_counter()
        process = subprocess.Popen(
            [os.fspath(part) for part in command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        sampler = None if interval is None else TreeSampler(process.pid, before, interval)
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        busy = _busy_seconds() - busy
        if sampler:
            sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-3000:]
            raise CommandFailed(
                f"{' '.join(map(os.fspath, command))} exited {process.returncode}\n{tail}"
            )
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(
        seconds=seconds,
        peak_mb=sampler.peak_kb / 1024 if sampler else None,
        cpu_seconds=cpu,
        samples=sampler.samples if sampler else 0,
        other_cpu_seconds=max(0.0, busy - cpu),
    )
