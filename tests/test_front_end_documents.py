"""The front ends' GraphQL documents are valid against ``schema.graphql``.

The dashboard and the portal keep their operations as template strings in ES modules
(``agent/queries.js``, ``portal/documents.js``), and the dashboard builds one mutation per action
from ``agent/actions.js`` (``caseMutation(name, inputType)``). Node imports those modules as the
browser does and prints every document; each is then validated with graphql-core: a field, an
argument, an input type or a variable that the schema does not have fails here, not in a browser.
Needs Node.js (skipped without it; CI refuses to).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from typing import Final

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from casegraph.web import STATIC
from tests.conftest import IN_CI
from tests.live.support import REPO_ROOT

SDL_PATH: Final = REPO_ROOT / "schema.graphql"

# Every operation the front ends send: exported strings with an operation in them (fragments are
# validated through the operations that spread them), and the dashboard's action mutations.
DUMP: Final = """
const agent = await import(process.argv[1] + "/agent/queries.js");
const actions = await import(process.argv[1] + "/agent/actions.js");
const portal = await import(process.argv[1] + "/portal/documents.js");
const documents = {};
const operation = /^\\s*(query|mutation|subscription)\\b/m;
for (const [prefix, module] of [["agent", agent], ["portal", portal]]) {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === "string" && operation.test(value)) documents[`${prefix}.${name}`] = value;
  }
}
const tables = { ACTIONS: actions.ACTIONS, TASK_MUTATIONS: actions.TASK_MUTATIONS,
                 REFERRAL_MUTATIONS: actions.REFERRAL_MUTATIONS };
for (const [table, specs] of Object.entries(tables)) {
  for (const [key, spec] of Object.entries(specs)) {
    documents[`agent.${table}.${key}`] = agent.caseMutation(spec.mutation, spec.input);
  }
}
console.log(JSON.stringify(documents));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must have Node.js to check the front ends' GraphQL documents")
        pytest.skip("node is not installed")
    return node


@cache
def _documents() -> dict[str, str]:
    completed = subprocess.run(
        [_node(), "--input-type=module", "-e", DUMP, STATIC.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    documents: dict[str, str] = json.loads(completed.stdout)
    return documents


@cache
def _schema() -> GraphQLSchema:
    return build_schema(SDL_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)


def test_the_front_ends_send_the_operations_expected() -> None:
    names = set(_documents())
    # The case view's referral operations, and one mutation per dashboard action.
    assert {
        "agent.CASE_QUERY",
        "agent.REFERRAL_PARTNERS_QUERY",
        "agent.RETRY_REFERRAL",
        "agent.REFERRAL_MUTATIONS.refer",
        "agent.REFERRAL_MUTATIONS.accept",
        "agent.REFERRAL_MUTATIONS.reject",
        "agent.ACTIONS.PROPOSE_SOLUTION",
        "portal.CASE",
    } <= names
    assert "agent.CASE_DETAIL" not in names  # a fragment: checked where it is spread


def test_every_front_end_document_is_valid_against_the_schema() -> None:
    problems = {
        name: [error.message for error in validate(_schema(), parse(document))]
        for name, document in sorted(_documents().items())
    }
    assert {name: errors for name, errors in problems.items() if errors} == {}


def test_the_case_view_reads_every_referral_field_it_shows() -> None:
    # The referrals section words statuses from these (staff only; empty for others).
    case_query = _documents()["agent.CASE_QUERY"]
    referrals = case_query[case_query.index("referrals {") :]
    referrals = referrals[: referrals.index("}")]
    for field in (
        "id",
        "direction",
        "status",
        "partnerCode",
        "partnerName",
        "taskId",
        "note",
        "reason",
        "remoteCaseNumber",
        "remoteStage",
        "remoteStatus",
        "remoteResolutionCode",
        "remoteResolutionNotes",
        "lastError",
        "createdAt",
        "deliveredAt",
    ):
        assert f" {field} " in f" {' '.join(referrals.split())} ", field


def test_an_unknown_field_is_caught() -> None:
    # The check itself can fail: a misspelt field in a copy of the case query.
    broken = _documents()["agent.CASE_QUERY"].replace("remoteStatus", "remoteState", 1)
    errors = [error.message for error in validate(_schema(), parse(broken))]
    assert any("remoteState" in message for message in errors), errors
