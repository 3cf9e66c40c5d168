"""Sign-in by mailed link and browser sessions: the rules of services/sign_in.py, on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.domain.enums import Role
from casegraph.domain.errors import DomainError
from casegraph.services import sign_in
from casegraph.services.sign_in import SignInRefused, SignInThrottled
from models import BrowserSession, MailDelivery, SignInLink, User
from tests.helpers import FakeClock

SECRET = "signing-secret-of-these-tests"


async def ask(clock: FakeClock, email: str, *, client: str = "192.0.2.1") -> None:
    await sign_in.request_sign_in_link(email=email, client=client, locale="en", now=clock(), signing_secret=SECRET)


async def mailed_secret(email: str) -> str:
    """The secret of the newest link mailed to ``email``, derived as the mail dispatcher does."""
    mail = await MailDelivery.filter(recipient=email, template="sign_in").order_by("-created_at").first()
    assert mail is not None
    return sign_in.link_secret(SECRET, str(mail.facts["link_id"]))


async def rows_written() -> dict[str, Any]:
    """What asking for a link left behind, with the values that differ per request left out."""
    links = await SignInLink.all().values("email", "client_address", "used_at")
    mails = await MailDelivery.all().values("recipient", "template", "case_id", "user_id", "essential", "status")
    return {"links": links, "mails": mails, "users": await User.all().count()}


async def test_a_known_and_an_unknown_address_get_the_same_rows_and_no_user_is_read_or_made(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: one address belongs to a user, the other to nobody
    await User.create(
        id="alice", email="alice@example.org", roles=["CONSTITUENT"], created_at=clock(), updated_at=clock()
    )
    # when
    await ask(clock, "alice@example.org")
    known = await rows_written()
    await SignInLink.all().delete()
    await MailDelivery.all().delete()
    await ask(clock, "nobody@example.org")
    unknown = await rows_written()
    # then: the same shape of rows, differing only in the address
    assert known == {
        "links": [{"email": "alice@example.org", "client_address": "192.0.2.1", "used_at": None}],
        "mails": [
            {
                "recipient": "alice@example.org",
                "template": "sign_in",
                "case_id": None,
                "user_id": None,
                "essential": True,
                "status": "PENDING",
            }
        ],
        "users": 1,
    }
    assert unknown == {
        "links": [{**known["links"][0], "email": "nobody@example.org"}],
        "mails": [{**known["mails"][0], "recipient": "nobody@example.org"}],
        "users": 1,
    }


async def test_only_a_hash_of_the_secret_is_stored_and_the_mail_row_holds_only_the_link_id(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # when
    await ask(clock, "carol@example.org")
    # then
    secret = await mailed_secret("carol@example.org")
    link = await SignInLink.get(email="carol@example.org")
    mail = await MailDelivery.get(recipient="carol@example.org")
    assert link.secret_hash == sign_in.hash_secret(secret) != secret
    assert secret not in str(mail.facts) and mail.facts == {"link_id": str(link.id), "minutes": 15}


async def test_a_malformed_address_is_refused_and_writes_nothing(db: TortoiseContext, clock: FakeClock) -> None:
    # when / then
    for wrong in ("not an address", "", None):
        with pytest.raises(DomainError) as refused:
            await ask(clock, wrong)  # type: ignore[arg-type]
        assert refused.value.field == "email"
    assert await SignInLink.all().count() == 0 and await MailDelivery.all().count() == 0


async def test_a_first_opening_provisions_a_verified_constituent_bound_to_the_address(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    await ask(clock, "Dora@Example.org")
    # when
    signed_in = await sign_in.open_sign_in_link(secret=await mailed_secret("dora@example.org"), now=clock())
    # then
    user = await User.get(id=signed_in.user_id)
    assert (user.email, user.roles) == ("dora@example.org", ["CONSTITUENT"])
    assert (signed_in.roles, signed_in.email) == ((Role.CONSTITUENT,), "dora@example.org")
    session = await BrowserSession.get(user_id=user.id)
    assert session.token_hash == sign_in.hash_secret(signed_in.refresh_token)


async def test_an_address_bound_to_a_user_signs_that_user_in(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    await User.create(
        id="alice",
        email="Alice@example.org",
        name="Alice",
        roles=["CONSTITUENT"],
        created_at=clock(),
        updated_at=clock(),
    )
    await ask(clock, "alice@example.org")
    # when
    signed_in = await sign_in.open_sign_in_link(secret=await mailed_secret("alice@example.org"), now=clock())
    # then
    assert (signed_in.user_id, signed_in.name) == ("alice", "Alice")
    assert await User.all().count() == 1


async def test_a_link_signs_in_once_even_when_opened_twice_at_the_same_time(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    await ask(clock, "erin@example.org")
    secret = await mailed_secret("erin@example.org")
    # when
    outcomes = await asyncio.gather(
        sign_in.open_sign_in_link(secret=secret, now=clock()),
        sign_in.open_sign_in_link(secret=secret, now=clock()),
        return_exceptions=True,
    )
    again = await asyncio.gather(sign_in.open_sign_in_link(secret=secret, now=clock()), return_exceptions=True)
    # then
    assert sorted(type(outcome).__name__ for outcome in [*outcomes, *again]) == [
        "SignInRefused",
        "SignInRefused",
        "SignedIn",
    ]
    assert await BrowserSession.all().count() == 1 and await User.all().count() == 1


async def test_a_link_expires_after_15_minutes(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    await ask(clock, "finn@example.org")
    secret = await mailed_secret("finn@example.org")
    # when
    clock.advance(timedelta(minutes=15))
    # then
    with pytest.raises(SignInRefused):
        await sign_in.open_sign_in_link(secret=secret, now=clock())
    assert await User.all().count() == 0


async def test_a_wrong_secret_signs_nobody_in(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    await ask(clock, "gus@example.org")
    # when / then
    with pytest.raises(SignInRefused):
        await sign_in.open_sign_in_link(secret=sign_in.link_secret("another-secret", "x"), now=clock())


async def test_an_address_gets_three_links_per_15_minutes_and_the_answer_does_not_change(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # when: four requests for one address, from different clients
    for client in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        await ask(clock, "hana@example.org", client=client)
    # then: no refusal, three mails
    assert await MailDelivery.filter(recipient="hana@example.org").count() == 3
    # and: once the window has passed, a fourth
    clock.advance(sign_in.LINK_LIFETIME)
    await ask(clock, "hana@example.org")
    assert await MailDelivery.filter(recipient="hana@example.org").count() == 4


async def test_a_client_asking_for_too_many_links_is_told_to_wait_whatever_the_address(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: a client has asked for the most links an hour allows, for many addresses
    for number in range(sign_in.LINKS_PER_CLIENT):
        await ask(clock, f"person{number}@example.org", client="198.51.100.7")
    # when / then
    with pytest.raises(SignInThrottled) as throttled:
        await ask(clock, "someone@example.org", client="198.51.100.7")
    assert 0 < throttled.value.retry_after <= 3600
    assert await MailDelivery.filter(recipient="someone@example.org").count() == 0
    # and: another client is not held back
    await ask(clock, "someone@example.org", client="198.51.100.8")
    assert await MailDelivery.filter(recipient="someone@example.org").count() == 1


async def signed_in_session(clock: FakeClock, email: str = "ivy@example.org") -> sign_in.SignedIn:
    await ask(clock, email)
    return await sign_in.open_sign_in_link(secret=await mailed_secret(email), now=clock())


async def test_a_refresh_rotates_the_token(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    first = await signed_in_session(clock)
    # when
    second = await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    third = await sign_in.refresh_session(token=second.refresh_token, now=clock(), signing_secret=SECRET)
    # then
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert third.user_id == first.user_id
    assert await BrowserSession.filter(rotated_at__isnull=True, revoked_at__isnull=True).count() == 1


async def test_a_reused_refresh_token_revokes_the_whole_session(db: TortoiseContext, clock: FakeClock) -> None:
    # given: the session has moved on from its first token
    first = await signed_in_session(clock)
    second = await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    # when: the first token comes back (a copy of it), after the grace of a racing tab
    clock.advance(sign_in.REUSE_GRACE + timedelta(seconds=1))
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    # then: the current token is dead too
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=second.refresh_token, now=clock(), signing_secret=SECRET)
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 0


async def test_two_refreshes_at_once_with_the_same_token_both_get_the_same_successor(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: two tabs of one browser holding the same cookie
    first = await signed_in_session(clock)
    # when: both refresh at once
    tab_a, tab_b = await asyncio.gather(
        sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET),
        sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET),
    )
    # then: neither is signed out, both carry on with one successor, and the session lives on
    assert tab_a.refresh_token == tab_b.refresh_token != first.refresh_token
    assert tab_a.session == tab_b.session == first.session
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 2
    assert await BrowserSession.filter(rotated_at__isnull=True).count() == 1
    later = await sign_in.refresh_session(token=tab_b.refresh_token, now=clock(), signing_secret=SECRET)
    assert later.user_id == first.user_id


async def test_a_retired_token_within_the_grace_gets_the_current_successor_and_after_it_revokes(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: a tab refreshed twice while another tab still held the first token
    first = await signed_in_session(clock)
    second = await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    clock.advance(timedelta(seconds=5))
    third = await sign_in.refresh_session(token=second.refresh_token, now=clock(), signing_secret=SECRET)
    # when: the first token comes back within the grace
    again = await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    # then: the session's current token, not a revocation
    assert again.refresh_token == third.refresh_token
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 3
    # when: the second token comes back after the grace
    clock.advance(sign_in.REUSE_GRACE)
    with pytest.raises(SignInRefused) as refused:
        await sign_in.refresh_session(token=second.refresh_token, now=clock(), signing_secret=SECRET)
    # then: a copy: the whole session is revoked, its current token with it
    assert refused.value.ended_session == first.session
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 0
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=third.refresh_token, now=clock(), signing_secret=SECRET)


async def test_a_successor_cannot_be_derived_without_the_servers_secret(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    first = await signed_in_session(clock)
    # when
    second = await sign_in.refresh_session(token=first.refresh_token, now=clock(), signing_secret=SECRET)
    # then: it is the secret's successor of the token, not one anyone holding the token could make
    assert second.refresh_token == sign_in.successor_token(SECRET, first.refresh_token)
    assert second.refresh_token != sign_in.successor_token("another-secret", first.refresh_token)


async def test_sign_out_ends_the_session_and_leaves_others_alone(db: TortoiseContext, clock: FakeClock) -> None:
    # given: the same person signed in on two browsers
    laptop = await signed_in_session(clock)
    phone = await signed_in_session(clock)
    # when
    assert await sign_in.sign_out(token=laptop.refresh_token, now=clock())
    # then
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=laptop.refresh_token, now=clock(), signing_secret=SECRET)
    assert (
        await sign_in.refresh_session(token=phone.refresh_token, now=clock(), signing_secret=SECRET)
    ).user_id == phone.user_id


async def test_revoking_a_users_sessions_ends_every_one_of_them(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    laptop = await signed_in_session(clock)
    phone = await signed_in_session(clock)
    other = await signed_in_session(clock, "jon@example.org")
    # when
    assert await sign_in.revoke_user_sessions(user_id=laptop.user_id, now=clock()) == 2
    # then
    for ended in (laptop, phone):
        with pytest.raises(SignInRefused):
            await sign_in.refresh_session(token=ended.refresh_token, now=clock(), signing_secret=SECRET)
    assert (
        await sign_in.refresh_session(token=other.refresh_token, now=clock(), signing_secret=SECRET)
    ).user_id == other.user_id


async def test_an_unused_session_expires(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    session = await signed_in_session(clock)
    # when
    clock.advance(sign_in.SESSION_LIFETIME)
    # then
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=session.refresh_token, now=clock(), signing_secret=SECRET)


def test_the_mail_language_is_the_browsers_first_choice_when_it_names_one() -> None:
    assert sign_in.mail_locale("es-MX,es;q=0.9,en;q=0.8") == "es-MX"
    assert sign_in.mail_locale("*") == "en"
    assert sign_in.mail_locale(None) == "en"
    assert sign_in.mail_locale("x" * 40) == "en"


async def test_a_deactivated_user_is_signed_in_neither_by_a_link_nor_by_a_refresh(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: a session, and a fresh link, of a user an administrator then deactivates
    session = await signed_in_session(clock)
    await ask(clock, "ivy@example.org")
    secret = await mailed_secret("ivy@example.org")
    await User.filter(id=session.user_id).update(active=False)
    # when / then
    with pytest.raises(SignInRefused):
        await sign_in.open_sign_in_link(secret=secret, now=clock())
    with pytest.raises(SignInRefused):
        await sign_in.refresh_session(token=session.refresh_token, now=clock(), signing_secret=SECRET)
