"""`make bench`: the whole benchmark suite, one command, one summary table.

    python -m bench.run [--quick] [--sizes 10000,1000000] [--duration S] [--warmup S] [--mutations N]
                        [--subscribers N …] [--soak-seconds S] [--writes-database-url URL]
                        [--only queue|assign|fanout|soak|writes|analytics|search|attachments …]
                        [--json FILE]

1. the agents' queue, casegraph against PostGraphile v5, at 10,000 and 1,000,000 cases side by
   side (``bench.queue``; ``--sizes`` to choose);
2. ``assignToMe`` latency on SQLite (``bench.assign``);
3. subscription fan-out (``bench/fanout.py``, run as its own process through its command line:
   ``--subscribers N … --json FILE``);
4. a soak: resident memory of ``serve --workers 2`` while subscriptions deliver (``bench.soak``;
   one minute, ``--soak-seconds 600`` for the ten-minute run);
5. writes: ``assignToMe``, comments and ``proposeSolution`` from 32 agents on PostgreSQL against a
   minimal asyncpg client's physical limit on the same database (``bench.writes``; on a private
   database at each of ``--sizes``, or with ``--writes-database-url`` on one loaded already);
6. analytics: every aggregate of one week at each of ``--sizes`` (``bench.analytics``), p50 and growth;
7. search: a text search's first page at each of ``--sizes`` (``bench.search``): p50 and ratio to
   the same run's plain page, for a typed case number, a common word and an absent one;
8. attachments: 10 MiB uploads through multipart, MiB/s and the server's peak RSS rise per upload
   (``bench.attachments``; ``--quick`` uploads 2 files, else 5).

Everything is started on loopback and stopped again (Ctrl-C and SIGTERM included); the figures
also go to bench/results/latest.json. The full run stays well under thirty minutes on 2 cores
(loading the million cases takes a few of them); ``--quick`` (10,000 and 50,000 cases, short
runs, 50 mutations, 100 and 1,000 subscribers) takes about four.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any, Final

from bench import report
from bench.analytics import AnalyticsReport, run_analytics
from bench.assign import AssignReport, run_assign
from bench.attachments import AttachmentsReport, run_attachments
from bench.machine import describe
from bench.queue import DEFAULT_SIZES, QUICK_SIZES, QueueOptions, QueueReport, parse_sizes, run_queue
from bench.search import SearchReport, run_search
from bench.services import ServiceUnavailable, private_postgres
from bench.soak import SoakReport, run_soak, soak_table
from bench.writes import WritesOptions, WritesReport, run_writes, writes_table

BENCH_DIR: Final = Path(__file__).resolve().parent
RESULTS: Final = BENCH_DIR / "results" / "latest.json"
FANOUT_TIMEOUT: Final = 420.0
PARTS: Final = ("queue", "assign", "fanout", "soak", "writes", "analytics", "search", "attachments")


def _stop_on_sigterm() -> None:
    """SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so every server is stopped on the way out."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def _interrupt(child: subprocess.Popen[bytes]) -> None:
    """SIGINT: fanout.py's own clean-up runs on KeyboardInterrupt and stops its server."""
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_fanout(subscribers: list[int]) -> dict[str, Any] | None:
    """bench/fanout.py in its own process; its JSON figures, or None if it failed."""
    with tempfile.TemporaryDirectory(prefix="casegraph-bench-fanout.") as tmp:
        out = Path(tmp) / "fanout.json"
        command = [
            sys.executable,
            str(BENCH_DIR / "fanout.py"),
            "--subscribers",
            *map(str, subscribers),
            "--json",
            str(out),
        ]
        print(f"fan-out: {' '.join(command[1:])}", flush=True)
        child = subprocess.Popen(command, cwd=BENCH_DIR.parent)
        try:
            returncode = child.wait(timeout=FANOUT_TIMEOUT)
        except subprocess.TimeoutExpired:
            _interrupt(child)
            print(f"fan-out did not finish within {FANOUT_TIMEOUT:.0f} s: stopped")
            return None
        except BaseException:
            _interrupt(child)
            raise
        if returncode != 0 or not out.exists():
            print(f"fan-out failed (exit status {returncode})")
            return None
        figures: dict[str, Any] = json.loads(out.read_text())
        return figures


