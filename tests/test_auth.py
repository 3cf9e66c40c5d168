"""Bearer tokens (api.md *Authentication*, *Running it*).

HS256 with our secret by default (what ``casegraph token`` prints); an identity provider's
RS256/ES256 keys from a JWKS URL, with issuer and audience, in production. Users are provisioned
or refreshed from the claims on every authenticated request; unknown roles are ignored. The
development secret is refused in production by the app factory and by ``casegraph serve``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import AuthError, TokenVerifier, VerifiedTokens, issue_token
from casegraph.cli import main as casegraph_cli
from casegraph.domain.enums import Role
from casegraph.services.users import Claims
from casegraph.settings import DEV_SECRET, Settings
from models import User
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World

ME = "{ me { id name roles email agency } }"
CREATE_CASE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id requester { id } } errors { code field } }
}
"""
ISSUER = "https://id.example.org/realms/casegraph"
AUDIENCE = "casegraph-api"
PRODUCTION_SECRET = "a-real-production-secret-from-the-vault-0123456789"


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- HS256: `casegraph token` and issue_token ------------------------------------------------------


async def test_a_token_from_issue_token_authenticates_its_subject(
    client: GraphQLClient, db: TortoiseContext, settings: Settings
) -> None:
    # given
    token = issue_token(
        settings,
        sub="zoe",
        roles=[Role.AGENT, Role.MANAGER],
        name="Zoe Agent",
        email="zoe@example.org",
        agency="Roads",
    )
    # when
    data = await client.data(ME, token=token)
    # then
    assert data["me"] == {
        "id": "zoe",
        "name": "Zoe Agent",
        "roles": ["AGENT", "MANAGER"],
        "email": "zoe@example.org",
        "agency": "Roads",
    }


def test_issue_token_signs_hs256_with_the_configured_secret_and_an_expiry(settings: Settings) -> None:
    # when
    token = issue_token(settings, sub="zoe", roles=[Role.AGENT], ttl=timedelta(hours=2))
    # then
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == "zoe" and claims["roles"] == ["AGENT"]
    assert 2 * 3600 - 60 <= claims["exp"] - time.time() <= 2 * 3600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, DEV_SECRET, algorithms=["HS256"])


