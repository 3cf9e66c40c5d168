"""Persisted queries over HTTP: Apollo's APQ protocol, the allow-list, registering operations
(ADMIN mutation and the command line)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from casegraph.app import Runtime
from casegraph.domain.enums import Role
from casegraph.persisted_queries.caches import REGISTERED_TTL, RegisteredDocuments
from casegraph.persisted_queries.protocol import document_hash
from casegraph.persisted_queries.registry import operation_document, register_documents
from casegraph.settings import RateLimits, Settings
from models import AssignmentGroup, PersistedQuery
from tests.conftest import BACKENDS, TEST_SECRET
from tests.helpers import GraphQLClient
from tests.live.support import postgres_database

REPO_ROOT = Path(__file__).resolve().parents[2]
ME = "query Me { me { id } }"
GROUPS = "query Groups { assignmentGroups { code } }"
CREATE_PARKS = (
    'mutation CreateParks { createAssignmentGroup(input: {code: "PARKS", name: "Parks"}) { errors { code } } }'
)
REGISTER = """mutation Register($input: RegisterPersistedQueryInput!) {
  registerPersistedQuery(input: $input) { sha256 name created errors { code field message } }
}"""
NEW_MEDIA_TYPE = "application/graphql-response+json"


@pytest.fixture
def mode() -> str:
    return "apq"


@pytest.fixture
def settings(mode: str) -> Settings:
    return Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off(), persisted_queries=mode)


def persisted(sha256: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


async def send(
    client: GraphQLClient,
    *,
    query: str | None = None,
    sha256: str | None = None,
    version: object = 1,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    accept: str | None = None,
    method: str = "POST",
) -> httpx.Response:
    """One request as an APQ link sends it: the hash in extensions, the text only when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept is not None:
        headers["Accept"] = accept
    body: dict[str, Any] = {}
    if query is not None:
        body["query"] = query
    if sha256 is not None:
        body["extensions"] = persisted(sha256, version)
    if variables is not None:
        body["variables"] = variables
    if method == "GET":
        params = {key: value if key == "query" else json.dumps(value) for key, value in body.items()}
        return await client.http.get("/graphql", params=params, headers=headers)
    return await client.http.post("/graphql", json=body, headers=headers)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    [error] = body["errors"]
    assert "path" not in error and body.get("data") is None, body
    return str(error["extensions"]["code"])


async def register(*documents: str) -> None:
    await register_documents([operation_document(d) for d in documents], now=datetime(2026, 11, 2, tzinfo=UTC))


def user_token(client: GraphQLClient, sub: str = "dana", role: Role = Role.AGENT) -> str:
    return client.token(sub, role)


# --- APQ ------------------------------------------------------------------------------------------


async def test_apq_a_hash_alone_is_not_found_until_a_client_sent_it_with_its_text(client: GraphQLClient) -> None:
    token = user_token(client)
    sha256 = document_hash(ME)
    # when: the hash alone, first
    first = await send(client, sha256=sha256, token=token, accept=NEW_MEDIA_TYPE)
    # then: the client is told to send the text; a protocol step, so HTTP 200 even for the new media type
    assert first.status_code == 200
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert error_code(first) == "PERSISTED_QUERY_NOT_FOUND"
    # when: hash and text
    second = await send(client, query=ME, sha256=sha256, token=token)
    assert second.json() == {"data": {"me": {"id": "dana"}}}
    # then: the hash alone now runs it
    third = await send(client, sha256=sha256, token=token)
    assert third.json() == {"data": {"me": {"id": "dana"}}}


async def test_apq_a_hash_that_is_not_the_texts_is_refused_and_not_learnt(client: GraphQLClient) -> None:
    token = user_token(client)
    wrong = document_hash(GROUPS)
    # when
    response = await send(client, query=ME, sha256=wrong, token=token, accept=NEW_MEDIA_TYPE)
    # then
    assert response.status_code == 400
    assert error_code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    assert error_code(await send(client, sha256=wrong, token=token)) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
async def test_apq_only_version_1_is_supported(client: GraphQLClient, version: object) -> None:
    response = await send(client, query=ME, sha256=document_hash(ME), version=version, token=user_token(client))
    assert error_code(response) == "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    assert "only version 1" in response.json()["errors"][0]["message"]


async def test_apq_a_malformed_hash_is_refused(client: GraphQLClient) -> None:
    response = await send(client, query=ME, sha256="not-a-hash", token=user_token(client))
    assert error_code(response) == "PERSISTED_QUERY_INVALID"


async def test_apq_a_hash_alone_runs_a_registered_document_no_client_sent(client: GraphQLClient) -> None:
    await register(ME)
    response = await send(client, sha256=document_hash(ME), token=user_token(client))
    assert response.json() == {"data": {"me": {"id": "dana"}}}


