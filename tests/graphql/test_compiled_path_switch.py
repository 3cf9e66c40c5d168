"""``CASEGRAPH_COMPILED_QUERIES``: the compiled query path is an accelerator that can be left out.

``make test`` runs all of ``tests/graphql`` a second time with it off; here both settings are
built explicitly, so the switch itself is shown to work in either run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.fastpath.executor import EXECUTIONS
from casegraph.settings import Settings
from tests.helpers import FakeClock, GraphQLClient, World

QUEUE = """
query Queue { cases(first: 5) { totalCount edges { node { id number title status } } } me { id } }
"""
CREATE_CASE = """
mutation Create($input: CreateCaseInput!) { createCase(input: $input) { errors { code } } }
"""


@pytest.fixture
async def client_with(
    db: TortoiseContext, settings: Settings, clock: FakeClock
) -> AsyncIterator[dict[bool, GraphQLClient]]:
    """A client of an app with the compiled path on (True) and one with it off (False)."""
    clients: dict[bool, GraphQLClient] = {}
    https: list[httpx.AsyncClient] = []
    for compiled in (True, False):
        configured = dataclasses.replace(settings, compiled_queries=compiled)
        runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock)
        app = create_app(configured, manage_resources=False, runtime=runtime)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        https.append(http)
        clients[compiled] = GraphQLClient(http, configured)
    try:
        yield clients
    finally:
        for http in https:
            await http.aclose()


async def test_with_the_compiled_path_off_no_query_goes_near_it_and_the_answers_are_the_same(
    client_with: dict[bool, GraphQLClient], world: World, settings: Settings
) -> None:
    # given an agent's queue with a case in it
    alice, dana = world.token(settings, "requester"), world.token(settings, "agent")
    await client_with[True].data(
        CREATE_CASE, {"input": {"caseTypeCode": "POTHOLE", "title": "Hole", "impact": 1, "urgency": 2}}, token=alice
    )
    # when the queue is asked for with the compiled path on, then off
    before_on = sum(EXECUTIONS.values())
    on: dict[str, Any] = await client_with[True].data(QUEUE, token=dana)
    before_off = sum(EXECUTIONS.values())
    off: dict[str, Any] = await client_with[False].data(QUEUE, token=dana)
    # then only the first went through the compiled executor, and both answered alike
    assert before_off > before_on
    assert sum(EXECUTIONS.values()) == before_off
    assert off == on and on["cases"]["totalCount"] == 1
