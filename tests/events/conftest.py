"""Fixtures of the live-event tests: a running in-memory LiveEvents, and the schema."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from strawberry import Schema
from tortoise.context import TortoiseContext

from casegraph.events.live import LiveEvents
from schema import build_schema


@pytest.fixture
async def live(db: TortoiseContext) -> AsyncIterator[LiveEvents]:
    events = LiveEvents("memory://", poll_interval=0.05)
    await events.start()
    yield events
    await events.stop()


@pytest.fixture(scope="module")
def schema() -> Schema:
    built = build_schema()
    assert isinstance(built, Schema)
    return built