def fanout_table(figures: dict[str, Any]) -> str:
    columns = (
        ("subscribers", "subscribers", "{:,.0f}"),
        ("p50_ms", "p50 (ms)", "{:,.1f}"),
        ("p99_ms", "p99 (ms)", "{:,.1f}"),
        ("max_ms", "max (ms)", "{:,.1f}"),
        ("kib_per_idle_subscription", "KiB per idle subscription", "{:,.1f}"),
        ("server_cpu_us_per_delivery", "server CPU per delivery (µs)", "{:,.1f}"),
    )
    results = figures.get("results", [])
    present = [c for c in columns if any(c[0] in r for r in results)]
    header = ["fan-out (queueEvents of one group)", *(label for _, label, _ in present[1:])]
    rows = [
        [
            f"{r.get('subscribers', '?'):,} subscribers",
            *(fmt.format(r[key]) if key in r else "–" for key, _, fmt in present[1:]),
        ]
        for r in results
    ]
    return report.table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs, for development")
    parser.add_argument(
        "--sizes", type=parse_sizes, help="queue data-set sizes, e.g. 10000,1000000 or 10k (default both)"
    )
    parser.add_argument("--duration", type=float, help="seconds of measured load per queue target")
    parser.add_argument("--warmup", type=float, help="seconds of unmeasured load before each")
    parser.add_argument("--mutations", type=int, help="assignToMe mutations measured")
    parser.add_argument("--subscribers", type=int, nargs="+", help="fan-out sizes")
    parser.add_argument(
        "--soak-seconds", type=float, help="length of the soak (default 60, --quick 30; 600 for the full one)"
    )
    parser.add_argument("--writes-database-url", help="the write benchmark on this loaded database (any size)")
    parser.add_argument("--only", choices=PARTS, nargs="+", default=list(PARTS))
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"figures as JSON (default {RESULTS})")
    args = parser.parse_args()
    quick = args.quick
    options = QueueOptions(
        sizes=args.sizes or (QUICK_SIZES if quick else DEFAULT_SIZES),
        duration=args.duration or (3.0 if quick else 10.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
    )
    mutations = args.mutations or (50 if quick else 200)
    subscribers = args.subscribers or ([100, 1000] if quick else [1000, 10000])
    _stop_on_sigterm()
    started = time.monotonic()

    queue: QueueReport | None = None
    if "queue" in args.only:
        try:
            queue = run_queue(options)
        except ServiceUnavailable as missing:
            print(f"queue benchmark skipped: {missing}")
    assign: AssignReport | None = run_assign(mutations) if "assign" in args.only else None
    fanout = run_fanout(subscribers) if "fanout" in args.only else None
    soak_seconds = args.soak_seconds or (30.0 if quick else 60.0)
    soak: SoakReport | None = run_soak(seconds=soak_seconds) if "soak" in args.only else None
    # One write run per size (a private database each), or one on the database given.
    writes: dict[int, WritesReport] = {}
    if "writes" in args.only:
        sizes = [0] if args.writes_database_url else list(options.sizes)
        for size in sizes:
            try:
                writes[size] = run_writes(
                    WritesOptions(
                        cases=size or WritesOptions.cases,
                        duration=args.duration or (5.0 if quick else 15.0),
                        warmup=options.warmup,
                        database_url=args.writes_database_url,
                    )
                )
            except ServiceUnavailable as missing:
                print(f"write benchmark skipped: {missing}")
                break

    analytics: AnalyticsReport | None = None
    if "analytics" in args.only:
        try:
            with private_postgres() as pg:
                analytics = run_analytics(pg, options.sizes, repeats=5 if quick else 15)
        except ServiceUnavailable as missing:
            print(f"analytics benchmark skipped: {missing}")

    search: SearchReport | None = None
    if "search" in args.only:
        try:
            with private_postgres() as pg:
                search = run_search(pg, options.sizes, repeats=5 if quick else 15)
        except ServiceUnavailable as missing:
            print(f"search benchmark skipped: {missing}")

    attachments: AttachmentsReport | None = None
    if "attachments" in args.only:
        attachments = run_attachments(files=2 if quick else 5)

    machine = describe(queue.versions if queue else {})
    print()
    if queue is not None:
        print(report.queue_table(queue), end="\n\n")
    if assign is not None:
        print(report.assign_table(assign), end="\n\n")
    if fanout is not None:
        print(fanout_table(fanout), end="\n\n")
    if soak is not None:
        print(soak_table(soak), end="\n\n")
    for size, run in writes.items():
        print(f"writes at {run.database_cases:,} cases" if size else "writes on the given database")
        print(writes_table(run), end="\n\n")
    if analytics is not None:
        print(analytics.table(), end="\n\n")
    if search is not None:
        print(search.table(), end="\n\n")
    if attachments is not None:
        print(attachments.table(), end="\n\n")
    print(report.machine_lines(machine))
    print(f"(whole run: {time.monotonic() - started:.0f} s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "machine": machine,
                "queue": queue.to_json() if queue else None,
                "assign": asdict(assign) if assign else None,
                "fanout": fanout,
                "soak": soak.to_json() if soak else None,
                "writes": {str(size): run.to_json() for size, run in writes.items()} or None,
                "analytics": {str(size): p50 for size, p50 in analytics.p50_ms.items()} if analytics else None,
                "search": {str(size): p50 for size, p50 in search.p50_ms.items()} if search else None,
                "attachments": attachments.to_json() if attachments else None,
            },
            indent=2,
            default=str,
        )
    )
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        raise SystemExit(130) from None
