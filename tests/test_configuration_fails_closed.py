"""Issue 14 §2: configuration fails closed.

``CASEGRAPH_ENV`` takes only its documented values; the development secret, GraphiQL and
``/dev/demo-users`` need development on a loopback address (a server started other than by
``serve`` counts as public); production needs a metrics token, a long intake secret, and tells
callers without a token nothing about the schema. Refusals at start-up are a message and exit 2,
before the database is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.domain.enums import Role
from casegraph.settings import DEV_SECRET, MIN_SECRET_BYTES, RateLimits, Settings, is_loopback, parse_smtp_url
from tests.helpers import FakeClock, GraphQLClient
from tests.live.support import REPO_ROOT, free_port

PRODUCTION_SECRET = "a-real-production-secret-from-the-vault-0123456789"
NO_DOTENV = Path("/nonexistent/.env")
START_TIMEOUT = 60.0


def production(**changes: object) -> Settings:
    values: dict[str, object] = {
        "env": "production",
        "jwt_secret": PRODUCTION_SECRET,
        "metrics_token": "scraper-token",
        "rate_limits": RateLimits.off(),
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def run_server(tmp_path: Path, command: list[str], **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """A server command with only ``env`` configured, run until it exits (it is expected to
    refuse); returns the finished process and the database it was given."""
    database = tmp_path / "casegraph.sqlite3"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), clean.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=tmp_path,
        env={**clean, "CASEGRAPH_DATABASE_URL": f"sqlite://{database}", **env},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    return completed, database


def serve(tmp_path: Path, host: str, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    return run_server(tmp_path, ["casegraph.cli", "serve", "--host", host, "--port", str(free_port())], **env)


# --- CASEGRAPH_ENV ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["prod", "Production ", "staging", "dev"])
def test_an_undocumented_environment_is_refused(value: str) -> None:
    # when / then
    with pytest.raises(ValueError, match="CASEGRAPH_ENV"):
        Settings.from_env({"CASEGRAPH_ENV": value}, dotenv=NO_DOTENV)


def test_an_undocumented_environment_set_in_code_refuses_to_build_the_app() -> None:
    # when / then
    with pytest.raises(RuntimeError, match="CASEGRAPH_ENV"):
        create_app(Settings(env="prod", jwt_secret=PRODUCTION_SECRET, bind_host="127.0.0.1"), manage_resources=False)


def test_serve_with_an_undocumented_environment_refuses_to_start(tmp_path: Path) -> None:
    # when
    completed, database = serve(tmp_path, "127.0.0.1", CASEGRAPH_ENV="prod", CASEGRAPH_JWT_SECRET=PRODUCTION_SECRET)
    # then: a message naming the setting, no traceback, and the database untouched
    assert completed.returncode == 2, completed.stderr
    assert "CASEGRAPH_ENV" in completed.stderr and "Traceback" not in completed.stderr
    assert not database.exists()


# --- loopback only: the development secret, GraphiQL, /dev/demo-users -----------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("casegraph.example", False),
        (None, False),
    ],
)
def test_loopback_addresses(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_refuses_the_development_secret_on_a_public_address(tmp_path: Path) -> None:
    # when: development, no secret configured, all interfaces
    completed, database = serve(tmp_path, "0.0.0.0", CASEGRAPH_ENV="development")
    # then
    assert completed.returncode == 2, completed.stderr
    assert "loopback" in completed.stderr and "Traceback" not in completed.stderr
    assert not database.exists()


def test_uvicorn_started_directly_refuses_the_development_secret(tmp_path: Path) -> None:
    # when: the factory under plain uvicorn, which tells the application nothing of its address
    completed, database = run_server(
        tmp_path,
        [
            "uvicorn",
            "--factory",
            "casegraph.app:create_app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
        ],
        CASEGRAPH_ENV="development",
    )
    # then
    assert completed.returncode != 0
    assert "loopback" in completed.stderr
    assert not database.exists()


def test_the_development_secret_on_loopback_still_serves() -> None:
    # when
    app = create_app(Settings(jwt_secret=DEV_SECRET, bind_host="127.0.0.1"), manage_resources=False)
    # then
    assert app.state.runtime.settings.uses_dev_secret


@pytest.fixture
async def http_for(db: TortoiseContext, clock: FakeClock) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients of apps served (in development, with a real secret) on loopback and on all interfaces."""
    clients: dict[str, httpx.AsyncClient] = {}
    for host in ("127.0.0.1", "0.0.0.0"):
        settings = Settings(jwt_secret=PRODUCTION_SECRET, bind_host=host, rate_limits=RateLimits.off())
        runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock)
        app = create_app(settings, manage_resources=False, runtime=runtime)
        clients[host] = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def test_graphiql_is_served_on_loopback_only(http_for: dict[str, httpx.AsyncClient]) -> None:
    # when: a browser opens /graphql
    browser = {"Accept": "text/html"}
    on_loopback = await http_for["127.0.0.1"].get("/graphql", headers=browser)
    in_public = await http_for["0.0.0.0"].get("/graphql", headers=browser)
    # then
    assert on_loopback.status_code == 200 and "graphiql" in on_loopback.text.lower()
    assert "graphiql" not in in_public.text.lower()
    assert not in_public.headers["content-type"].startswith("text/html")


