"""Reading cases (api.md *Operations*, lifecycle.md *Roles*): Relay lists, filters, visibility,
single-case lookups, the viewer, reference data, history pages and internal fields."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, insert_case

CASES_QUERY = """
query Cases($filter: CaseFilterInput, $orderBy: CaseOrderInput, $first: Int, $after: String) {
  cases(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number priority createdAt updatedAt deletedAt } }
  }
}
"""
CASE_QUERY = "query Case($id: ID!) { case(id: $id) { id number } }"
CASE_BY_NUMBER_QUERY = "query CaseByNumber($number: String!) { caseByNumber(number: $number) { id } }"
ME_QUERY = "query Me { me { id name roles email groups { code } } }"
CASE_TYPES_QUERY = "query CaseTypes { caseTypes { code name workflow active assignmentGroup { code } } }"
ASSIGNMENT_GROUPS_QUERY = "query AssignmentGroups { assignmentGroups { code name members { isManager user { id } } } }"
HISTORY_QUERY = """
query History($id: ID!, $first: Int, $after: String) {
  case(id: $id) {
    history(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { sequence version action } }
    }
  }
}
"""
INTERNALS_QUERY = """
query Internals($id: ID!) {
  case(id: $id) {
    inspectionFindings
    workNotes { body }
    comments { body }
    requester { id email }
    assignedTo { id email }
    inspector { id email }
    history { edges { node { details } } }
  }
}
"""
CREATE_CASE_MUTATION = (
    "mutation CreateCase($input: CreateCaseInput!) { createCase(input: $input) { case { id } errors { code } } }"
)
UPDATE_CASE_MUTATION = (
    "mutation UpdateCase($input: UpdateCaseInput!) { updateCase(input: $input) { case { id } errors { code } } }"
)
ASSIGN_WORK_MUTATION = (
    "mutation AssignWork($input: AssignWorkInput!) { assignWork(input: $input) { case { id } errors { code } } }"
)
COMPLETE_INSPECTION_MUTATION = "mutation CompleteInspection($input: CompleteInspectionInput!) { completeInspection(input: $input) { errors { code } } }"


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def cases(client: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(CASES_QUERY, variables, token=token)
    connection: dict[str, Any] = data["cases"]
    return connection


async def visible_ids(client: GraphQLClient, token: str, **filters: Any) -> set[str]:
    connection = await cases(client, token, first=100, filter=filters or None)
    ids = {edge["node"]["id"] for edge in connection["edges"]}
    assert connection["totalCount"] == len(ids)
    return ids


def top_level_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


SORT_VALUE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "CREATED_AT": lambda n: datetime.fromisoformat(n["createdAt"]),
    "UPDATED_AT": lambda n: datetime.fromisoformat(n["updatedAt"]),
    "PRIORITY": lambda n: n["priority"],
    "NUMBER": lambda n: n["number"],
}


async def test_pages_cover_every_case_once_in_order_for_every_ordering(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given ten cases with distinct and tied priorities, some updated after creation
    alice, dana, maria = token("requester"), token("agent"), token("manager")
    for impact, urgency in ((1, 1), (1, 2), (3, 2), (3, 3)):
        await act(
            client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Q", impact=impact, urgency=urgency
        )
    inserted = [await insert_case(world, state=lc.INTAKE_OPEN) for _ in range(6)]
    for record in inserted[::2]:
        await act(client, UPDATE_CASE_MUTATION, dana, caseId=record.id, comment="Bump")
    for field in SORT_VALUE:
        for direction in ("ASC", "DESC"):
            # when paging three at a time
            seen: list[dict[str, Any]] = []
            after: str | None = None
            pages = 0
            while True:
                page = await cases(
                    client, maria, first=3, after=after, orderBy={"field": field, "direction": direction}
                )
                pages += 1
                assert page["totalCount"] == 10
                assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
                seen.extend(edge["node"] for edge in page["edges"])
                assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            # then
            ids = [node["id"] for node in seen]
            assert pages == 4 and len(ids) == 10 and len(set(ids)) == 10, (field, direction)
            key = SORT_VALUE[field]
            expected = sorted(seen, key=lambda n: (key(n), n["id"]), reverse=direction == "DESC")
            assert ids == [node["id"] for node in expected], (field, direction)


async def test_first_is_capped_at_one_hundred(client: GraphQLClient, world: World, token: Callable[[str], str]) -> None:
    # given
    for _ in range(101):
        await insert_case(world)
    # when: more than the cap is refused (issue 20: not cut short silently); the cap itself runs
    over = await client.execute(CASES_QUERY, {"first": 1000}, token=token("admin"))
    page = await cases(client, token("admin"), first=100)
    default = await cases(client, token("admin"))
    # then
    assert top_level_code(over) == "VALIDATION_FAILED" and "at most 100" in over["errors"][0]["message"]
    assert len(page["edges"]) == 100 and page["totalCount"] == 101 and page["pageInfo"]["hasNextPage"] is True
    assert 0 < len(default["edges"]) <= 100
    rest = await cases(client, token("admin"), first=100, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False


async def test_every_filter_narrows_the_list(client: GraphQLClient, world: World, token: Callable[[str], str]) -> None:
    # given
    elm = await insert_case(world, title="Pothole on Elm Street", assigned_to=None)
    permit = await insert_case(
        world, case_type="QUESTION", state=lc.INTAKE_OPEN, requester="other_constituent", title="Question about permits"
    )
    light = await insert_case(world, state=lc.REVIEW_OPEN, assigned_to="other_agent", title="Broken streetlight")
    benefit = await insert_case(world, case_type="PAYMENT", assigned_to=None, title="Late payment")
    await act(client, UPDATE_CASE_MUTATION, token("agent"), caseId=permit.id, impact=1, urgency=1)
    ada = token("admin")
    expectations: list[tuple[dict[str, Any], set[str]]] = [
        ({"status": ["NEW"]}, {elm.id, benefit.id}),
        ({"status": ["OPEN"], "stage": ["REVIEW"]}, {light.id}),
        ({"stage": ["INTAKE"]}, {elm.id, permit.id, benefit.id}),
        ({"caseTypeCode": ["QUESTION", "PAYMENT"]}, {permit.id, benefit.id}),
        ({"caseTypeCode": ["NO_SUCH_TYPE"]}, set()),
        ({"assignmentGroupCode": ["BENEFITS"]}, {benefit.id}),
        ({"assignedToId": "eli"}, {light.id}),
        ({"unassigned": True}, {elm.id, benefit.id}),
        ({"unassigned": False}, {permit.id, light.id}),
        ({"requesterId": "bob"}, {permit.id}),
        ({"priority": [1]}, {permit.id}),
        ({"priority": [3, 5]}, {elm.id, light.id, benefit.id}),
        ({"text": "elm"}, {elm.id}),
        ({"text": "STREET"}, {elm.id, light.id}),
        ({"status": ["NEW"], "assignmentGroupCode": ["ROADS"]}, {elm.id}),
    ]
    # when / then
    for filters, expected in expectations:
        assert await visible_ids(client, ada, **filters) == expected, filters


async def test_codes_and_user_ids_no_row_can_have_match_no_case(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: codes longer than their column or holding NUL (which PostgreSQL text cannot hold)
    pothole = await insert_case(world, assigned_to="agent", requester="requester")
    ada = token("admin")
    unmatched: list[dict[str, Any]] = [
        {"caseTypeCode": ["P" * 65]},
        {"caseTypeCode": ["POTHOLE\x00"]},
        {"assignmentGroupCode": ["R" * 65, "ROADS\x00"]},
        {"assignedToId": "d" * 256},
        {"assignedToId": "dana\x00"},
        {"requesterId": "a" * 30_000},
        {"requesterId": "alice\x00"},
    ]
    # when / then: nothing matches, as for a code nothing has; a usable code beside them still counts
    for filters in unmatched:
        assert await visible_ids(client, ada, **filters) == set(), filters
    assert await visible_ids(client, ada, caseTypeCode=["P" * 65, "POTHOLE"]) == {pothole.id}


async def test_a_text_filter_with_a_nul_character_is_a_validation_error_naming_it(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await insert_case(world, title="Pothole on Elm Street")
    # when
    body = await client.execute(CASES_QUERY, {"filter": {"text": "Elm\x00"}}, token=token("admin"))
    # then
    assert top_level_code(body) == "VALIDATION_FAILED" and body["data"] is None
    assert body["errors"][0]["extensions"]["field"] == "filter.text"


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


async def test_cursors_we_did_not_issue_are_a_top_level_validation_error(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: cursors of the right shape whose values the database could not compare
    case = await insert_case(world)
    forged = [
        ("CREATED_AT", cursor("2026-01-01T00:00:00+00:00", "not-a-case-id")),
        ("CREATED_AT", cursor("2026-01-01T00:00:00+00:00", case.id.upper())),
        ("CREATED_AT", cursor("2026-01-01T00:00:00", case.id)),
        ("UPDATED_AT", cursor("9999-12-31T23:59:59-14:00", case.id)),
        ("NUMBER", cursor("CS" + "9" * 20, case.id)),
        ("NUMBER", cursor("CS000\x00", case.id)),
        ("PRIORITY", cursor(2**40, case.id)),
        ("CREATED_AT", base64.urlsafe_b64encode(b"[" * 100_000).decode()),
    ]
    # when
    bodies = [
        await client.execute(
            CASES_QUERY, {"after": after, "orderBy": {"field": field, "direction": "DESC"}}, token=token("admin")
        )
        for field, after in forged
    ]
    # then
    assert [top_level_code(body) for body in bodies] == ["VALIDATION_FAILED"] * len(forged)


async def test_bad_cursor_or_page_size_is_a_top_level_validation_error(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    for _ in range(3):
        await insert_case(world)
    dana = token("agent")
    by_priority = await cases(client, dana, first=1, orderBy={"field": "PRIORITY", "direction": "ASC"})
    # when
    bodies = [
        await client.execute(CASES_QUERY, {"after": "not-a-cursor"}, token=dana),
        await client.execute(CASES_QUERY, {"after": "W10="}, token=dana),
        await client.execute(
            CASES_QUERY,
            {"after": by_priority["pageInfo"]["endCursor"], "orderBy": {"field": "NUMBER", "direction": "ASC"}},
            token=dana,
        ),
        await client.execute(CASES_QUERY, {"first": -1}, token=dana),
    ]
    # then
    assert [top_level_code(body) for body in bodies] == ["VALIDATION_FAILED"] * 4
    assert all(body["data"] is None for body in bodies)


async def test_lists_and_lookups_show_each_role_only_what_it_may_see(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given cases spread over requesters, groups, assignees, inspectors and task assignees
    a = await insert_case(world, assigned_to=None)
    b = await insert_case(
        world, case_type="QUESTION", state=lc.INTAKE_OPEN, requester="other_constituent", assigned_to="other_agent"
    )
    c = await insert_case(world, case_type="PAYMENT", state=lc.INTAKE_OPEN, assigned_to="outsider_agent")
    d = await insert_case(world, case_type="PAYMENT", state=lc.INTAKE_OPEN, requester="other_constituent")
    e = await insert_case(world, state=lc.REVIEW_INSPECTION, requester="other_constituent", inspector="field_agent")
    f = await insert_case(world, state=lc.PROCESS_WORK, requester="other_constituent")
    await act(client, ASSIGN_WORK_MUTATION, token("agent"), caseId=f.id, tasks=[{"title": "Dig", "assigneeId": "fay"}])
    g = await insert_case(world, state=lc.DRAFT, assigned_to=None)
    h = await insert_case(world, state=lc.DRAFT, requester="other_constituent", author="agent", assigned_to=None)
    deleted = await insert_case(world, deleted=True)
    everything = {x.id for x in (a, b, c, d, e, f, g, h, deleted)}
    expected = {
        "requester": {a.id, c.id, g.id},
        "other_constituent": {b.id, d.id, e.id, f.id},
        "agent": {a.id, b.id, d.id, e.id, f.id, h.id},
        "other_agent": {a.id, b.id, e.id, f.id},
        "manager": {a.id, b.id, e.id, f.id},
        "outsider_agent": {c.id, d.id},
        "outsider_manager": {c.id, d.id},
        "field_agent": {e.id},
        "other_field_agent": {f.id},
        "admin": {a.id, b.id, c.id, d.id, e.id, f.id},
    }
    # when / then
    for who, ids in expected.items():
        assert await visible_ids(client, token(who)) == ids, who
        for case_id in everything - {deleted.id}:
            found = (await client.data(CASE_QUERY, {"id": case_id}, token=token(who)))["case"]
            assert (found is not None) is (case_id in ids), (who, case_id)
    for record in (a, c, g):
        number = await client.data(CASE_BY_NUMBER_QUERY, {"number": record.number}, token=token("requester"))
        assert number["caseByNumber"] == {"id": record.id}
    for record in (b, h):
        assert (await client.data(CASE_BY_NUMBER_QUERY, {"number": record.number}, token=token("requester")))[
            "caseByNumber"
        ] is None
    assert (await client.data(CASE_BY_NUMBER_QUERY, {"number": "CS9999999"}, token=token("admin")))[
        "caseByNumber"
    ] is None


async def test_a_case_number_no_case_can_have_finds_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: numbers longer than the column, or holding NUL (which PostgreSQL text cannot hold)
    case = await insert_case(world)
    # when
    found = [
        (await client.data(CASE_BY_NUMBER_QUERY, {"number": number}, token=token("admin")))["caseByNumber"]
        for number in (case.number + "0" * 20, "Y" * 30_000, case.number + "\x00")
    ]
    # then
    assert found == [None, None, None]


async def test_a_case_id_spelled_otherwise_than_we_issue_it_finds_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: one case's id in the other spellings uuid.UUID reads (PostgreSQL refuses some of them)
    case = await insert_case(world)
    spellings = [case.id.upper(), "{" + case.id + "}", "urn:uuid:" + case.id, case.id.replace("-", "")]
    # when
    found = [(await client.data(CASE_QUERY, {"id": spelling}, token=token("admin")))["case"] for spelling in spellings]
    # then
    assert found == [None] * len(spellings)
    assert (await client.data(CASE_QUERY, {"id": case.id}, token=token("admin")))["case"] == {
        "id": case.id,
        "number": case.number,
    }


async def test_only_admin_may_include_deleted_cases(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    live = await insert_case(world)
    gone = await insert_case(world, deleted=True)
    # when
    admin_view = await visible_ids(client, token("admin"), includeDeleted=True)
    refusals = [
        await client.execute(CASES_QUERY, {"filter": {"includeDeleted": True}}, token=token(who))
        for who in ("manager", "agent", "requester")
    ]
    # then
    assert admin_view == {live.id, gone.id}
    assert await visible_ids(client, token("admin")) == {live.id}
    for body in refusals:
        assert top_level_code(body) in {"PERMISSION_DENIED", "VALIDATION_FAILED"} and body["data"] is None


async def test_me_case_types_and_assignment_groups_describe_the_world(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # when
    dana = (await client.data(ME_QUERY, token=token("agent")))["me"]
    maria = (await client.data(ME_QUERY, token=token("manager")))["me"]
    alice = (await client.data(ME_QUERY, token=token("requester")))["me"]
    types = (await client.data(CASE_TYPES_QUERY, token=token("requester")))["caseTypes"]
    staff_groups = (await client.data(ASSIGNMENT_GROUPS_QUERY, token=token("agent")))["assignmentGroups"]
    public_groups = (await client.data(ASSIGNMENT_GROUPS_QUERY, token=token("requester")))["assignmentGroups"]
    # then
    assert dana == {
        "id": "dana",
        "name": "Dana",
        "roles": ["AGENT"],
        "email": "dana@example.org",
        "groups": [{"code": "ROADS"}],
    }
    assert maria["groups"] == [{"code": "ROADS"}] and maria["roles"] == ["MANAGER"]
    assert alice["groups"] == [] and alice["email"] == "alice@example.org" and alice["roles"] == ["CONSTITUENT"]
    assert [(t["code"], t["workflow"], t["assignmentGroup"]["code"], t["active"]) for t in types] == [
        ("PAYMENT", "CUSTOMER_SERVICE", "BENEFITS", True),
        ("POTHOLE", "PUBLIC_SERVICE", "ROADS", True),
        ("QUESTION", "CUSTOMER_SERVICE", "ROADS", True),
    ]
    assert [g["code"] for g in staff_groups] == ["BENEFITS", "ROADS"]
    roads = {(m["user"]["id"], m["isManager"]) for m in staff_groups[1]["members"]}
    assert roads == {("dana", False), ("eli", False), ("maria", True)}
    assert [g["code"] for g in public_groups] == ["BENEFITS", "ROADS"] and all(
        g["members"] == [] for g in public_groups
    )


async def test_history_pages_oldest_first_without_gaps(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case with five events
    alice = token("requester")
    case = await insert_case(world)
    for n in range(4):
        await act(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment=f"Any news? ({n})")
    # when
    versions: list[int] = []
    after: str | None = None
    while True:
        page = (await client.data(HISTORY_QUERY, {"id": case.id, "first": 2, "after": after}, token=alice))["case"][
            "history"
        ]
        assert page["totalCount"] == 5 and page["pageInfo"]["hasPreviousPage"] is (after is not None)
        versions.extend(edge["node"]["version"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    bad = [
        await client.execute(HISTORY_QUERY, {"id": case.id, "after": after}, token=alice)
        for after in ("yesterday", "\u00b2", "9" * 20)
    ]
    # then
    assert versions == [1, 2, 3, 4, 5]
    assert [top_level_code(body) for body in bad] == ["VALIDATION_FAILED"] * 3


async def test_internal_fields_and_others_emails_are_hidden_from_constituents(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given an inspected case with a work note and a public comment
    case = await insert_case(world, state=lc.REVIEW_INSPECTION, inspector="field_agent")
    await act(client, COMPLETE_INSPECTION_MUTATION, token("field_agent"), caseId=case.id, findings="Gas main exposed")
    await act(client, UPDATE_CASE_MUTATION, token("agent"), caseId=case.id, workNote="Call the gas board first")
    await act(client, UPDATE_CASE_MUTATION, token("requester"), caseId=case.id, comment="Smells of gas")
    # when
    public = (await client.data(INTERNALS_QUERY, {"id": case.id}, token=token("requester")))["case"]
    staff = (await client.data(INTERNALS_QUERY, {"id": case.id}, token=token("agent")))["case"]
    # then
    assert public["inspectionFindings"] is None and public["workNotes"] == []
    assert public["comments"] == [{"body": "Smells of gas"}]
    assert public["requester"] == {"id": "alice", "email": "alice@example.org"}
    assert public["assignedTo"] == {"id": "dana", "email": None} and public["inspector"] == {
        "id": "finn",
        "email": None,
    }
    assert "Gas main" not in str(public["history"]) and "gas board" not in str(public["history"])
    assert staff["inspectionFindings"] == "Gas main exposed"
    assert staff["workNotes"] == [{"body": "Call the gas board first"}]
    assert staff["requester"]["email"] == "alice@example.org" and staff["assignedTo"]["email"] == "dana@example.org"
