"""The event hub and catching-up subscribers log a database outage once, not once per retry.

The hub retries at every wake-up and a subscriber catching up retries every second: during an
outage each retry logged a warning with a traceback. Now, as the periodic workers do
(``casegraph.outages.OutageLog``), a warning when the outage starts and a line when it ends; the
retries in between are DEBUG. The tests count log lines over several failed retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from strawberry.schema import Schema

import casegraph.fanout.followers as followers
from casegraph.events.hub import refresh_actors
from casegraph.events.live import LiveEvents
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.followers import State
from tests.fanout.test_followers import Socket, follower_for, until
from tests.helpers import World, insert_case

FAILURES = 3


def failing(times: int, original: Callable[..., Awaitable[Any]], calls: list[str]) -> Callable[..., Awaitable[Any]]:
    """``original``, but its first ``times`` calls fail as a stopped database does."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        if len(calls) < times:
            calls.append("failed")
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        result = await original(*args, **kwargs)
        calls.append("done")
        return result

    return call


def warnings(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= logging.WARNING]


async def test_the_hub_logs_an_outage_when_it_starts_and_when_it_ends(
    world: World, live: LiveEvents, schema: Schema, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a subscriber (the hub reads the log only for someone), and a log that cannot be read
    # for the next few wake-ups
    hub = live.hub
    follower = follower_for(FanoutDispatcher(schema), live, world, "agent", Socket())
    await follower.start(None)
    calls: list[str] = []
    monkeypatch.setattr(hub, "drain", failing(FAILURES, hub.drain, calls))
    caplog.set_level(logging.DEBUG, logger="casegraph.events.hub")
    # when: it is woken again and again, through the outage and after it
    while "done" not in calls:
        attempts = len(calls)
        hub.wake()
        await until(lambda: len(calls) > attempts)  # noqa: B023 - awaited before the loop moves on
    await asyncio.sleep(0)
    assert calls == ["failed"] * FAILURES + ["done"]
    # then: one warning when it started, one line when it ended
    logged = warnings(caplog, "casegraph.events.hub")
    assert len(logged) == 2, logged
    assert "unavailable" in logged[0] and "available again" in logged[1]
    follower.close()


async def test_subscribers_catching_up_log_an_outage_when_it_starts_and_when_it_ends(
    world: World, live: LiveEvents, schema: Schema, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a live subscriber whose catch-up from the log fails for a few retries
    await insert_case(world)
    follower = follower_for(FanoutDispatcher(schema), live, world, "agent", Socket())
    await follower.start(None)
    assert follower.state is State.LIVE
    calls: list[str] = []
    monkeypatch.setattr(followers, "refresh_actors", failing(FAILURES, refresh_actors, calls))
    monkeypatch.setattr(followers, "RETRY_DELAY", 0.0)
    caplog.set_level(logging.DEBUG, logger="casegraph.fanout.followers")
    # when: its socket dropped frames, so it catches up from the log, through the outage
    follower.fell_behind(0)
    await until(lambda: follower.state is State.LIVE)
    await asyncio.sleep(0)
    # then: it retried through the outage and logged it once when it started and once when it ended
    assert calls == ["failed"] * FAILURES + ["done"]
    logged = warnings(caplog, "casegraph.fanout.followers")
    assert len(logged) == 2, logged
    assert "unavailable" in logged[0] and "available again" in logged[1]
    follower.close()
