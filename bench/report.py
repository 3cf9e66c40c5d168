"""Plain-text tables of the figures, as `make bench` prints them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from bench.assign import AssignReport
    from bench.queue import QueueReport, ServerFigures


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _ratio(ours: float, theirs: float) -> str:
    if not theirs:
        return "–"
    ratio = ours / theirs
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}"  # far below: one more digit


_QUEUE_METRICS: Final[tuple[tuple[str, Callable[[ServerFigures], float], str], ...]] = (
    ("requests/s", lambda s: s.requests_per_second, "{:,.1f}"),
    ("p50 (ms)", lambda s: s.p50_ms, "{:,.1f}"),
    ("p99 (ms)", lambda s: s.p99_ms, "{:,.1f}"),
    ("server CPU/req (ms)", lambda s: s.cpu_ms_per_request, "{:,.2f}"),
    ("PG CPU/req (ms)", lambda s: s.db_cpu_ms_per_request, "{:,.2f}"),
    ("peak RSS (MiB)", lambda s: s.peak_rss_mib, "{:,.0f}"),
    ("SQL/req", lambda s: s.statements_per_request, "{:,.1f}"),
    ("errors", lambda s: s.errors, "{:,.0f}"),
)
# What the growth from the smallest to the largest size is judged on (issue 16's target 1).
_GROWTH_METRICS: Final[tuple[tuple[str, Callable[[ServerFigures], float]], ...]] = (
    ("server CPU/req", lambda s: s.cpu_ms_per_request),
    ("PG CPU/req", lambda s: s.db_cpu_ms_per_request),
    ("p50", lambda s: s.p50_ms),
    ("requests/s", lambda s: s.requests_per_second),
)


def _in_order(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _data_lines(queue: QueueReport) -> list[str]:
    options = queue.options
    lines = [
        f"wrk {options.connections} connections, {options.warmup:g} s warm-up, {options.duration:g} s measured "
        "per target; casegraph/this: casegraph's requests/s over this target's at the same size"
    ]
    for size in queue.sizes:
        rows = size.rows
        visible = ", ".join(f"{viewer} {count:,}" for viewer, count in size.visible_open.items())
        lines.append(
            f"data {size.cases:,} cases: {rows.get('case_tasks', 0):,} tasks, {rows.get('case_events', 0):,} events, "
            f"{rows.get('case_timers', 0):,} SLA timers, loaded in {size.load_seconds:.0f} s; "
            f"visible open cases: {visible}"
        )
    return lines


def queue_table(queue: QueueReport) -> str:
    """One table per shape and viewer (a row per size and server), then the growth table."""
    lines = ["Agents' queue: casegraph against PostGraphile at each size", *_data_lines(queue)]
    shapes = _in_order([m.shape for m in queue.measurements])
    viewers = _in_order([m.viewer for m in queue.measurements])
    servers = _in_order([m.server for m in queue.measurements])
    sizes = [size.cases for size in queue.sizes]
    for shape in shapes:
        for viewer in viewers:
            header = ["cases", "server", *(label for label, _, _ in _QUEUE_METRICS), "casegraph/this"]
            body = []
            for cases in sizes:
                ours = queue.figures(cases, shape, viewer, "casegraph")
                for server in servers:
                    figures = queue.figures(cases, shape, viewer, server)
                    if figures is None:
                        continue
                    ratio = (
                        "–"
                        if server == "casegraph" or ours is None
                        else _ratio(ours.requests_per_second, figures.requests_per_second)
                    )
                    body.append(
                        [f"{cases:,}", server, *(fmt.format(value(figures)) for _, value, fmt in _QUEUE_METRICS), ratio]
                    )
            if body:
                lines += ["", f"{shape}, as {viewer}", table(header, body)]
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        header = [f"growth {large:,}/{small:,} cases", "server", *(label for label, _ in _GROWTH_METRICS)]
        body = []
        for shape in shapes:
            for viewer in viewers:
                for server in servers:
                    before = queue.figures(small, shape, viewer, server)
                    after = queue.figures(large, shape, viewer, server)
                    if before is None or after is None:
                        continue
                    body.append(
                        [
                            f"{shape}, as {viewer}",
                            server,
                            *(f"{_ratio(value(after), value(before))}×" for _, value in _GROWTH_METRICS),
                        ]
                    )
        if body:
            lines += ["", table(header, body)]
    if queue.statements_by_first:
        firsts = sorted({first for counts in queue.statements_by_first.values() for first in counts})
        header = ["SQL statements per request (dashboard)", *(f"first: {first}" for first in firsts)]
        body = [
            [name, *(f"{counts[first]:.1f}" if first in counts else "–" for first in firsts)]
            for name, counts in queue.statements_by_first.items()
        ]
        lines += ["", table(header, body)]
    lines += [f"note: {note}" for note in queue.notes]
    return "\n".join(lines)


def assign_table(assign: AssignReport) -> str:
    header = ["assignToMe on SQLite, no other load", "n", "p50 (ms)", "p99 (ms)", "mean (ms)"]
    body = [
        [label, f"{t.count}", f"{t.p50_ms:.2f}", f"{t.p99_ms:.2f}", f"{t.mean_ms:.2f}"]
        for label, t in (
            ("HTTP, one keep-alive connection", assign.http),
            ("in-process service call (reference)", assign.in_process),
        )
    ]
    # What a WebSocket adds to each operation: far below a millisecond, so in microseconds.
    socket_header = ["WebSocket re-authorization per operation", "n", "p50 (µs)", "p99 (µs)", "mean (µs)"]
    socket_body = [
        [label, f"{t.count}", f"{t.p50_ms * 1000:.1f}", f"{t.p99_ms * 1000:.1f}", f"{t.mean_ms * 1000:.1f}"]
        for label, t in (
            ("memberships cached (between changes)", assign.reauthorize_cached),
            ("memberships read (after a change)", assign.reauthorize_read),
        )
    ]
    return table(header, body) + "\n\n" + table(socket_header, socket_body)


def machine_lines(machine: Mapping[str, str]) -> str:
    order = ("cpu", "cores", "ram", "kernel", "python", "postgresql", "node", "postgraphile", "wrk")
    known = [key for key in order if key in machine] + [key for key in machine if key not in order]
    return "machine: " + "; ".join(f"{key} {machine[key]}" for key in known)