async def test_apq_clients_never_write_to_the_database(client: GraphQLClient) -> None:
    await send(client, query=ME, sha256=document_hash(ME), token=user_token(client))
    assert await PersistedQuery.all().count() == 0


async def test_apq_plain_queries_run_as_ever(client: GraphQLClient) -> None:
    assert await client.data(ME, token=user_token(client)) == {"me": {"id": "dana"}}


async def test_apq_works_over_get_with_the_hash_alone(client: GraphQLClient) -> None:
    # given: learnt from a POST with the text
    token = user_token(client)
    await send(client, query=GROUPS, sha256=document_hash(GROUPS), token=token)
    # when: the hash alone over GET, with variables, as a CDN-friendly APQ link sends it (httpx accepts */*)
    response = await send(client, sha256=document_hash(GROUPS), variables={}, token=token, method="GET")
    # then: executed, not GraphiQL
    assert response.status_code == 200
    assert response.json() == {"data": {"assignmentGroups": []}}


async def test_apq_get_learns_from_hash_and_text_too(client: GraphQLClient) -> None:
    token = user_token(client)
    sha256 = document_hash(ME)
    assert error_code(await send(client, sha256=sha256, token=token, method="GET")) == "PERSISTED_QUERY_NOT_FOUND"
    assert (await send(client, query=ME, sha256=sha256, token=token, method="GET")).json()["data"] == {
        "me": {"id": "dana"}
    }
    assert (await send(client, sha256=sha256, token=token, method="GET")).json()["data"] == {"me": {"id": "dana"}}


async def test_apq_a_mutation_named_by_hash_over_get_is_still_refused(client: GraphQLClient) -> None:
    # given
    admin = client.token("ada", Role.ADMIN)
    await register(CREATE_PARKS)
    # when
    response = await send(client, sha256=document_hash(CREATE_PARKS), token=admin, method="GET")
    # then
    assert response.status_code >= 400
    assert not await AssignmentGroup.filter(code="PARKS").exists()


# --- off --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["off"])
async def test_off_refuses_any_persisted_query_extension(client: GraphQLClient) -> None:
    token = user_token(client)
    sha256 = document_hash(ME)
    for response in (
        await send(client, sha256=sha256, token=token, accept=NEW_MEDIA_TYPE),
        await send(client, query=ME, sha256=sha256, token=token, accept=NEW_MEDIA_TYPE),
    ):
        assert response.status_code == 200  # Apollo's links stop sending hashes on this answer
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert error_code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert await client.data(ME, token=token) == {"me": {"id": "dana"}}


# --- allowlist --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_a_registered_hash_runs(client: GraphQLClient) -> None:
    await register(ME)
    token = user_token(client)
    assert (await send(client, sha256=document_hash(ME), token=token)).json() == {"data": {"me": {"id": "dana"}}}
    assert (await send(client, sha256=document_hash(ME), token=token, method="GET")).json() == {
        "data": {"me": {"id": "dana"}}
    }


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_registered_text_runs(client: GraphQLClient) -> None:
    await register(ME)
    assert await client.data(ME, token=user_token(client)) == {"me": {"id": "dana"}}


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_unregistered_text_is_refused_and_nothing_runs(client: GraphQLClient) -> None:
    # given: some other operation is registered
    await register(ME)
    admin = client.token("ada", Role.ADMIN)
    # when: an unregistered mutation, plainly and with its (correct) hash
    plain = await send(client, query=CREATE_PARKS, token=admin, accept=NEW_MEDIA_TYPE)
    hashed = await send(client, query=CREATE_PARKS, sha256=document_hash(CREATE_PARKS), token=admin)
    # then
    assert plain.status_code == 400
    assert error_code(plain) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert error_code(hashed) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert not await AssignmentGroup.filter(code="PARKS").exists()
    # and the text was not learnt either
    assert (
        error_code(await send(client, sha256=document_hash(CREATE_PARKS), token=admin)) == "PERSISTED_QUERY_NOT_FOUND"
    )


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_an_unknown_hash_is_not_found(client: GraphQLClient) -> None:
    response = await send(client, sha256=document_hash(ME), token=user_token(client))
    assert error_code(response) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_introspection_is_not_exempt(client: GraphQLClient) -> None:
    response = await send(client, query="{ __schema { queryType { name } } }")
    assert error_code(response) == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_a_document_differing_only_in_whitespace_is_another_document(client: GraphQLClient) -> None:
    await register(ME)
    response = await send(client, query=ME + "\n", token=user_token(client))
    assert error_code(response) == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_a_removed_hash_runs_until_the_lookup_cache_expires(
    client: GraphQLClient, runtime: Runtime
) -> None:
    # given: a registered document this process has looked up
    now = [1000.0]
    runtime.persisted_queries.registered = RegisteredDocuments(monotonic=lambda: now[0])
    await register(ME)
    token = user_token(client)
    assert await client.data(ME, token=token) == {"me": {"id": "dana"}}
    # when: it is removed
    await PersistedQuery.filter(sha256=document_hash(ME)).delete()
    # then: it runs until the cached lookup is REGISTERED_TTL old, and no longer
    now[0] += REGISTERED_TTL - 1
    assert await client.data(ME, token=token) == {"me": {"id": "dana"}}
    now[0] += 1
    assert error_code(await client.post(ME, token=token)) == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_a_newly_registered_hash_runs_at_once(client: GraphQLClient) -> None:
    token = user_token(client)
    assert error_code(await client.post(ME, token=token)) == "PERSISTED_QUERY_NOT_ALLOWED"
    await register(ME)
    assert await client.data(ME, token=token) == {"me": {"id": "dana"}}


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_allowlist_lookups_are_cached(client: GraphQLClient) -> None:
    # given
    await register(ME)
    token = user_token(client)
    await client.data(ME, token=token)
    lookups = 0
    original = PersistedQuery.get_or_none

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal lookups
        lookups += 1
        return original(*args, **kwargs)

    # when
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PersistedQuery, "get_or_none", counting)
        for _ in range(3):
            await client.data(ME, token=token)
            await send(client, sha256=document_hash(ME), token=token)
    # then
    assert lookups == 0