# --- production ------------------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_metrics_token() -> None:
    # when / then
    with pytest.raises(RuntimeError, match="CASEGRAPH_METRICS_TOKEN"):
        create_app(production(metrics_token=None), manage_resources=False)


def test_production_serves_open_metrics_only_when_asked_to() -> None:
    # given
    settings = Settings.from_env(
        {"CASEGRAPH_ENV": "production", "CASEGRAPH_JWT_SECRET": PRODUCTION_SECRET, "CASEGRAPH_METRICS_PUBLIC": "true"},
        dotenv=NO_DOTENV,
    )
    # when
    app = create_app(settings, manage_resources=False)
    # then
    assert settings.metrics_token is None and app.state.runtime.settings.metrics_public


def test_a_misspelt_metrics_switch_is_refused() -> None:
    with pytest.raises(ValueError, match="CASEGRAPH_METRICS_PUBLIC"):
        Settings.from_env({"CASEGRAPH_METRICS_PUBLIC": "yes please"}, dotenv=NO_DOTENV)


@pytest.mark.parametrize(("value", "compiled"), [(None, True), ("on", True), ("off", False), (" OFF ", False)])
def test_the_compiled_query_path_is_on_unless_switched_off(value: str | None, compiled: bool) -> None:
    # given the switch unset, on or off
    environ = {} if value is None else {"CASEGRAPH_COMPILED_QUERIES": value}
    # when the settings are read, then
    assert Settings.from_env(environ, dotenv=NO_DOTENV).compiled_queries is compiled


def test_a_misspelt_compiled_queries_switch_is_refused() -> None:
    with pytest.raises(ValueError, match="CASEGRAPH_COMPILED_QUERIES must be on or off"):
        Settings.from_env({"CASEGRAPH_COMPILED_QUERIES": "fast"}, dotenv=NO_DOTENV)


def test_production_refuses_a_short_intake_secret() -> None:
    # when / then
    with pytest.raises(RuntimeError, match="CASEGRAPH_INTAKE_SECRET"):
        create_app(production(intake_secret="x" * (MIN_SECRET_BYTES - 1)), manage_resources=False)
    create_app(production(intake_secret="x" * MIN_SECRET_BYTES), manage_resources=False)


def test_production_mails_only_with_a_sender_public_links_and_a_signing_secret() -> None:
    # given: an SMTP server, as production sends mail
    smtp = parse_smtp_url("smtps://desk:secret@mail.city.example")
    complete = {"smtp": smtp, "mail_from": "cases@city.example", "public_url": "https://city.example"}
    # when / then: each missing piece is named
    for missing, variable in (("mail_from", "CASEGRAPH_MAIL_FROM"), ("public_url", "CASEGRAPH_PUBLIC_URL")):
        changes = {**complete, missing: Settings.public_url if missing == "public_url" else None}
        with pytest.raises(RuntimeError, match=variable):
            create_app(production(**changes), manage_resources=False)
    # identity-provider tokens leave no secret of ours to sign unsubscribe links with
    with pytest.raises(RuntimeError, match="CASEGRAPH_MAIL_SECRET"):
        create_app(
            production(**complete, jwt_secret=DEV_SECRET, jwt_jwks_url="https://idp.example/jwks"),
            manage_resources=False,
        )
    with pytest.raises(RuntimeError, match="CASEGRAPH_MAIL_SECRET"):
        create_app(production(**complete, mail_secret="short"), manage_resources=False)
    create_app(production(**complete), manage_resources=False)
    create_app(production(), manage_resources=False)  # no SMTP: nothing to require


