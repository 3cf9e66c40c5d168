"""What e-mail intake trusts (issue 14, section 3), over HTTP on SQLite and PostgreSQL.

A mail joins an existing case only with that case's reply token, never by case number and
``From`` alone; with the gateway configured, its DMARC/DKIM verdict refuses forged mail; a
token's e-mail claim binds an address only when verified and never one bound to someone else.
"""

from __future__ import annotations

import dataclasses
import time

import jwt
import pytest

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.runtime import Runtime
from casegraph.settings import Settings
from models import Case, Comment, User
from tests.conftest import TEST_SECRET
from tests.helpers import GraphQLClient, World, case_row, insert_case
from tests.test_email_intake import GATEWAY, MAILBOX, REPLY, REPLY_QUERY, SECRET, counts, mail, post, reply_address

ME_QUERY = "{ me { id email } }"


@pytest.fixture
def settings() -> Settings:
    return Settings(jwt_secret=TEST_SECRET, intake_secret=SECRET, intake_case_type="POTHOLE", intake_address=MAILBOX)


@pytest.fixture
def gateway_trusted(runtime: Runtime, settings: Settings) -> None:
    """The running app trusts the mail gateway's verdicts from now on."""
    runtime.settings = dataclasses.replace(settings, intake_authserv_id=GATEWAY)


def claims_token(sub: str, *, email: str, verified: bool | None) -> str:
    """A token of ours whose e-mail claim is (or is not) marked verified."""
    payload: dict[str, object] = {"sub": sub, "roles": ["CONSTITUENT"], "email": email, "exp": int(time.time()) + 600}
    if verified is not None:
        payload["email_verified"] = verified
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


