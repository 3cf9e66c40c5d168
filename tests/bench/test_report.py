"""The queue report puts the sizes side by side and states the growth from the smallest to the largest."""

from __future__ import annotations

import json

from bench.queue import Measurement, QueueOptions, QueueReport, ServerFigures, SizeReport
from bench.readme_table import markdown
from bench.report import queue_table


def figures(name: str, *, rps: float, p50: float, cpu: float, db: float) -> ServerFigures:
    return ServerFigures(
        name=name,
        requests=int(rps * 10),
        requests_per_second=rps,
        p50_ms=p50,
        p99_ms=2 * p50,
        cpu_ms_per_request=cpu,
        db_cpu_ms_per_request=db,
        peak_rss_mib=100,
        statements_per_request=2,
        fields=500,
        errors=0,
    )


def test_the_growth_is_the_largest_size_over_the_smallest_per_shape_viewer_and_server() -> None:
    # given: casegraph's costs double from 10,000 to 1,000,000 cases, PostGraphile's stay
    report = QueueReport(
        options=QueueOptions(sizes=(1_000_000, 10_000)),
        sizes=[SizeReport(cases=1_000_000), SizeReport(cases=10_000)],
        measurements=[
            Measurement(1_000_000, "plain page", "bench-parks", figures("casegraph", rps=100, p50=80, cpu=2, db=6)),
            Measurement(1_000_000, "plain page", "bench-parks", figures("PostGraphile", rps=400, p50=20, cpu=1, db=1)),
            Measurement(10_000, "plain page", "bench-parks", figures("casegraph", rps=200, p50=40, cpu=1, db=3)),
            Measurement(10_000, "plain page", "bench-parks", figures("PostGraphile", rps=400, p50=20, cpu=1, db=1)),
        ],
    )

    # when
    text = queue_table(report)

    # then
    lines = text.splitlines()
    growth = next(i for i, line in enumerate(lines) if line.startswith("growth 1,000,000/10,000 cases"))
    assert lines[growth].split()[-6:] == ["server", "CPU/req", "PG", "CPU/req", "p50", "requests/s"]
    assert [line.split()[-5:] for line in lines[growth + 2 : growth + 4]] == [
        ["casegraph", "2.00×", "2.00×", "2.00×", "0.50×"],
        ["PostGraphile", "1.00×", "1.00×", "1.00×", "1.00×"],
    ]
    # and each size's rows give casegraph's throughput over the other server's
    ratios = [line.split()[-1] for line in lines if "PostGraphile" in line and line.startswith(("10,000", "1,000,000"))]
    assert ratios == ["0.25", "0.50"]


def test_the_readme_table_gives_casegraph_at_both_sizes_its_growth_and_its_ratio_to_postgraphile() -> None:
    # given
    report = QueueReport(
        options=QueueOptions(sizes=(10_000, 1_000_000)),
        sizes=[SizeReport(cases=10_000), SizeReport(cases=1_000_000)],
        measurements=[
            Measurement(10_000, "dashboard", "bench-parks", figures("casegraph", rps=200, p50=40, cpu=1, db=3)),
            Measurement(10_000, "dashboard", "bench-parks", figures("PostGraphile", rps=100, p50=20, cpu=1, db=1)),
            Measurement(1_000_000, "dashboard", "bench-parks", figures("casegraph", rps=4, p50=80, cpu=2, db=6)),
            Measurement(1_000_000, "dashboard", "bench-parks", figures("PostGraphile", rps=100, p50=20, cpu=1, db=1)),
        ],
    )

    # when
    lines = markdown(json.loads(json.dumps(report.to_json(), default=str))).splitlines()

    # then
    assert lines[0].startswith("| casegraph, 10,000 → 1,000,000 cases |")
    assert lines[2:] == [
        "| dashboard, as bench-parks | 200 → 4 | 40 / 80 → 80 / 160 | 1.00 → 2.00 | 3.00 → 6.00 "
        "| 2.00× / 2.00× / 2.00× | 2.00 → 0.040 | – |"
    ]
