"""PARTNER service accounts (issue 7, lifecycle.md *Roles*): tokens with role PARTNER and an
``agency`` claim see the cases referred to that agency — submitted, not deleted — and nothing
else; the pure rule (``may_see``, ``relations_of``) and the SQL agree."""

from __future__ import annotations

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.domain.enums import Relation, Role
from casegraph.domain.relations import Actor, may_see, relations_of
from models import Case
from tests.helpers import GraphQLClient, World, case_row, insert_case

LIST_QUERY = "query { cases(first: 100) { totalCount edges { node { id } } } }"
CASE_QUERY = "query Case($id: ID!) { case(id: $id) { id } }"


@pytest.mark.parametrize("agency", ["PARKS", "WATER", None])
async def test_a_partner_sees_only_submitted_cases_referred_to_its_agency(
    client: GraphQLClient, world: World, agency: str | None
) -> None:
    # given: cases referred to PARKS in several states, one to WATER, one referred nowhere
    referred = await insert_case(world, case_type="PAYMENT", state=lc.INTAKE_OPEN, requester="other_constituent")
    closed = await insert_case(world, state=lc.CLOSED)
    draft = await insert_case(world, state=lc.DRAFT, assigned_to=None)
    deleted = await insert_case(world, deleted=True)
    elsewhere = await insert_case(world)
    plain = await insert_case(world)
    for record in (referred, closed, draft, deleted):
        await Case.filter(id=record.id).update(referred_agency="PARKS")
    await Case.filter(id=elsewhere.id).update(referred_agency="WATER")
    expected = {"PARKS": {referred.id, closed.id}, "WATER": {elsewhere.id}, None: set()}[agency]
    token = client.token("svc-partner", Role.PARTNER, agency=agency)
    everything = [referred, closed, draft, deleted, elsewhere, plain]
    # when
    listed = (await client.data(LIST_QUERY, token=token))["cases"]
    looked_up = {
        record.id
        for record in everything
        if (await client.data(CASE_QUERY, {"id": record.id}, token=token))["case"] is not None
    }
    # then: lists, lookups and the pure rule agree
    assert {edge["node"]["id"] for edge in listed["edges"]} == expected
    assert listed["totalCount"] == len(expected)
    assert looked_up == expected
    actor = Actor(user_id="svc-partner", roles=frozenset({Role.PARTNER}), agency=agency)
    for record in everything:
        row = await case_row(record.id)
        assert may_see(actor, row.parties()) is (record.id in expected), record.id
        related = Relation.PARTNER in relations_of(actor, row.parties())
        assert related is (agency is not None and row.referred_agency == agency), record.id


async def test_a_partner_token_provisions_a_service_account_with_its_agency(
    client: GraphQLClient, world: World
) -> None:
    token = client.token("svc-parks", Role.PARTNER, name="Parks service account", agency="PARKS")
    me = (await client.data("query { me { id name roles agency } }", token=token))["me"]
    assert me == {"id": "svc-parks", "name": "Parks service account", "roles": ["PARTNER"], "agency": "PARKS"}
