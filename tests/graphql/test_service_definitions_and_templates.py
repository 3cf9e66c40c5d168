"""Service definitions, case templates and required fields over GraphQL (issue 4, *Case types,
service definitions, templates*): administration, the portal's catalogue, filing a case from
them, and required fields enforced at submission (drafts may be incomplete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, event_count

SERVICE_FIELDS = "code name description public active caseType { code } template { code } requiredFields"
TEMPLATE_FIELDS = "code name title description impact urgency requiredFields active caseType { code }"
CREATE_SERVICE_DEFINITION_MUTATION = f"""
mutation CreateServiceDefinition($input: CreateServiceDefinitionInput!) {{
  createServiceDefinition(input: $input) {{ serviceDefinition {{ {SERVICE_FIELDS} }} errors {{ code field }} }}
}}
"""
UPDATE_SERVICE_DEFINITION_MUTATION = f"""
mutation UpdateServiceDefinition($input: UpdateServiceDefinitionInput!) {{
  updateServiceDefinition(input: $input) {{ serviceDefinition {{ {SERVICE_FIELDS} }} errors {{ code field }} }}
}}
"""
CREATE_CASE_TEMPLATE_MUTATION = f"""
mutation CreateCaseTemplate($input: CreateCaseTemplateInput!) {{
  createCaseTemplate(input: $input) {{ template {{ {TEMPLATE_FIELDS} }} errors {{ code field }} }}
}}
"""
UPDATE_CASE_TEMPLATE_MUTATION = f"""
mutation UpdateCaseTemplate($input: UpdateCaseTemplateInput!) {{
  updateCaseTemplate(input: $input) {{ template {{ {TEMPLATE_FIELDS} }} errors {{ code field }} }}
}}
"""
SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION = """
mutation SetRequired($input: SetCaseTypeRequiredFieldsInput!) {
  setCaseTypeRequiredFields(input: $input) { caseType { code requiredFields } errors { code field } }
}
"""
CASE_FIELDS = """id status stage version title description impact urgency priority serviceDefinitionCode
    caseType { code } assignmentGroup { code }"""
CREATE_CASE_MUTATION = f"""
mutation Create($input: CreateCaseInput!) {{
  createCase(input: $input) {{ case {{ {CASE_FIELDS} }} event {{ type action details }} errors {{ code field }} }}
}}
"""
SUBMIT_CASE_MUTATION = """
mutation Submit($input: SubmitCaseInput!) { submitCase(input: $input) { case { status version } errors { code field } } }
"""
UPDATE_CASE_MUTATION = """
mutation Update($input: UpdateCaseInput!) { updateCase(input: $input) { case { version } errors { code field } } }
"""
SERVICE_DEFINITIONS_QUERY = f"""
query Services($includeInactive: Boolean! = false) {{
  serviceDefinitions(includeInactive: $includeInactive) {{ {SERVICE_FIELDS} }}
}}
"""
SERVICE_DEFINITION_QUERY = "query Service($code: String!) { serviceDefinition(code: $code) { code } }"
CASE_TEMPLATES_QUERY = f"""
query Templates($caseTypeCode: String, $includeInactive: Boolean! = false) {{
  caseTemplates(caseTypeCode: $caseTypeCode, includeInactive: $includeInactive) {{ {TEMPLATE_FIELDS} }}
}}
"""
CASE_TYPES_QUERY = "query CaseTypes { caseTypes { code requiredFields } }"
SKELETON = "Where exactly is it?\nHow big is it?"


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def attempt(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    payload = await attempt(client, document, token, **fields)
    assert payload["errors"] == [], payload["errors"]
    return payload


def refusal(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def pothole_service(client: GraphQLClient, admin: str, **template: Any) -> None:
    """A template requiring a phone number, and the public "Report a pothole" service using it."""
    await act(
        client,
        CREATE_CASE_TEMPLATE_MUTATION,
        admin,
        code="POTHOLE_REPORT",
        name="Pothole report",
        caseTypeCode="POTHOLE",
        title="Pothole report",
        description=SKELETON,
        impact=2,
        urgency=1,
        requiredFields=["CONTACT_PHONE"],
        **template,
    )
    await act(
        client,
        CREATE_SERVICE_DEFINITION_MUTATION,
        admin,
        code="REPORT_POTHOLE",
        name="Report a pothole",
        description="Tell us about a hole in the road.",
        caseTypeCode="POTHOLE",
        templateCode="POTHOLE_REPORT",
    )


async def service_codes(client: GraphQLClient, token: str, include_inactive: bool = False) -> list[str]:
    data = await client.data(SERVICE_DEFINITIONS_QUERY, {"includeInactive": include_inactive}, token=token)
    return [service["code"] for service in data["serviceDefinitions"]]


async def test_admin_offers_a_service_with_a_template_and_the_portal_lists_it(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await act(
        client,
        SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION,
        token("admin"),
        caseTypeCode="POTHOLE",
        requiredFields=["DESCRIPTION"],
    )
    # when
    await pothole_service(client, token("admin"))
    # then: a constituent sees the service, its case type, template and every field it requires
    services = (await client.data(SERVICE_DEFINITIONS_QUERY, token=token("requester")))["serviceDefinitions"]
    assert services == [
        {
            "code": "REPORT_POTHOLE",
            "name": "Report a pothole",
            "description": "Tell us about a hole in the road.",
            "public": True,
            "active": True,
            "caseType": {"code": "POTHOLE"},
            "template": {"code": "POTHOLE_REPORT"},
            "requiredFields": ["DESCRIPTION", "CONTACT_PHONE"],
        }
    ]
    templates = await client.data(CASE_TEMPLATES_QUERY, {"caseTypeCode": "POTHOLE"}, token=token("agent"))
    assert templates["caseTemplates"] == [
        {
            "code": "POTHOLE_REPORT",
            "name": "Pothole report",
            "title": "Pothole report",
            "description": SKELETON,
            "impact": 2,
            "urgency": 1,
            "requiredFields": ["CONTACT_PHONE"],
            "active": True,
            "caseType": {"code": "POTHOLE"},
        }
    ]


@pytest.mark.parametrize("who", ["requester", "agent", "manager"])
async def test_only_an_administrator_may_configure_services_templates_and_required_fields(
    client: GraphQLClient, world: World, token: Callable[[str], str], who: str
) -> None:
    # given
    await pothole_service(client, token("admin"))
    caller = token(who)
    # when
    payloads = [
        await attempt(
            client, CREATE_SERVICE_DEFINITION_MUTATION, caller, code="ASK", name="Ask", caseTypeCode="QUESTION"
        ),
        await attempt(client, UPDATE_SERVICE_DEFINITION_MUTATION, caller, code="REPORT_POTHOLE", active=False),
        await attempt(client, CREATE_CASE_TEMPLATE_MUTATION, caller, code="T", name="T", caseTypeCode="QUESTION"),
        await attempt(client, UPDATE_CASE_TEMPLATE_MUTATION, caller, code="POTHOLE_REPORT", title="Mine"),
        await attempt(
            client,
            SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION,
            caller,
            caseTypeCode="QUESTION",
            requiredFields=["CONTACT_EMAIL"],
        ),
    ]
    # then
    assert [refusal(p) for p in payloads] == [[("PERMISSION_DENIED", None)]] * 5
    assert await service_codes(client, token("requester")) == ["REPORT_POTHOLE"]


async def test_constituents_see_active_public_services_staff_also_internal_ones_and_admin_inactive_ones(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: a public, an internal and a retired service
    admin = token("admin")
    await act(
        client, CREATE_SERVICE_DEFINITION_MUTATION, admin, code="A_PUBLIC", name="A public", caseTypeCode="POTHOLE"
    )
    await act(
        client,
        CREATE_SERVICE_DEFINITION_MUTATION,
        admin,
        code="B_INTERNAL",
        name="B internal",
        caseTypeCode="QUESTION",
        public=False,
    )
    await act(
        client, CREATE_SERVICE_DEFINITION_MUTATION, admin, code="C_RETIRED", name="C retired", caseTypeCode="PAYMENT"
    )
    await act(client, UPDATE_SERVICE_DEFINITION_MUTATION, admin, code="C_RETIRED", active=False)
    # when / then
    assert await service_codes(client, token("requester")) == ["A_PUBLIC"]
    assert await service_codes(client, token("requester"), include_inactive=True) == ["A_PUBLIC"]
    assert await service_codes(client, token("agent")) == ["A_PUBLIC", "B_INTERNAL"]
    assert await service_codes(client, admin) == ["A_PUBLIC", "B_INTERNAL"]
    assert await service_codes(client, admin, include_inactive=True) == ["A_PUBLIC", "B_INTERNAL", "C_RETIRED"]
    one = await client.data(SERVICE_DEFINITION_QUERY, {"code": "B_INTERNAL"}, token=token("requester"))
    assert one["serviceDefinition"] is None


async def test_a_code_no_service_or_case_type_can_have_finds_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: codes longer than their column, or holding NUL (which PostgreSQL text cannot hold)
    await pothole_service(client, token("admin"))
    codes = ["REPORT_POTHOLE" + "X" * 60, "Y" * 30_000, "REPORT_POTHOLE\x00"]
    # when
    services = [
        (await client.data(SERVICE_DEFINITION_QUERY, {"code": code}, token=token("admin")))["serviceDefinition"]
        for code in codes
    ]
    templates = [
        (await client.data(CASE_TEMPLATES_QUERY, {"caseTypeCode": code.replace("REPORT_", "")}, token=token("admin")))[
            "caseTemplates"
        ]
        for code in codes
    ]
    # then: as for a code nothing has
    assert services == [None] * len(codes)
    assert templates == [[]] * len(codes)


async def test_an_unauthenticated_portal_gets_no_services(client: GraphQLClient, world: World) -> None:
    # when
    body = await client.execute(SERVICE_DEFINITIONS_QUERY)
    # then
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_service_definition_and_template_input_is_validated(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin = token("admin")
    await pothole_service(client, admin)
    # when / then
    create = CREATE_SERVICE_DEFINITION_MUTATION
    assert refusal(
        await attempt(client, create, admin, code="REPORT_POTHOLE", name="Again", caseTypeCode="POTHOLE")
    ) == [("VALIDATION_FAILED", "code")]
    assert refusal(await attempt(client, create, admin, code="bad code!", name="X", caseTypeCode="POTHOLE")) == [
        ("VALIDATION_FAILED", "code")
    ]
    assert refusal(await attempt(client, create, admin, code="X", name="  ", caseTypeCode="POTHOLE")) == [
        ("VALIDATION_FAILED", "name")
    ]
    assert refusal(await attempt(client, create, admin, code="X", name="X", caseTypeCode="NOPE")) == [
        ("VALIDATION_FAILED", "caseTypeCode")
    ]
    assert refusal(
        await attempt(client, create, admin, code="X", name="X", caseTypeCode="QUESTION", templateCode="POTHOLE_REPORT")
    ) == [("VALIDATION_FAILED", "templateCode")]
    assert refusal(
        await attempt(client, create, admin, code="X", name="X", caseTypeCode="QUESTION", templateCode="NOPE")
    ) == [("VALIDATION_FAILED", "templateCode")]
    template = CREATE_CASE_TEMPLATE_MUTATION
    assert refusal(await attempt(client, template, admin, code="T", name="T", caseTypeCode="POTHOLE", impact=7)) == [
        ("VALIDATION_FAILED", "impact")
    ]
    assert refusal(
        await attempt(client, template, admin, code="T", name="T", caseTypeCode="POTHOLE", title="x" * 201)
    ) == [("VALIDATION_FAILED", "title")]
    assert refusal(await attempt(client, UPDATE_SERVICE_DEFINITION_MUTATION, admin, code="NOPE", name="X")) == [
        ("VALIDATION_FAILED", "code")
    ]
    # a new case type for the service leaves its template behind, unless a matching one is named
    assert refusal(
        await attempt(client, UPDATE_SERVICE_DEFINITION_MUTATION, admin, code="REPORT_POTHOLE", caseTypeCode="QUESTION")
    ) == [("VALIDATION_FAILED", "templateCode")]
    assert await service_codes(client, admin) == ["REPORT_POTHOLE"]


async def test_updates_change_only_the_fields_given_and_null_drops_the_template(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin = token("admin")
    await pothole_service(client, admin)
    # when
    service = (
        await act(
            client,
            UPDATE_SERVICE_DEFINITION_MUTATION,
            admin,
            code="REPORT_POTHOLE",
            name="Report a road hazard",
            templateCode=None,
        )
    )["serviceDefinition"]
    template = (
        await act(
            client,
            UPDATE_CASE_TEMPLATE_MUTATION,
            admin,
            code="POTHOLE_REPORT",
            urgency=None,
            requiredFields=["LOCATION", "CONTACT_EMAIL"],
        )
    )["template"]
    # then
    assert (service["name"], service["description"], service["template"]) == (
        "Report a road hazard",
        "Tell us about a hole in the road.",
        None,
    )
    assert (template["title"], template["impact"], template["urgency"], template["requiredFields"]) == (
        "Pothole report",
        2,
        None,
        ["CONTACT_EMAIL", "LOCATION"],
    )


async def test_filing_under_a_service_takes_its_case_type_and_template_defaults(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await pothole_service(client, token("admin"))
    # when
    payload = await act(
        client,
        CREATE_CASE_MUTATION,
        token("requester"),
        serviceDefinitionCode="REPORT_POTHOLE",
        description="Outside no. 12, about a metre wide.",
        contactPhone="+1 555 0100",
    )
    # then
    case = payload["case"]
    assert (case["status"], case["version"], case["caseType"], case["assignmentGroup"]) == (
        "NEW",
        1,
        {"code": "POTHOLE"},
        {"code": "ROADS"},
    )
    assert (case["title"], case["impact"], case["urgency"], case["priority"]) == ("Pothole report", 2, 1, 2)
    assert case["serviceDefinitionCode"] == "REPORT_POTHOLE"
    assert payload["event"]["type"] == "CASE_CREATED"
    assert payload["event"]["details"]["serviceDefinitionCode"] == "REPORT_POTHOLE"
    assert payload["event"]["details"]["templateCode"] == "POTHOLE_REPORT"


async def test_explicit_inputs_override_the_template_defaults(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await pothole_service(client, token("admin"))
    # when
    case = (
        await act(
            client,
            CREATE_CASE_MUTATION,
            token("requester"),
            serviceDefinitionCode="REPORT_POTHOLE",
            title="Crater on Elm St",
            description="Huge.",
            impact=1,
            urgency=3,
            contactPhone="555 0100",
        )
    )["case"]
    # then
    assert (case["title"], case["description"], case["impact"], case["urgency"], case["priority"]) == (
        "Crater on Elm St",
        "Huge.",
        1,
        3,
        3,
    )


async def test_a_template_alone_names_the_case_type_and_staff_may_file_with_it_for_a_constituent(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await pothole_service(client, token("admin"))
    # when
    case = (
        await act(
            client,
            CREATE_CASE_MUTATION,
            token("agent"),
            templateCode="POTHOLE_REPORT",
            requesterId="alice",
            description="Called in.",
            contactPhone="555 0100",
        )
    )["case"]
    # then
    assert (case["caseType"], case["title"], case["serviceDefinitionCode"]) == (
        {"code": "POTHOLE"},
        "Pothole report",
        None,
    )


async def test_filing_under_an_internal_or_retired_service_or_a_contradicting_case_type_is_refused(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin, alice = token("admin"), token("requester")
    await pothole_service(client, admin)
    await act(
        client,
        CREATE_SERVICE_DEFINITION_MUTATION,
        admin,
        code="INTERNAL",
        name="Internal",
        caseTypeCode="QUESTION",
        public=False,
    )
    await act(
        client,
        CREATE_SERVICE_DEFINITION_MUTATION,
        admin,
        code="RETIRED",
        name="Retired",
        caseTypeCode="QUESTION",
        active=False,
    )
    await act(client, CREATE_CASE_TEMPLATE_MUTATION, admin, code="QUESTION_FORM", name="Q", caseTypeCode="QUESTION")
    base = {"title": "Help", "description": "Please."}
    # when / then
    assert refusal(await attempt(client, CREATE_CASE_MUTATION, alice, serviceDefinitionCode="INTERNAL", **base)) == [
        ("VALIDATION_FAILED", "serviceDefinitionCode")
    ]
    assert refusal(await attempt(client, CREATE_CASE_MUTATION, alice, serviceDefinitionCode="RETIRED", **base)) == [
        ("VALIDATION_FAILED", "serviceDefinitionCode")
    ]
    assert refusal(
        await attempt(
            client,
            CREATE_CASE_MUTATION,
            alice,
            serviceDefinitionCode="REPORT_POTHOLE",
            caseTypeCode="QUESTION",
            contactPhone="555 0100",
            **base,
        )
    ) == [("VALIDATION_FAILED", "caseTypeCode")]
    assert refusal(
        await attempt(
            client,
            CREATE_CASE_MUTATION,
            alice,
            serviceDefinitionCode="REPORT_POTHOLE",
            templateCode="QUESTION_FORM",
            contactPhone="555 0100",
            **base,
        )
    ) == [("VALIDATION_FAILED", "templateCode")]
    assert refusal(await attempt(client, CREATE_CASE_MUTATION, alice, templateCode="NOPE", **base)) == [
        ("VALIDATION_FAILED", "templateCode")
    ]
    # staff file under internal services (of their own groups' case types)
    staff = await act(
        client, CREATE_CASE_MUTATION, token("agent"), serviceDefinitionCode="INTERNAL", requesterId="alice", **base
    )
    assert staff["case"]["serviceDefinitionCode"] == "INTERNAL"
    outsider = await attempt(
        client,
        CREATE_CASE_MUTATION,
        token("outsider_agent"),
        serviceDefinitionCode="INTERNAL",
        requesterId="alice",
        **base,
    )
    assert refusal(outsider) == [("PERMISSION_DENIED", "caseTypeCode")]
    assert await event_count() == 1


async def test_submitting_without_a_field_the_template_requires_is_refused_and_records_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await pothole_service(client, token("admin"))
    # when
    payload = await attempt(
        client,
        CREATE_CASE_MUTATION,
        token("requester"),
        serviceDefinitionCode="REPORT_POTHOLE",
        description="By the school.",
    )
    # then
    assert refusal(payload) == [("VALIDATION_FAILED", "contactPhone")]
    assert payload["case"] is None and await event_count() == 0


async def test_fields_a_case_type_requires_apply_to_every_case_of_the_type(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin, alice = token("admin"), token("requester")
    set_fields = await act(
        client,
        SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION,
        admin,
        caseTypeCode="QUESTION",
        requiredFields=["CONTACT_EMAIL", "DESCRIPTION", "CONTACT_EMAIL"],
    )
    assert set_fields["caseType"] == {"code": "QUESTION", "requiredFields": ["DESCRIPTION", "CONTACT_EMAIL"]}
    # when
    missing_both = await attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Parking?")
    missing_email = await attempt(
        client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Parking?", description="Where may I park?"
    )
    complete = await attempt(
        client,
        CREATE_CASE_MUTATION,
        alice,
        caseTypeCode="QUESTION",
        title="Parking?",
        description="Where may I park?",
        contactEmail="alice@example.org",
    )
    # then
    assert refusal(missing_both) == [("VALIDATION_FAILED", "description")]
    assert refusal(missing_email) == [("VALIDATION_FAILED", "contactEmail")]
    assert complete["errors"] == [] and complete["case"]["status"] == "NEW"
    types = {t["code"]: t["requiredFields"] for t in (await client.data(CASE_TYPES_QUERY, token=alice))["caseTypes"]}
    assert types == {"PAYMENT": [], "POTHOLE": [], "QUESTION": ["DESCRIPTION", "CONTACT_EMAIL"]}
    # and clearing them lifts the requirement
    await act(client, SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION, admin, caseTypeCode="QUESTION", requiredFields=[])
    assert (await attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Again"))["errors"] == []


async def test_an_unchanged_description_skeleton_does_not_count_as_a_description(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: the template requires a description and offers a skeleton for it
    await pothole_service(client, token("admin"))
    await act(
        client, UPDATE_CASE_TEMPLATE_MUTATION, token("admin"), code="POTHOLE_REPORT", requiredFields=["DESCRIPTION"]
    )
    alice = token("requester")
    # when
    untouched = await attempt(client, CREATE_CASE_MUTATION, alice, serviceDefinitionCode="REPORT_POTHOLE")
    copied = await attempt(
        client, CREATE_CASE_MUTATION, alice, serviceDefinitionCode="REPORT_POTHOLE", description=f"  {SKELETON}  "
    )
    filled = await attempt(
        client,
        CREATE_CASE_MUTATION,
        alice,
        serviceDefinitionCode="REPORT_POTHOLE",
        description=f"{SKELETON}\nOutside no. 12, a metre wide.",
    )
    # then
    assert refusal(untouched) == [("VALIDATION_FAILED", "description")]
    assert refusal(copied) == [("VALIDATION_FAILED", "description")]
    assert filled["errors"] == []


async def test_a_location_requirement_is_enforced_at_submission(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await act(
        client,
        SET_CASE_TYPE_REQUIRED_FIELDS_MUTATION,
        token("admin"),
        caseTypeCode="POTHOLE",
        requiredFields=["LOCATION"],
    )
    # when
    payload = await attempt(client, CREATE_CASE_MUTATION, token("requester"), caseTypeCode="POTHOLE", title="Hole")
    # then
    assert refusal(payload) == [("VALIDATION_FAILED", "location")]


async def test_a_draft_may_be_incomplete_but_is_checked_when_submitted(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: a draft filed under the service, still without the phone number it requires
    await pothole_service(client, token("admin"))
    alice = token("requester")
    draft = await act(client, CREATE_CASE_MUTATION, alice, serviceDefinitionCode="REPORT_POTHOLE", submit=False)
    case_id = draft["case"]["id"]
    assert (draft["case"]["status"], draft["case"]["title"], draft["case"]["description"]) == (
        "DRAFT",
        "Pothole report",
        SKELETON,
    )
    # when
    early = await attempt(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)
    await act(client, UPDATE_CASE_MUTATION, alice, caseId=case_id, contactPhone="555 0100")
    submitted = await attempt(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)
    # then: the template's requirement followed the draft; the refused submission recorded nothing
    assert refusal(early) == [("VALIDATION_FAILED", "contactPhone")]
    assert submitted["errors"] == [] and submitted["case"] == {"status": "NEW", "version": 3}
    assert await event_count(case_id) == 3