def test_a_mail_catalogue_that_is_not_json_refuses_to_start(tmp_path: Path) -> None:
    # given: an agency's template directory with a broken Spanish catalogue
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "catalogs" / "es.json").write_text('{"greeting": "Hola:",}', encoding="utf-8")
    # when / then: named before anything listens, not on the first mail
    with pytest.raises(RuntimeError, match="es.json"):
        create_app(Settings(mail_templates=str(tmp_path), bind_host="127.0.0.1"), manage_resources=False)


def test_serve_in_production_refuses_to_start_without_a_metrics_token(tmp_path: Path) -> None:
    # when
    completed, database = serve(
        tmp_path, "127.0.0.1", CASEGRAPH_ENV="production", CASEGRAPH_JWT_SECRET=PRODUCTION_SECRET
    )
    # then
    assert completed.returncode == 2, completed.stderr
    assert "CASEGRAPH_METRICS_TOKEN" in completed.stderr
    assert not database.exists()


@pytest.fixture
async def production_client(db: TortoiseContext, clock: FakeClock) -> AsyncIterator[GraphQLClient]:
    settings = production()
    runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock)
    app = create_app(settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, settings)


# Near misses of real fields and arguments: validation would answer "Did you mean …?".
NEAR_MISSES = ["{ cass { totalCount } }", "{ me { idd } }", "{ cases(firts: 1) { totalCount } }"]


@pytest.mark.parametrize("document", NEAR_MISSES)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"], ids=["no-token", "bad-token"])
async def test_production_tells_callers_without_a_valid_token_nothing_about_the_schema(
    production_client: GraphQLClient, document: str, authorization: str | None
) -> None:
    # when
    headers = {"Authorization": authorization} if authorization else {}
    response = await production_client.http.post("/graphql", json={"query": document}, headers=headers)
    # then: refused as unauthenticated, without a suggestion
    body = response.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert "did you mean" not in response.text.lower()
    assert "data" not in body


async def test_production_still_validates_for_signed_in_callers(production_client: GraphQLClient) -> None:
    # given
    token = production_client.token("dana", Role.AGENT)
    # when
    body = await production_client.execute(NEAR_MISSES[0], token=token)
    # then: an ordinary validation error (signed-in users may read the schema's names)
    assert body["errors"] and body["errors"][0].get("extensions", {}).get("code") != "UNAUTHENTICATED"


# --- allowed origins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://desk.example.gov/",
        "desk.example.gov",
        "https://*.example.gov",
        "https://desk.example.gov/path",
        "null",
    ],
)
def test_allowed_origins_are_explicit_origins(value: str) -> None:
    with pytest.raises(ValueError, match="CASEGRAPH_ALLOWED_ORIGINS"):
        Settings.from_env({"CASEGRAPH_ALLOWED_ORIGINS": value}, dotenv=NO_DOTENV)


def test_allowed_origins_are_read_as_a_list() -> None:
    # when
    settings = Settings.from_env(
        {"CASEGRAPH_ALLOWED_ORIGINS": "https://desk.example.gov, http://localhost:5173"}, dotenv=NO_DOTENV
    )
    # then
    assert settings.allowed_origins == ("https://desk.example.gov", "http://localhost:5173")


def test_the_body_limit_defaults_to_one_mebibyte_and_is_configurable() -> None:
    assert Settings.from_env({}, dotenv=NO_DOTENV).max_body_bytes == 1024 * 1024
    assert Settings.from_env({"CASEGRAPH_MAX_BODY_BYTES": "4096"}, dotenv=NO_DOTENV).max_body_bytes == 4096
    with pytest.raises(ValueError, match="CASEGRAPH_MAX_BODY_BYTES"):
        Settings.from_env({"CASEGRAPH_MAX_BODY_BYTES": "1MB"}, dotenv=NO_DOTENV)
