"""The portal's timeline words staff activity only where the requester can see it (issue 14, section 5).

The history comes from the server as the requester reads it (``details`` filtered for them); Node
then runs the portal's own ``happening`` (``portal/labels.js``) over it, as the browser does.
Needs Node.js (skipped without it; CI refuses to).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Final

import pytest

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.settings import Settings
from casegraph.web import STATIC
from tests.conftest import IN_CI
from tests.helpers import GraphQLClient, World, insert_case

UPDATE_CASE_MUTATION = """
mutation Update($input: UpdateCaseInput!) { updateCase(input: $input) { errors { code } } }
"""
# The fields of the portal's PortalCase history (portal/documents.js).
HISTORY_QUERY = """
query History($id: ID!) {
  case(id: $id) { history(first: 100) { edges { node { id action type toStatus occurredAt details actor { id } } } } }
}
"""
WORDS: Final = """
const { happening } = await import(process.argv[1] + "/portal/labels.js");
const [events, me] = JSON.parse(process.argv[2]);
console.log(JSON.stringify(events.map((event) => happening(event, event.actor?.id === me))));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must have Node.js to run the portal's wording")
        pytest.skip("node is not installed")
    return node


def timeline_words(events: list[dict[str, Any]], me: str) -> list[str | None]:
    completed = subprocess.run(
        [_node(), "--input-type=module", "-e", WORDS, STATIC.resolve().as_uri(), json.dumps([events, me])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    words: list[str | None] = json.loads(completed.stdout)
    return words


async def test_a_work_note_is_not_announced_to_the_requester_but_a_staff_comment_is(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's open case; dana writes a work note, then a public comment
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    agent = world.token(settings, "agent")
    for change in ({"workNote": "Checked the budget code"}, {"comment": "A crew comes on Monday."}):
        updated = await client.data(UPDATE_CASE_MUTATION, {"input": {"caseId": case.id, **change}}, token=agent)
        assert updated["updateCase"]["errors"] == []
    history = await client.data(HISTORY_QUERY, {"id": case.id}, token=world.token(settings, "requester"))
    events = [edge["node"] for edge in history["case"]["history"]["edges"]]
    # when: the portal words alice's timeline
    words = timeline_words(events, world.sub("requester"))
    # then: the work note has no line; the comment does
    assert [event["action"] for event in events] == ["CREATE", "UPDATE", "UPDATE"]
    assert words[1:] == [None, "We added information"]
