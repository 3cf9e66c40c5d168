"""The checks of an OpenID provider's ID token (casegraph/oidc_client.validate_id_token): only a
token signed by the provider's published key, for this client, in time, with the flow's nonce
proves who signed in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from casegraph.oidc_client import IdTokenRefused, OidcClient, ProviderMetadata, client_secret_basic, validate_id_token
from casegraph.settings import parse_oidc

ISSUER: Final = "https://id.city.example"
CLIENT: Final = "casegraph"
NONCE: Final = "nonce-of-this-sign-in"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PROVIDER_KEY: Final = rsa_key()
OTHER_KEY: Final = rsa_key()


def key_set(*keys: tuple[str, rsa.RSAPrivateKey]) -> jwt.PyJWKSet:
    published = []
    for kid, key in keys:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return jwt.PyJWKSet.from_dict({"keys": published})


PUBLISHED: Final = key_set(("k1", PROVIDER_KEY))


def id_token(key: rsa.RSAPrivateKey = PROVIDER_KEY, *, kid: str = "k1", **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "person-1",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def check(token: str, *, nonce: str = NONCE, keys: jwt.PyJWKSet = PUBLISHED) -> dict[str, Any]:
    return validate_id_token(token, keys, issuer=ISSUER, client_id=CLIENT, nonce=nonce, now=time.time())


def test_a_token_signed_by_the_provider_for_this_client_and_sign_in_is_accepted() -> None:
    claims = check(id_token(email="ana@example.org", email_verified=True))
    assert (claims["sub"], claims["email"]) == ("person-1", "ana@example.org")


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: id_token(exp=int(time.time()) - 600, iat=int(time.time()) - 900), "expired"),
        (lambda: id_token(aud="another-client"), "another client"),
        (lambda: id_token(iss="https://evil.example"), "another provider"),
        (lambda: id_token(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200), "future"),
        (lambda: id_token(aud=[CLIENT, "another-client"]), "azp"),
        (lambda: id_token(nonce="nonce-of-another-sign-in"), "nonce"),
        (lambda: id_token(nonce=None), "nonce"),
        (lambda: id_token(OTHER_KEY), "not valid"),
        (lambda: id_token(OTHER_KEY, kid="k2"), "does not publish"),
        (lambda: id_token(sub=None), "not valid"),
    ],
    ids=[
        "expired",
        "wrong audience",
        "wrong issuer",
        "issued in the future",
        "several audiences without azp",
        "wrong nonce",
        "no nonce",
        "signed with another key under the provider's key id",
        "signed with an unknown key",
        "no subject",
    ],
)
def test_a_token_failing_a_check_is_refused_with_the_reason(make_token: Callable[[], str], reason: str) -> None:
    # The token is made when the test runs, not when it is collected: a token made at collection
    # read as expired once a long run reached it five minutes later.
    token = make_token()
    with pytest.raises(IdTokenRefused, match=reason):
        check(token)


def test_a_tampered_token_is_refused() -> None:
    # given: a valid token whose payload is changed to name someone else
    header, payload, signature = id_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    # then
    with pytest.raises(IdTokenRefused, match="not valid"):
        check(f"{header}.{forged}.{signature}")


def test_unsigned_and_symmetric_tokens_are_refused_whatever_they_say() -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "x", "aud": CLIENT, "iat": now, "exp": now + 60, "nonce": NONCE}
    unsigned = jwt.encode(claims, "", algorithm="none")
    # HS256 keyed with the provider's public key: the classic algorithm confusion
    public_pem = json.loads(RSAAlgorithm.to_jwk(PROVIDER_KEY.public_key()))["n"]
    symmetric = jwt.encode(claims, public_pem, algorithm="HS256", headers={"kid": "k1"})
    for token in (unsigned, symmetric):
        with pytest.raises(IdTokenRefused, match="signed with"):
            check(token)


def test_several_audiences_are_accepted_when_the_token_was_issued_on_behalf_of_this_client() -> None:
    assert check(id_token(aud=[CLIENT, "api"], azp=CLIENT))["sub"] == "person-1"


def test_the_client_secret_is_form_encoded_before_basic_authentication() -> None:
    # RFC 6749 section 2.3.1: a ':' in the secret must not split it
    header = client_secret_basic("case graph", "p:ss/word")
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == "case+graph:p%3Ass%2Fword"


def test_the_authorization_request_asks_for_a_code_with_pkce_and_the_configured_assurance() -> None:
    provider = parse_oidc(
        issuer=ISSUER,
        client_id=CLIENT,
        client_secret=None,
        name=None,
        scopes="openid email",
        roles_claim=None,
        role_map=None,
        acr_values="urn:acr.login.gov:auth-only",
    )
    assert provider is not None
    client = OidcClient(provider, redirect_uri="https://desk.city.example/auth/oidc/callback")
    metadata = ProviderMetadata(
        issuer=ISSUER,
        authorization_endpoint=f"{ISSUER}/openid_connect/authorize?locale=es",
        token_endpoint=f"{ISSUER}/token",
        jwks_uri=f"{ISSUER}/jwks",
        userinfo_endpoint=None,
    )
    url = client.authorization_url(metadata, state="s", nonce="n", code_challenge="c")
    asked = parse_qs(urlsplit(url).query)
    assert asked == {
        "locale": ["es"],
        "response_type": ["code"],
        "client_id": [CLIENT],
        "redirect_uri": ["https://desk.city.example/auth/oidc/callback"],
        "scope": ["openid email"],
        "state": ["s"],
        "nonce": ["n"],
        "code_challenge": ["c"],
        "code_challenge_method": ["S256"],
        "acr_values": ["urn:acr.login.gov:auth-only"],
    }
