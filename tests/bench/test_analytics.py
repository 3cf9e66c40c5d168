"""The analytics benchmark's table puts each aggregate's p50 at every size side by side, with its growth."""

from __future__ import annotations

from bench.analytics import AnalyticsReport


def test_each_aggregate_gets_a_row_with_its_growth_from_the_smallest_size_to_the_largest() -> None:
    # given backlog twice as dear at a million cases as the week's events double, open cases level
    report = AnalyticsReport(
        p50_ms={
            1_000_000: {"backlog (admin)": 20.0, "openCases (admin)": 3.0},
            10_000: {"backlog (admin)": 10.0, "openCases (admin)": 3.0},
        },
        week_rows={1_000_000: {"events in the week": 3_000}, 10_000: {"events in the week": 1_500}},
    )
    # when
    lines = report.table().splitlines()
    # then
    assert lines[0] == "| analytics, last week | at 10,000 | at 1,000,000 | growth |"
    assert lines[2:] == [
        "| events in the week | 1,500 | 3,000 | 2.00× |",
        "| backlog (admin), p50 | 10.00 ms | 20.00 ms | 2.00× |",
        "| openCases (admin), p50 | 3.00 ms | 3.00 ms | 1.00× |",
    ]