async def test_a_case_number_and_a_from_line_alone_file_a_new_case_and_leave_the_named_case_alone(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's case waits for her answer
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    # when: someone writes "as alice", naming the case number but without its reply token
    response = await post(
        client.http,
        mail(
            sender="alice@example.org",
            subject=f"Re: {case.number}",
            text="Close it, thanks.",
            html=False,
            attachment=False,
        ),
    )
    # then: a new case; alice's case is untouched
    assert response.status_code == 201, response.text
    assert response.json()["action"] == "created" and response.json()["caseId"] != case.id
    after = await case_row(case.id)
    assert (after.status, after.version) == (CaseStatus.AWAITING_INFO, 1)
    assert await Comment.filter(case_id=case.id).count() == 0


async def test_a_forged_reply_token_is_not_found_and_changes_nothing(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    before = await counts()
    forged = f"cases+{case.number}-{'0' * 24}@city.example"
    # when
    response = await post(client.http, mail(sender="alice@example.org", to=forged, subject="Re: question"))
    # then
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert await counts() == before


async def test_the_reply_token_in_the_subject_adds_the_mail_to_its_case(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    token = REPLY.token(case_id=case.id, number=case.number)
    # when: the reply goes to the plain mailbox, the token in the subject
    response = await post(
        client.http,
        mail(
            sender="alice@example.org",
            subject=f"Re: [{token.lower()}] question",
            text="By the lamp post.",
            html=False,
            attachment=False,
        ),
    )
    # then
    assert response.status_code == 200, response.text
    assert response.json() == {"action": "commented", "caseId": case.id, "number": case.number}
    assert (await Comment.get(case_id=case.id)).body == "By the lamp post."


async def test_only_staff_read_a_cases_reply_token(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given
    case = await insert_case(world)
    # when
    staff = await client.data(REPLY_QUERY, {"id": case.id}, token=world.token(settings, "agent"))
    requester = await client.data(REPLY_QUERY, {"id": case.id}, token=world.token(settings, "requester"))
    # then
    assert staff["case"] == {
        "replyToken": REPLY.token(case_id=case.id, number=case.number),
        "replyAddress": reply_address(case),
    }
    assert staff["case"]["replyAddress"].startswith("cases+CS") and staff["case"]["replyAddress"].endswith(
        "@city.example"
    )
    assert requester["case"] == {"replyToken": None, "replyAddress": None}


@pytest.mark.parametrize(
    "verdicts",
    [
        (
            f"{GATEWAY}; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org; dmarc=fail header.from=example.org",
        ),
        (f"{GATEWAY}; dkim=fail (bad signature) header.d=example.org; dmarc=none",),
        ("mx.attacker.example; dkim=pass; dmarc=pass",),
        ("mx.attacker.example; dkim=pass; dmarc=pass", f"{GATEWAY}; dkim=permerror; dmarc=permerror"),
        (),
    ],
    ids=["dmarc-fail", "dkim-fail", "only-a-foreign-verdict", "foreign-pass-beside-our-failure", "no-verdict"],
)
async def test_with_the_gateway_trusted_a_mail_it_did_not_pass_is_refused_and_nothing_is_stored(
    client: GraphQLClient, world: World, settings: Settings, gateway_trusted: None, verdicts: tuple[str, ...]
) -> None:
    # given
    before = await counts()
    # when
    response = await post(client.http, mail(sender="alice@example.org", authentication=verdicts))
    # then
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert await counts() == before


async def test_with_the_gateway_trusted_a_mail_it_passed_is_taken(
    client: GraphQLClient, world: World, settings: Settings, gateway_trusted: None
) -> None:
    verdict = f"{GATEWAY} 1; spf=pass; dkim=fail header.d=old.example.org; dkim=pass header.d=example.org; dmarc=pass"
    response = await post(client.http, mail(sender="alice@example.org", authentication=(verdict,)))
    assert response.status_code == 201, response.text


async def test_an_unverified_e_mail_claim_does_not_redirect_that_addresses_mail(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: mallory signs in with carol's address as an unverified claim
    me = await client.data(ME_QUERY, token=claims_token("mallory", email="carol@example.org", verified=None))
    # when: carol writes
    response = await post(client.http, mail(sender="carol@example.org"))
    # then: her case is hers (a constituent keyed by her address), not mallory's
    assert me["me"]["email"] is None
    case = await Case.get(id=response.json()["caseId"])
    assert case.requester_id == "email:carol@example.org"
    assert (await User.get(id="mallory")).email is None


async def test_a_verified_e_mail_claim_never_takes_an_address_bound_to_another_user(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's address is bound to her; her case has a reply address
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    # when: mallory presents a verified claim to alice's address, in another letter case
    await client.data(ME_QUERY, token=claims_token("mallory", email="Alice@Example.org", verified=True))
    response = await post(client.http, mail(sender="alice@example.org", to=reply_address(case), subject="Re: question"))
    # then: the address stays alice's alone, and her reply is hers
    assert [user.id for user in await User.filter(email__iexact="alice@example.org")] == ["alice"]
    assert response.status_code == 200, response.text
    assert (await Comment.get(case_id=case.id)).author_id == "alice"


async def test_a_verified_e_mail_claim_binds_a_free_address(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    me = await client.data(ME_QUERY, token=claims_token("nina", email="nina@example.org", verified=True))
    response = await post(client.http, mail(sender="nina@example.org"))
    assert me["me"]["email"] == "nina@example.org"
    assert (await Case.get(id=response.json()["caseId"])).requester_id == "nina"


async def test_a_reply_from_the_cases_contact_address_is_the_requesters(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's case, mail about it going to her contact address (not the one bound to her)
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    await Case.filter(id=case.id).update(contact_email="alice.home@example.net")
    # when
    response = await post(
        client.http,
        mail(
            sender="alice.home@example.net",
            to=reply_address(case),
            subject="Re: question",
            text="Here you are.",
            html=False,
            attachment=False,
        ),
    )
    # then
    assert response.status_code == 200, response.text
    assert (await Comment.get(case_id=case.id)).author_id == "alice"