async def test_the_token_command_prints_a_token_the_app_accepts(
    client: GraphQLClient,
    db: TortoiseContext,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: the command reads the same secret from the environment as the server
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEGRAPH_JWT_SECRET", settings.jwt_secret)
    # when
    exit_code = casegraph_cli(
        [
            "token",
            "--sub",
            "yara",
            "--role",
            "CONSTITUENT",
            "--role",
            "PARTNER",
            "--name",
            "Yara",
            "--email",
            "yara@example.org",
            "--days",
            "1",
        ]
    )
    token = capsys.readouterr().out.strip()
    data = await client.data(ME, token=token)
    # then
    assert exit_code == 0
    assert data["me"] == {
        "id": "yara",
        "name": "Yara",
        "roles": ["CONSTITUENT", "PARTNER"],
        "email": "yara@example.org",
        "agency": None,
    }


def test_the_token_command_refuses_an_unknown_role(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    monkeypatch.chdir(tmp_path)
    # when
    with pytest.raises(SystemExit) as exited:
        casegraph_cli(["token", "--sub", "mallory", "--role", "SUPERUSER"])
    # then
    assert exited.value.code == 2
    assert capsys.readouterr().out == ""


# --- provisioning from claims ----------------------------------------------------------------------


async def test_a_first_request_provisions_the_user_from_the_claims(
    client: GraphQLClient, db: TortoiseContext, settings: Settings
) -> None:
    # given
    assert not await User.exists(id="nina")
    token = issue_token(settings, sub="nina", roles=[Role.CONSTITUENT], name="Nina", email="nina@example.org")
    # when
    await client.data(ME, token=token)
    # then
    user = await User.get(id="nina")
    assert (user.name, user.email, user.roles) == ("Nina", "nina@example.org", ["CONSTITUENT"])


async def test_changed_claims_refresh_the_user_on_the_next_request(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    first = issue_token(settings, sub="alice", roles=[Role.CONSTITUENT], name="Alice", email="alice@example.org")
    renamed = issue_token(
        settings,
        sub="alice",
        roles=[Role.CONSTITUENT, Role.PARTNER],
        name="Alice Smith",
        email="alice.smith@example.org",
        agency="Harbor Authority",
    )
    # when
    before = await client.data(ME, token=first)
    after = await client.data(ME, token=renamed)
    # then
    assert before["me"]["name"] == "Alice"
    assert after["me"] == {
        "id": "alice",
        "name": "Alice Smith",
        "roles": ["CONSTITUENT", "PARTNER"],
        "email": "alice.smith@example.org",
        "agency": "Harbor Authority",
    }
    user = await User.get(id="alice")
    assert (user.name, user.email, user.agency, sorted(user.roles)) == (
        "Alice Smith",
        "alice.smith@example.org",
        "Harbor Authority",
        ["CONSTITUENT", "PARTNER"],
    )
    assert await User.filter(id="alice").count() == 1


async def test_the_refreshed_name_shows_where_others_see_the_user(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice files a case, then comes back under a new name
    created = await client.data(
        CREATE_CASE, {"input": {"caseTypeCode": "POTHOLE", "title": "Hole"}}, token=world.token(settings, "requester")
    )
    case_id = created["createCase"]["case"]["id"]
    renamed = issue_token(
        settings, sub="alice", roles=[Role.CONSTITUENT], name="Alice Renamed", email="alice@example.org"
    )
    await client.data(ME, token=renamed)
    # when: the agent looks at the case
    data = await client.data(
        f"{{ case(id: {json.dumps(case_id)}) {{ requester {{ id name }} }} }}", token=world.token(settings, "agent")
    )
    # then
    assert data["case"]["requester"] == {"id": "alice", "name": "Alice Renamed"}


async def test_unknown_roles_in_the_token_are_ignored(
    client: GraphQLClient, db: TortoiseContext, settings: Settings
) -> None:
    # given: other applications' roles, and look-alikes of ours in another case
    payload = {
        "sub": "omar",
        "name": "Omar",
        "exp": int(time.time()) + 600,
        "roles": ["CONSTITUENT", "SUPERUSER", "admin", "Agent", "realm-admin", 7, None, ["ADMIN"]],
    }
    token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    # when
    data = await client.data(ME, token=token)
    # then
    assert data["me"]["roles"] == ["CONSTITUENT"]
    assert (await User.get(id="omar")).roles == ["CONSTITUENT"]


async def test_a_token_whose_unknown_roles_are_all_it_has_gets_no_staff_powers(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    payload = {"sub": "mallory", "roles": ["admin", "root", "MANAGER "], "exp": int(time.time()) + 600}
    token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    # when
    me = await client.data(ME, token=token)
    cases = await client.data("{ cases { totalCount } }", token=token)
    # then
    assert me["me"]["roles"] == []
    assert cases["cases"]["totalCount"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"roles": "ADMIN"}, id="roles-as-string"),
        pytest.param({"sub": ""}, id="blank-sub"),
        pytest.param({"sub": 42}, id="numeric-sub"),
        pytest.param({"sub": "x" * 300}, id="overlong-sub"),
    ],
)
async def test_malformed_claims_are_unauthenticated_and_provision_nobody(
    client: GraphQLClient, db: TortoiseContext, settings: Settings, payload: dict[str, Any]
) -> None:
    # given
    claims = {"sub": "mallory", "roles": ["AGENT"], "exp": int(time.time()) + 600, **payload}
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    users_before = await User.all().count()
    # when
    body = await client.execute(ME, token=token)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await User.all().count() == users_before


# --- JWKS: an identity provider's RS256 / ES256 keys -------------------------------------------------


@dataclass
class IdentityProvider:
    """Key pairs and a JWKS document served over real HTTP on a loopback port."""

    jwks_url: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    requests: list[str] = field(default_factory=list)

    RSA_KID = "rsa-2026"
    EC_KID = "ec-2026"

    def claims(self, sub: str, roles: list[str], **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "sub": sub,
            "roles": roles,
            "name": sub.title(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            **overrides,
        }

    def rs256(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.rsa_key, algorithm="RS256", headers={"kid": kid or self.RSA_KID})

    def es256(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.ec_key, algorithm="ES256", headers={"kid": kid or self.EC_KID})

    def rsa_public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _jwks_document(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> bytes:
    rsa_jwk = RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    ec_jwk = ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    keys = [
        {**rsa_jwk, "kid": IdentityProvider.RSA_KID, "use": "sig", "alg": "RS256"},
        {**ec_jwk, "kid": IdentityProvider.EC_KID, "use": "sig", "alg": "ES256"},
    ]
    return json.dumps({"keys": keys}).encode()


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[IdentityProvider]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    document = _jwks_document(rsa_key, ec_key)
    requests: list[str] = []

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server protocol
            requests.append(self.path)
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, name="jwks-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield IdentityProvider(
            jwks_url=f"http://{host!s}:{port}/.well-known/jwks.json",
            rsa_key=rsa_key,
            ec_key=ec_key,
            requests=requests,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def jwks_settings(identity_provider: IdentityProvider) -> Settings:
    return Settings(jwt_jwks_url=identity_provider.jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)


@pytest.fixture
async def jwks_http(
    db: TortoiseContext, jwks_settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> AsyncIterator[httpx.AsyncClient]:
    runtime = Runtime(settings=jwks_settings, verifier=TokenVerifier(jwks_settings), clock=clock, publisher=publisher)
    app = create_app(jwks_settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def graphql(
    http: httpx.AsyncClient, query: str, token: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_an_identity_provider_token_is_accepted_through_the_app(
    jwks_http: httpx.AsyncClient, world: World, identity_provider: IdentityProvider, algorithm: str
) -> None:
    # given
    claims = identity_provider.claims("alice", ["CONSTITUENT"], name="Alice From IdP")
    token = identity_provider.rs256(claims) if algorithm == "RS256" else identity_provider.es256(claims)
    # when
    me = await graphql(jwks_http, ME, token)
    created = await graphql(jwks_http, CREATE_CASE, token, {"input": {"caseTypeCode": "POTHOLE", "title": "Hole"}})
    # then
    assert not me.get("errors"), me["errors"]
    assert (me["data"]["me"]["id"], me["data"]["me"]["name"]) == ("alice", "Alice From IdP")
    assert not created.get("errors"), created["errors"]
    assert created["data"]["createCase"]["errors"] == []
    assert created["data"]["createCase"]["case"]["requester"] == {"id": "alice"}
    assert (await User.get(id="alice")).name == "Alice From IdP"
    assert "/.well-known/jwks.json" in identity_provider.requests


async def test_an_identity_provider_token_provisions_a_new_user(
    jwks_http: httpx.AsyncClient, db: TortoiseContext, identity_provider: IdentityProvider
) -> None:
    # given
    token = identity_provider.es256(
        identity_provider.claims("idp-user-17", ["AGENT"], email="u17@example.org", email_verified=True)
    )
    unverified = identity_provider.es256(identity_provider.claims("idp-user-18", ["AGENT"], email="u18@example.org"))
    # when
    body = await graphql(jwks_http, ME, token)
    other = await graphql(jwks_http, ME, unverified)
    # then: the address is stored only where the provider says it was verified (issue 14, section 3)
    assert not body.get("errors"), body["errors"]
    assert not other.get("errors"), other["errors"]
    user = await User.get(id="idp-user-17")
    assert (user.roles, user.email) == (["AGENT"], "u17@example.org")
    assert (await User.get(id="idp-user-18")).email is None


def _hs256_with_kid(claims: dict[str, Any], key: bytes, kid: str) -> str:
    """An HS256 token naming one of the provider's key ids (jwt.encode refuses PEM keys for HMAC)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def _stranger_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


# Each builder gets the provider and the claims of a token that would otherwise be accepted.
REFUSED_TOKENS: dict[str, Callable[[IdentityProvider, dict[str, Any]], str]] = {
    "wrong-issuer": lambda idp, good: idp.rs256({**good, "iss": "https://evil.example.org/"}),
    "wrong-audience": lambda idp, good: idp.rs256({**good, "aud": "some-other-api"}),
    "no-audience": lambda idp, good: idp.es256(_without(good, "aud")),
    "no-issuer": lambda idp, good: idp.es256(_without(good, "iss")),
    "unknown-kid": lambda idp, good: idp.rs256(good, kid="rotated-away"),
    "no-kid": lambda idp, good: jwt.encode(good, idp.rsa_key, algorithm="RS256"),
    "expired": lambda idp, good: idp.rs256({**good, "iat": good["iat"] - 7200, "exp": good["iat"] - 3600}),
    "expired-es256": lambda idp, good: idp.es256({**good, "iat": good["iat"] - 7200, "exp": good["iat"] - 120}),
    "hs256-with-an-hs-secret": lambda idp, good: issue_token(
        Settings(jwt_secret="hs-secret-of-a-development-setup-elsewhere"), sub="mallory", roles=[Role.ADMIN]
    ),
    "hs256-with-dev-secret": lambda idp, good: jwt.encode(good, DEV_SECRET, algorithm="HS256"),
    "hs256-keyed-with-public-pem": lambda idp, good: _hs256_with_kid(good, idp.rsa_public_pem(), idp.RSA_KID),
    "alg-none": lambda idp, good: jwt.encode(good, "", algorithm="none", headers={"kid": idp.RSA_KID}),
    "signed-by-another-rsa-key": lambda idp, good: jwt.encode(
        good, _stranger_rsa(), algorithm="RS256", headers={"kid": idp.RSA_KID}
    ),
    "signed-by-another-ec-key": lambda idp, good: jwt.encode(
        good, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": idp.EC_KID}
    ),
    "es256-signed-claiming-the-rsa-kid": lambda idp, good: jwt.encode(
        good, idp.ec_key, algorithm="ES256", headers={"kid": idp.RSA_KID}
    ),
}


@pytest.mark.parametrize("kind", list(REFUSED_TOKENS))
async def test_a_token_the_identity_provider_did_not_issue_for_us_is_unauthenticated(
    jwks_http: httpx.AsyncClient, db: TortoiseContext, identity_provider: IdentityProvider, kind: str
) -> None:
    # given
    token = REFUSED_TOKENS[kind](identity_provider, identity_provider.claims("mallory", ["ADMIN"]))
    # when
    me = await graphql(jwks_http, ME, token)
    introspection = await graphql(jwks_http, "{ __typename }", token)
    # then
    assert error_codes(me) == ["UNAUTHENTICATED"]
    assert me.get("data") is None
    assert error_codes(introspection) == ["UNAUTHENTICATED"]
    assert not await User.exists(id="mallory")


async def test_a_missing_token_is_unauthenticated_in_jwks_mode(
    jwks_http: httpx.AsyncClient, db: TortoiseContext
) -> None:
    # when
    response = await jwks_http.post("/graphql", json={"query": ME})
    # then
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


# --- production configuration ----------------------------------------------------------------------


def test_create_app_refuses_the_development_secret_in_production() -> None:
    # when / then
    with pytest.raises(RuntimeError):
        create_app(Settings(env="production"), manage_resources=False)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(Settings(env="production", jwt_secret=PRODUCTION_SECRET, metrics_token="m"), id="own-secret"),
        pytest.param(
            Settings(
                env="production",
                jwt_jwks_url="http://127.0.0.1:9/jwks.json",
                jwt_issuer=ISSUER,
                jwt_audience=AUDIENCE,
                metrics_token="m",
            ),
            id="jwks",
        ),
    ],
)
def test_create_app_accepts_production_with_a_real_key_source(settings: Settings) -> None:
    # when
    app = create_app(settings, manage_resources=False)
    # then
    assert app.state.runtime.settings is settings


def test_settings_from_the_environment_in_production_without_a_secret_use_the_development_one() -> None:
    # when
    settings = Settings.from_env({"CASEGRAPH_ENV": "production"}, dotenv=Path("/nonexistent/.env"))
    # then
    assert settings.production and settings.uses_dev_secret


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment_without_casegraph(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEGRAPH_")}
    return {**env, **extra}


def test_serve_refuses_to_start_in_production_with_the_development_secret(tmp_path: Path) -> None:
    # given
    database = tmp_path / "prod.sqlite3"
    env = _environment_without_casegraph(CASEGRAPH_ENV="production", CASEGRAPH_DATABASE_URL=f"sqlite://{database}")
    port = _free_port()
    # when
    completed = subprocess.run(
        [sys.executable, "-m", "casegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.strip()
    assert not database.exists()  # refused before touching the database


def test_serve_in_production_refuses_an_explicitly_configured_development_secret(tmp_path: Path) -> None:
    # given
    database = tmp_path / "prod.sqlite3"
    env = _environment_without_casegraph(
        CASEGRAPH_ENV="production",
        CASEGRAPH_JWT_SECRET=DEV_SECRET,
        CASEGRAPH_DATABASE_URL=f"sqlite://{database}",
    )
    # when
    completed = subprocess.run(
        [sys.executable, "-m", "casegraph.cli", "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then
    assert completed.returncode == 2, completed.stderr
    assert not database.exists()


async def test_production_turns_off_introspection(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    settings = Settings(env="production", jwt_secret=PRODUCTION_SECRET, metrics_token="m")
    runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock)
    app = create_app(settings, manage_resources=False, runtime=runtime)
    token = issue_token(settings, sub="dana", roles=[Role.AGENT])
    # when
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        anonymous = (await http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})).json()
        signed_in = await graphql(http, "{ __schema { types { name } } }", token)
        data = await graphql(http, "{ me { id } }", token)
    # then
    assert anonymous.get("data") is None and anonymous["errors"]
    assert signed_in.get("data") is None and signed_in["errors"]
    assert data == {"data": {"me": {"id": "dana"}}}


class _Ticking:
    """A clock for the verified-token cache: monotonic and wall time moved together by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return decoded


async def test_a_verified_token_is_not_checked_again_until_it_would_have_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a token valid for two more minutes, checked once
    settings = Settings(jwt_secret=PRODUCTION_SECRET)
    verifier = TokenVerifier(settings)
    ticking = _Ticking()
    verifier.verified = type(verifier.verified)(clock=ticking, wall=ticking)
    token = issue_token(settings, sub="dana", roles=[Role.AGENT], ttl=timedelta(minutes=2))
    decoded = _counting_decodes(monkeypatch)
    first = await verifier.verify(f"Bearer {token}")
    # when: the same token again, then after its expiry (and the leeway) has passed
    again = await verifier.verify(f"Bearer {token}")
    ticking.now += 120 + 31
    await verifier.verify(f"Bearer {token}")
    # then: checked once while valid, and again (by the decoder, which refuses expired tokens) after
    assert again == first and decoded == [token, token]


async def test_a_refused_token_is_refused_every_time_and_a_long_one_is_checked_again_after_five_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    settings = Settings(jwt_secret=PRODUCTION_SECRET)
    verifier = TokenVerifier(settings)
    ticking = _Ticking()
    verifier.verified = type(verifier.verified)(clock=ticking, wall=ticking)
    good = issue_token(settings, sub="dana", roles=[Role.AGENT])
    forged = issue_token(
        Settings(jwt_secret="another-secret-another-secret-another-secret"), sub="dana", roles=[Role.AGENT]
    )
    decoded = _counting_decodes(monkeypatch)
    # when
    for _ in range(2):
        with pytest.raises(AuthError):
            await verifier.verify(f"Bearer {forged}")
    await verifier.verify(f"Bearer {good}")
    ticking.now += 299
    await verifier.verify(f"Bearer {good}")
    ticking.now += 2
    await verifier.verify(f"Bearer {good}")
    # then
    assert decoded == [forged, forged, good, good]


def test_the_verified_token_cache_keeps_the_most_recently_used() -> None:
    # given
    cache = VerifiedTokens(size=2)
    claims = {name: Claims(sub=name, roles=frozenset({Role.AGENT})) for name in ("a", "b", "c")}
    payload = {"exp": time.time() + 3600}
    cache.remember("a", claims["a"], payload)
    cache.remember("b", claims["b"], payload)
    # when: "a" is used, then a third token arrives
    cache.get("a")
    cache.remember("c", claims["c"], payload)
    # then
    assert cache.get("a") == claims["a"] and cache.get("c") == claims["c"] and cache.get("b") is None
