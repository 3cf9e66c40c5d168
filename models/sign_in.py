"""Sign-in without tokens (issue 17): the links mailed to people and the sessions a browser keeps.

Neither table holds a usable secret: a link's secret and a refresh token are stored as SHA-256
hashes only, so a copy of the database signs nobody in.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SignInLink(Model):
    """A single-use link mailed to ``email``: opening it before ``expires_at`` signs its owner in.

    The secret in the mailed link is derived from the id with the server's mail signing secret
    (services/sign_in.py), so the mail outbox row needs to hold only the id, and this row only
    the secret's hash. ``client_address`` is who asked: the per-client throttle counts it.
    """

    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=320, db_index=True)
    secret_hash = fields.CharField(max_length=64, unique=True)
    client_address = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(db_index=True)
    expires_at = fields.DatetimeField()
    # Set once, by the conditional UPDATE that wins: of two openings only one signs in.
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_links"


class BrowserSession(Model):
    """One refresh token of a browser's session: rotating it writes the next row of its ``family``.

    A token is good once: refreshing marks it ``rotated_at`` and issues its successor. A rotated
    token presented again means it was copied, so the whole family (every token descended from
    the same sign-in) is revoked. Sign-out and a user's deactivation revoke too.
    """

    id = fields.UUIDField(primary_key=True)
    family = fields.UUIDField(db_index=True)
    user_id = fields.CharField(max_length=255, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    rotated_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "browser_sessions"


class UserIdentity(Model):
    """A person's account at an OpenID provider: (``issuer``, ``subject``) signs in as ``user_id``.

    The provider's ``sub`` is stable and never reassigned (OpenID Connect Core, section 5.7); an
    e-mail address may change hands, so it links an identity to a user only the first time.
    """

    id = fields.UUIDField(primary_key=True)
    issuer = fields.CharField(max_length=255)
    subject = fields.CharField(max_length=255)
    user_id = fields.CharField(max_length=255, db_index=True)
    created_at = fields.DatetimeField()
    last_signed_in_at = fields.DatetimeField()

    class Meta:
        table = "user_identities"
        unique_together = (("issuer", "subject"),)


class OidcFlow(Model):
    """One sign-in with an OpenID provider under way: what the callback checks, used once.

    ``state_hash`` finds it (the state travels through the provider); ``browser_hash`` binds it to
    the browser that started it (a random value in an HttpOnly cookie), so a callback URL sent to
    someone else signs nobody in. The nonce and the PKCE verifier never leave the server.
    """

    id = fields.UUIDField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    browser_hash = fields.CharField(max_length=64)
    nonce = fields.CharField(max_length=64)
    verifier = fields.CharField(max_length=128)
    next_path = fields.CharField(max_length=512)
    # Who started it: flows started from one client address are throttled (services/oidc_sign_in.py).
    client_address = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_flows"
