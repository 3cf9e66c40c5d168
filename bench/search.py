"""What a text search of cases costs at 10,000 and at 1,000,000 cases (``--only search``).

    python -m bench.search [--sizes 10000,1000000] [--repeats 15]

Each size is a fresh database of ``bench.scale`` on a private PostgreSQL (search index filled by
its triggers as the cases are loaded). Through casegraph's own service (``list_cases``, first page
of 50), for an administrator and for the bench agent (their groups), ``--repeats`` calls each of:
the plain queue page (no text) — the yardstick — a typed case number, a street name (a word in
about one case title in ten), and a word no case has. Printed: p50 per call, the matches, and each
search's ratio to the same run's plain page. A search read through its index costs its matches,
not the table: the number and the absent word stay flat as the table grows a hundredfold, the
street grows with its matches.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Final

from tortoise.context import TortoiseContext

from bench import dataset_world as world
from bench.queue import DEFAULT_SIZES, parse_sizes
from bench.scale import fresh_sized_database
from bench.services import PrivatePostgres, private_postgres
from casegraph.db import tortoise_config
from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor
from casegraph.services.case_queries import CaseFilter, Ordering, list_cases

PAGE: Final = 50
PLAIN: Final = "plain page"


@dataclass
class SearchReport:
    """p50 milliseconds and matches per (reader, query) per size."""

    p50_ms: dict[int, dict[str, float]] = field(default_factory=dict)
    matches: dict[int, dict[str, int]] = field(default_factory=dict)

    def table(self) -> str:
        sizes = sorted(self.p50_ms)
        header = "| search, first page of 50 | " + " | ".join(f"at {n:,}" for n in sizes) + " | growth |"
        lines = [header, "|" + "---|" * (len(sizes) + 2)]
        for key in self.p50_ms[sizes[0]]:
            figures = [self.p50_ms[n][key] for n in sizes]
            reader = key.split(": ")[0]
            cells = []
            for n, figure in zip(sizes, figures):
                ratio = figure / self.p50_ms[n][f"{reader}: {PLAIN}"]
                cells.append(f"{figure:.2f} ms ({self.matches[n][key]:,} found, {ratio:.2f}× plain)")
            lines.append(f"| {key} | " + " | ".join(cells) + f" | {figures[-1] / figures[0]:.2f}× |")
        return "\n".join(lines)


async def _measure(url: str, agent_groups: list[int], repeats: int) -> tuple[dict[str, float], dict[str, int]]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        readers = {
            "admin": Actor("bench-search-admin", frozenset({Role.ADMIN})),
            "agent": Actor(world.BENCH_AGENT_ID, frozenset({Role.AGENT}), frozenset(agent_groups)),
        }
        figures: dict[str, float] = {}
        found: dict[str, int] = {}
        for reader, actor in readers.items():
            # The number of a case the reader sees: the first of their plain page.
            shown = await list_cases(
                actor=actor, flt=CaseFilter(), ordering=Ordering(), first=1, after=None, max_page=PAGE
            )
            if not shown.records:
                raise RuntimeError(f"the {reader} sees no case")
            number = shown.records[0].number
            texts = {PLAIN: None, "case number": number, "street word": "harbor", "absent word": "zyzzyva"}
            for name, text in texts.items():
                flt = CaseFilter(text=text)

                async def page(flt: CaseFilter = flt, actor: Actor = actor) -> int:
                    listed = await list_cases(
                        actor=actor, flt=flt, ordering=Ordering(), first=PAGE, after=None, max_page=PAGE
                    )
                    return listed.total

                found[f"{reader}: {name}"] = await page()  # statements prepared, caches warm
                samples = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    await page()
                    samples.append((time.perf_counter() - started) * 1000)
                figures[f"{reader}: {name}"] = statistics.median(samples)
        return figures, found


def run_search(pg: PrivatePostgres, sizes: tuple[int, ...], repeats: int) -> SearchReport:
    report = SearchReport()
    for cases in sizes:
        loaded = time.monotonic()
        data = asyncio.run(fresh_sized_database(pg, cases, database=f"casegraph_search_{cases}"))
        print(f"search: {cases:,} cases loaded in {time.monotonic() - loaded:.0f} s", flush=True)
        report.p50_ms[cases], report.matches[cases] = asyncio.run(
            _measure(data.url, data.base.bench_group_ids, repeats)
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="e.g. 10000,1000000 or 10k")
    parser.add_argument("--repeats", type=int, default=15, help="measured calls per reader and query")
    args = parser.parse_args()
    with private_postgres() as pg:
        report = run_search(pg, tuple(args.sizes), args.repeats)
    print(report.table())


if __name__ == "__main__":
    main()
