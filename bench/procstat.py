"""CPU time and peak memory of a server's process tree, read from /proc (Linux).

CPU is utime + stime of every process in the tree (threads included: /proc/<pid>/stat sums
them), so "server CPU per request" is the CPU the server spent, whatever the wall clock or the
number of cores. Each process's cutime + cstime (its exited, reaped children's CPU) is added: a
PostgreSQL backend that ends during a measurement (a pool closing a connection) would otherwise
take its CPU out of the tree's sum, and the difference could even come out negative. Peak memory is VmHWM, each process's high-water resident set, summed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive now."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children[int(fields[1])].append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        if _stat_fields(pid) is None:
            continue
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # After the name: state is index 0, so utime (field 14) and stime (15) are 11 and 12,
            # cutime (16) and cstime (17) 13 and 14.
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS_PER_SECOND


def peak_rss_kib(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"/proc/{pid}/status has no {field}")


def rss_kib(pid: int) -> int:
    """One process's resident set now."""
    return _status_kib(pid, "VmRSS")


def reset_peak_rss(pid: int) -> None:
    """Start one process's high-water mark (VmHWM) afresh from its resident set now, so the peak of
    what follows can be read (Linux ``clear_refs`` 5; the process must be the caller's own)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_growth_kib(pid: int, since_kib: int) -> int:
    """How far one process's resident set rose above ``since_kib`` (its RSS at ``reset_peak_rss``)."""
    return _status_kib(pid, "VmHWM") - since_kib


@dataclass(frozen=True)
class CpuSample:
    seconds: float

    @classmethod
    def of_tree(cls, root: int) -> CpuSample:
        return cls(cpu_seconds(process_tree(root)))

    def since(self, earlier: CpuSample) -> float:
        return self.seconds - earlier.seconds
