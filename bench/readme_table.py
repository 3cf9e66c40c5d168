"""The README's queue table (both sizes side by side, the growth) from a run's JSON figures.

    python -m bench.readme_table [bench/results/latest.json]

Prints Markdown: per shape and viewer, casegraph's requests/s, p50/p99, server and PostgreSQL
CPU per request at the smallest and the largest size, the growth between them, and casegraph's
throughput over PostGraphile's (with visibility, and without it where it was measured).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from bench.queue import CASEGRAPH, POSTGRAPHILE, POSTGRAPHILE_OPEN

RESULTS: Final = Path(__file__).resolve().parent / "results" / "latest.json"


def _index(queue: dict[str, Any]) -> dict[tuple[int, str, str, str], dict[str, float]]:
    return {(m["cases"], m["shape"], m["viewer"], m["figures"]["name"]): m["figures"] for m in queue["measurements"]}


def _ratio(ours: float | None, theirs: float | None, suffix: str = "") -> str:
    if ours is None or not theirs:
        return "–"
    ratio = ours / theirs
    return f"{ratio:.2f}{suffix}" if ratio >= 0.1 else f"{ratio:.3f}{suffix}"


def markdown(queue: dict[str, Any]) -> str:
    """The table for the figures of one queue run (``QueueReport.to_json``)."""
    figures = _index(queue)
    sizes = [size["cases"] for size in queue["sizes"]]
    small, large = min(sizes), max(sizes)
    rows = _in_order((shape, viewer) for _, shape, viewer, _ in figures)

    def value(cases: int, shape: str, viewer: str, server: str, key: str) -> float | None:
        found = figures.get((cases, shape, viewer, server))
        return None if found is None else float(found[key])

    def both(shape: str, viewer: str, key: str, fmt: str) -> str:
        values = [value(cases, shape, viewer, CASEGRAPH, key) for cases in (small, large)]
        return " → ".join("–" if v is None else fmt.format(v) for v in values)

    header = [
        f"casegraph, {small:,} → {large:,} cases",
        "requests/s",
        "p50 / p99 (ms)",
        "server CPU/req (ms)",
        "PG CPU/req (ms)",
        "growth: server CPU / PG CPU / p50",
        "casegraph/PostGraphile (req/s)",
        "… no visibility",
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for shape, viewer in rows:
        p50 = [value(c, shape, viewer, CASEGRAPH, "p50_ms") for c in (small, large)]
        p99 = [value(c, shape, viewer, CASEGRAPH, "p99_ms") for c in (small, large)]
        latency = " → ".join(
            "–" if a is None or b is None else f"{a:,.0f} / {b:,.0f}" for a, b in zip(p50, p99, strict=True)
        )
        growth = " / ".join(
            _ratio(value(large, shape, viewer, CASEGRAPH, key), value(small, shape, viewer, CASEGRAPH, key), "×")
            for key in ("cpu_ms_per_request", "db_cpu_ms_per_request", "p50_ms")
        )
        against = [
            "–"
            if value(small, shape, viewer, server, "requests_per_second") is None
            else " → ".join(
                _ratio(
                    value(c, shape, viewer, CASEGRAPH, "requests_per_second"),
                    value(c, shape, viewer, server, "requests_per_second"),
                )
                for c in (small, large)
            )
            for server in (POSTGRAPHILE, POSTGRAPHILE_OPEN)
        ]
        cells = [
            f"{shape}, as {viewer}",
            both(shape, viewer, "requests_per_second", "{:,.0f}"),
            latency,
            both(shape, viewer, "cpu_ms_per_request", "{:.2f}"),
            both(shape, viewer, "db_cpu_ms_per_request", "{:.2f}"),
            growth,
            *against,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _in_order(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="?", default=RESULTS)
    args = parser.parse_args()
    document = json.loads(args.results.read_text())
    print(markdown(document.get("queue", document)))


if __name__ == "__main__":
    main()
