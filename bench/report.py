"""Plain-text tables of the figures, as `make bench` prints them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from bench.dataset_world import BENCH_AGENT_ID

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
    return f"{ours / theirs:.2f}" if theirs else "–"


def queue_table(queue: QueueReport) -> str:
    options = queue.options
    rows = queue.rows
    title = (
        f"Agents' queue query: 50 cases by update time with assignee, group, type, tasks and SLA timers, "
        f"as agent {BENCH_AGENT_ID} (2 groups; {queue.queue_total:,} visible open cases)\n"
        f"data: {rows.get('cases', 0):,} cases, {rows.get('case_tasks', 0):,} tasks, "
        f"{rows.get('case_events', 0):,} events, {rows.get('case_timers', 0):,} SLA timers; "
        f"wrk {options.connections} connections, {options.warmup:g} s warm-up, {options.duration:g} s measured per server"
    )
    lines = [title]
    names = list(queue.servers) or list(queue.statements_by_first)
    metrics: list[tuple[str, Callable[[ServerFigures], float], str]] = [
        ("requests/s", lambda s: s.requests_per_second, "{:,.1f}"),
        ("p50 latency (ms)", lambda s: s.p50_ms, "{:,.1f}"),
        ("p99 latency (ms)", lambda s: s.p99_ms, "{:,.1f}"),
        ("server CPU per request (ms)", lambda s: s.cpu_ms_per_request, "{:,.2f}"),
        ("PostgreSQL CPU per request (ms)", lambda s: s.db_cpu_ms_per_request, "{:,.2f}"),
        ("peak RSS (MiB)", lambda s: s.peak_rss_mib, "{:,.0f}"),
        ("SQL statements per request", lambda s: s.statements_per_request, "{:,.1f}"),
        ("fields per response", lambda s: s.fields, "{:,.0f}"),
        ("requests measured", lambda s: s.requests, "{:,.0f}"),
        ("errors (non-2xx, socket)", lambda s: s.errors, "{:,.0f}"),
    ]
    if queue.servers:
        both = "casegraph" in queue.servers and "PostGraphile" in queue.servers
        header = ["", *names, *(["casegraph/PostGraphile"] if both else [])]
        body = []
        for label, value, fmt in metrics:
            row = [label, *(fmt.format(value(queue.servers[n])) for n in names)]
            if both:
                row.append(_ratio(value(queue.servers["casegraph"]), value(queue.servers["PostGraphile"])))
            body.append(row)
        lines += ["", table(header, body)]
    if queue.statements_by_first:
        sizes = sorted({size for counts in queue.statements_by_first.values() for size in counts})
        header = ["SQL statements per request", *(f"first: {size}" for size in sizes)]
        body = [
            [name, *(f"{counts[size]:.1f}" for size in sizes)] for name, counts in queue.statements_by_first.items()
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
