"""The analytics benchmark's table puts each aggregate's p50 at every size side by side, with its growth."""

from __future__ import annotations

from bench.analytics import AnalyticsReport


def test_each_aggregate_gets_a_row_with_its_growth_from_the_smallest_size_to_the_largest() -> None:
    # given backlog twice as dear at a million cases, open cases level
    report = AnalyticsReport(
        p50_ms={
            1_000_000: {"backlog (admin)": 20.0, "openCases (admin)": 3.0},
            10_000: {"backlog (admin)": 10.0, "openCases (admin)": 3.0},
        }
    )
    # when
    lines = report.table().splitlines()
    # then
    assert lines[0] == "| analytics, last week | p50 at 10,000 | p50 at 1,000,000 | growth |"
    assert lines[2:] == [
        "| backlog (admin) | 10.00 ms | 20.00 ms | 2.00× |",
        "| openCases (admin) | 3.00 ms | 3.00 ms | 1.00× |",
    ]