# --- registering ----------------------------------------------------------------------------------


async def test_an_admin_registers_an_operation_by_mutation(client: GraphQLClient) -> None:
    admin = client.token("ada", Role.ADMIN)
    # when
    payload = (await client.data(REGISTER, {"input": {"document": GROUPS}}, token=admin))["registerPersistedQuery"]
    again = (await client.data(REGISTER, {"input": {"document": GROUPS, "name": "Groups list"}}, token=admin))[
        "registerPersistedQuery"
    ]
    # then
    assert payload == {"sha256": document_hash(GROUPS), "name": "Groups", "created": True, "errors": []}
    assert again == {"sha256": document_hash(GROUPS), "name": "Groups list", "created": False, "errors": []}
    row = await PersistedQuery.get(sha256=document_hash(GROUPS))
    assert row.document == GROUPS
    # and the hash alone runs it
    response = await send(client, sha256=document_hash(GROUPS), token=admin)
    assert response.json() == {"data": {"assignmentGroups": []}}


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.CONSTITUENT])
async def test_only_an_admin_may_register_an_operation(client: GraphQLClient, role: Role) -> None:
    payload = (await client.data(REGISTER, {"input": {"document": GROUPS}}, token=client.token("someone", role)))[
        "registerPersistedQuery"
    ]
    assert payload["sha256"] is None
    assert [e["code"] for e in payload["errors"]] == ["PERMISSION_DENIED"]
    assert await PersistedQuery.all().count() == 0


@pytest.mark.parametrize(
    ("document", "name", "field"),
    [
        ("{ me { id ", None, "document"),
        ("fragment F on User { id }", None, "document"),
        ("   ", None, "document"),
        ("x" * 100_001, None, "document"),
        (GROUPS, "n" * 201, "name"),
    ],
)
async def test_a_document_that_cannot_run_is_not_registered(
    client: GraphQLClient, document: str, name: str | None, field: str
) -> None:
    admin = client.token("ada", Role.ADMIN)
    payload = (await client.data(REGISTER, {"input": {"document": document, "name": name}}, token=admin))[
        "registerPersistedQuery"
    ]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION_FAILED", field)]
    assert await PersistedQuery.all().count() == 0


@pytest.mark.parametrize("mode", ["allowlist"])
async def test_under_the_allowlist_the_registration_mutation_runs_once_registered_itself(
    client: GraphQLClient,
) -> None:
    admin = client.token("ada", Role.ADMIN)
    assert error_code(await client.post(REGISTER, {"input": {"document": GROUPS}}, token=admin)) == (
        "PERSISTED_QUERY_NOT_ALLOWED"
    )
    await register(REGISTER)  # the bootstrap the command line does
    assert (await client.data(REGISTER, {"input": {"document": GROUPS}}, token=admin))["registerPersistedQuery"][
        "created"
    ]
    assert await client.data(GROUPS, token=admin) == {"assignmentGroups": []}


# --- the command line -----------------------------------------------------------------------------


