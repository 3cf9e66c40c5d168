"""Unexpected failures are masked for clients, with an id that the server log carries too."""

from __future__ import annotations

import logging

import pytest

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World

CASES_QUERY = "{ cases { totalCount } }"


async def test_an_unexpected_failure_is_masked_with_an_error_id_logged_with_its_traceback(
    client: GraphQLClient,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given: the list service fails with internals in its message
    async def boom(**_: object) -> None:
        raise RuntimeError('relation "cases" does not exist; password=hunter2')

    monkeypatch.setattr("casegraph.services.case_queries.page_request", boom)
    # when
    with caplog.at_level(logging.ERROR, logger="casegraph.graphql"):
        body = await client.execute(CASES_QUERY, token=world.token(settings, "agent"))
    # then: the client learns nothing but an id to quote
    [error] = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    error_id = error["extensions"]["errorId"]
    assert "hunter2" not in str(body) and "relation" not in str(body)
    # and the log has that id with the traceback
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])
