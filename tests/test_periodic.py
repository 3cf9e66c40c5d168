"""A background pass that fails while the database is away is part of the outage, not a bug.

CI saw the outbox dispatcher log ``pass failed`` at ERROR once when PostgreSQL was stopped under
a pass in flight: the driver reported the torn-down connection with an error the outage list did
not name. The worker now asks the database; a failure it cannot reach is logged as the outage.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

import pytest

from casegraph import periodic


class _FailingOnce(periodic.PeriodicWorker):
    task_name: ClassVar[str] = "failing-once"
    log: ClassVar[logging.Logger] = logging.getLogger("tests.periodic")

    def __init__(self) -> None:
        super().__init__(interval=0.01)
        self.passes = 0

    async def run_pass(self) -> None:
        self.passes += 1
        if self.passes == 1:
            raise RuntimeError("unexpected connection_lost() call")


async def _two_passes(monkeypatch: pytest.MonkeyPatch, *, database_away: bool) -> _FailingOnce:
    async def unreachable(timeout: float = 2.0) -> bool:
        return database_away

    monkeypatch.setattr(periodic, "database_unreachable", unreachable)
    worker = _FailingOnce()
    await worker.start()
    while worker.passes < 2:
        await asyncio.sleep(0.01)
    await worker.stop()
    return worker


async def test_a_pass_failing_while_the_database_is_unreachable_is_logged_as_the_outage(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tests.periodic")
    await _two_passes(monkeypatch, database_away=True)
    assert [r.levelno for r in caplog.records if r.name == "tests.periodic"] == [logging.WARNING, logging.WARNING]
    assert "unavailable" in caplog.records[0].getMessage()
    assert "available again" in caplog.records[1].getMessage()


async def test_a_pass_failing_while_the_database_answers_is_logged_as_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tests.periodic")
    await _two_passes(monkeypatch, database_away=False)
    errors = [r for r in caplog.records if r.name == "tests.periodic" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["failing-once: pass failed"]