def casegraph(args: list[str], database_url: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env["CASEGRAPH_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "casegraph.cli", *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def manifest(*operations: dict[str, str]) -> str:
    return json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": list(operations)})


def manifest_entry(body: str, name: str, kind: str = "query", sha256: str | None = None) -> dict[str, str]:
    return {"id": sha256 or document_hash(body), "name": name, "type": kind, "body": body}


@pytest.fixture(scope="module", params=BACKENDS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """An empty database migrated by `casegraph migrate`, shared by the command-line tests."""
    workdir = tmp_path_factory.mktemp("persisted-queries-cli")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite://{workdir / 'casegraph.sqlite3'}"
        completed = casegraph(["migrate"], url, workdir)
        assert completed.returncode == 0, completed.stderr
        yield url, workdir


def test_the_command_line_registers_a_manifest_and_graphql_files_lists_and_removes(
    migrated_database: tuple[str, Path],
) -> None:
    url, workdir = migrated_database
    # given: an Apollo manifest and a .graphql file with two operations (and Windows line ends)
    (workdir / "persisted-query-manifest.json").write_text(
        manifest(manifest_entry(ME, "Me"), manifest_entry(CREATE_PARKS, "CreateParks", "mutation")), encoding="utf-8"
    )
    two_operations = "query A { me { id } }\r\nquery B { caseTypes { code } }\r\n"
    (workdir / "screens.graphql").write_bytes(two_operations.encode())
    # when
    registered = casegraph(
        ["persisted-queries", "register", "persisted-query-manifest.json", "screens.graphql"], url, workdir
    )
    again = casegraph(["persisted-queries", "register", "persisted-query-manifest.json"], url, workdir)
    listed = casegraph(["persisted-queries", "list"], url, workdir)
    # then
    assert registered.returncode == 0, registered.stderr
    assert "3 operations: 3 new, 0 already registered" in registered.stdout
    assert "2 operations: 0 new, 2 already registered" in again.stdout
    rows = {line.split("\t")[0]: line.split("\t")[2] for line in listed.stdout.splitlines()}
    # the file is registered whole, byte for byte, named after itself
    assert rows == {
        document_hash(ME): "Me",
        document_hash(CREATE_PARKS): "CreateParks",
        document_hash(two_operations): "screens",
    }
    # when: one is removed
    removed = casegraph(["persisted-queries", "remove", document_hash(ME)], url, workdir)
    missing = casegraph(["persisted-queries", "remove", document_hash(ME)], url, workdir)
    # then
    assert removed.returncode == 0 and "up to 30 s" in removed.stdout
    assert missing.returncode == 1 and "not registered" in missing.stderr
    listed = casegraph(["persisted-queries", "list"], url, workdir)
    assert document_hash(ME) not in listed.stdout and len(listed.stdout.splitlines()) == 2


def test_the_command_line_refuses_a_manifest_whose_id_is_not_its_bodys_hash(
    migrated_database: tuple[str, Path],
) -> None:
    url, workdir = migrated_database
    before = casegraph(["persisted-queries", "list"], url, workdir).stdout
    # given: a good operation, then one whose id is another body's hash
    (workdir / "tampered.json").write_text(
        manifest(manifest_entry(GROUPS, "Groups"), manifest_entry(ME + " ", "Sneaky", sha256=document_hash(ME))),
        encoding="utf-8",
    )
    # when
    completed = casegraph(["persisted-queries", "register", "tampered.json"], url, workdir)
    # then: a clear message, and nothing registered (not even the good one)
    assert completed.returncode == 1
    assert "operation #1 (Sneaky)" in completed.stderr
    assert f"id {document_hash(ME)} is not the SHA-256 of its body" in completed.stderr
    assert "nothing registered" in completed.stderr
    assert casegraph(["persisted-queries", "list"], url, workdir).stdout == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{}", "not a manifest"),
        ('{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}', "version 2"),
        ("[", "not JSON"),
    ],
)
def test_the_command_line_refuses_what_is_not_a_manifest(
    migrated_database: tuple[str, Path], content: str, message: str
) -> None:
    url, workdir = migrated_database
    (workdir / "broken.json").write_text(content, encoding="utf-8")
    completed = casegraph(["persisted-queries", "register", "broken.json"], url, workdir)
    assert completed.returncode == 1 and message in completed.stderr


def test_the_command_line_refuses_a_file_that_is_not_there(migrated_database: tuple[str, Path]) -> None:
    # A typo in a release script must fail loudly, not quietly register nothing.
    url, workdir = migrated_database
    completed = casegraph(["persisted-queries", "register", "missing.graphql"], url, workdir)
    assert completed.returncode == 1 and "missing.graphql: No such file or directory" in completed.stderr
