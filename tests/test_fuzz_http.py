"""Fuzzing ``/graphql`` (issue 5): random and malformed documents, variables, tokens and bodies.

Hypothesis builds the requests: random text; documents generated from the real schema (its
fields, arguments, enums and input types, with aliases, fragments, directives, variables and
literals of the wrong type, huge numbers, unicode and NUL bytes); operations of the API with
plausible inputs aimed at real cases, users and case types; truncated and mutated documents;
hostile variables; forged, expired and odd bearer tokens; bodies that are not GraphQL at all.

What every exchange must show, whatever was sent:

- no 5xx, and no ``INTERNAL_ERROR`` (a masked crash is still a crash the input caused);
- nothing of the server's insides: tracebacks, SQL, driver and ORM exception names, the secret;
- a token we did not issue (bad signature, ``alg: none``, another algorithm, expired, not yet
  valid, another audience or issuer) never gets data;
- a refused request (HTTP 4xx, top-level errors without data, mutations whose payloads all carry
  errors) and any request that cannot write (no mutation in it) leave the database as it was.

Random examples find what they find; two tests go through every place instead: every String and
ID argument of every query and mutation with NUL and over-long text, and every subscription sent
over plain HTTP. And one test counts what a run of generated operations did, so that the fuzzing
is known to get past the parser and the guards and change cases, not only to be refused.

The world (people, groups, case types and a few cases) is built once per test and kept across
examples; mutations that succeed move it on, which is how later examples meet other states.
``CASEGRAPH_FUZZ_SCALE`` multiplies the number of examples (e.g. 10 for a long local run).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote_plus, urlencode

import httpx
import hypothesis
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    is_abstract_type,
    is_enum_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    is_required_argument,
    is_required_input_field,
    parse,
)
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from tortoise.context import TortoiseContext

from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.settings import RateLimits, Settings
from schema import build_schema
from tests.conftest import TABLES, TEST_SECRET
from tests.helpers import GraphQLClient, World, insert_case

ISSUER: Final = "https://id.casegraph.test/"
AUDIENCE: Final = "casegraph-api"
SCHEMA: Final = build_schema()._schema
SCALE: Final = float(os.environ.get("CASEGRAPH_FUZZ_SCALE", "1"))

# What a response must never carry unless the request itself did (errors may quote the input).
LEAK_MARKERS: Final = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "UNIQUE constraint",
    "tortoise.",
    "OperationalError",
    "IntegrityError",
    "pypika",
)

# The people of tests.helpers.PEOPLE whose tokens the generated operations use.
ACTORS: Final = ("requester", "other_constituent", "agent", "other_agent", "manager", "field_agent", "admin")


def fuzz_settings(examples: int) -> hypothesis.settings:
    """Examples per test (times CASEGRAPH_FUZZ_SCALE); the world fixtures live for the whole test."""
    return hypothesis.settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        derandomize=False,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


@pytest.fixture
def settings() -> Settings:
    """The suite's settings, with an issuer and an audience so tokens for others can be refused."""
    return Settings(jwt_secret=TEST_SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, rate_limits=RateLimits.off())


# --- the world the requests aim at -----------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Targets:
    """Real ids and codes for generated inputs, and a token per person."""

    case_ids: tuple[str, ...]
    case_numbers: tuple[str, ...]
    task_ids: tuple[str, ...]
    subs: tuple[str, ...]
    tokens: dict[str, str]
    case_type_codes: tuple[str, ...] = ("POTHOLE", "QUESTION", "PAYMENT")
    group_codes: tuple[str, ...] = ("ROADS", "BENEFITS")

    def __repr__(self) -> str:  # Hypothesis prints the test's arguments with every failure
        return f"Targets({len(self.case_ids)} cases, {len(self.task_ids)} tasks)"


@pytest.fixture
async def targets(world: World, client: GraphQLClient, settings: Settings) -> Targets:
    tokens = {who: world.token(settings, who) for who in ACTORS}
    cases = [
        await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.NEW), assigned_to=None),
        await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.NEW)),
        await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN)),
        await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN)),
        await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN), inspector="field_agent"),
        await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS)),
        await insert_case(world, state=(CaseStage.DECISION, CaseStatus.RESOLVED)),
        await insert_case(world, state=(CaseStage.DRAFT, CaseStatus.DRAFT), assigned_to=None),
        await insert_case(world, case_type="QUESTION", state=(CaseStage.INTAKE, CaseStatus.OPEN)),
        await insert_case(world, case_type="PAYMENT", assigned_to="outsider_agent"),
    ]
    tasked = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    assigned = await client.data(
        "mutation W($input: AssignWorkInput!) { assignWork(input: $input) { case { tasks { id } } errors { code } } }",
        {
            "input": {
                "caseId": str(tasked.id),
                "tasks": [
                    {"title": "Fill the hole", "assigneeId": world.sub("field_agent")},
                    {"title": "Paint the lines"},
                ],
            }
        },
        token=tokens["agent"],
    )
    assert assigned["assignWork"]["errors"] == [], assigned
    task_ids = tuple(task["id"] for task in assigned["assignWork"]["case"]["tasks"])
    return Targets(
        case_ids=tuple(str(case.id) for case in (*cases, tasked)),
        case_numbers=tuple(case.number for case in (*cases, tasked)),
        task_ids=task_ids,
        subs=tuple(person.sub for person in world.people.values()),
        tokens=tokens,
    )


# --- what one exchange must show -------------------------------------------------------------------

# The search index (PostgreSQL's case_search, SQLite's FTS5 tables) is derived from the cases,
# comments and notes counted here, by triggers in the same transaction: not state of its own.
FINGERPRINT_TABLES: Final = (*(table for table in TABLES if table != "case_search"), "case_events")
# One statement, one COUNT per table: cheap enough to run around every example on both backends.
FINGERPRINT_SQL: Final = "SELECT " + ", ".join(
    [f"(SELECT COUNT(*) FROM {table}) AS {table}" for table in FINGERPRINT_TABLES]
    + [
        "(SELECT COALESCE(MAX(version), 0) FROM cases) AS max_case_version",
        # The sum moves when any case's version does, not only the highest one.
        "(SELECT COALESCE(SUM(version), 0) FROM cases) AS sum_case_version",
        "(SELECT COALESCE(SUM(value), 0) FROM counters) AS sum_counters",
    ]
)


async def fingerprint(db: TortoiseContext) -> dict[str, int]:
    rows = await db.db().execute_query_dict(FINGERPRINT_SQL)
    return {key: int(value) for key, value in rows[0].items()}


@dataclass(frozen=True)
class Credential:
    """The Authorization header sent; ``genuine``: issued by us (it may authenticate)."""

    header: str | bytes | None
    genuine: bool
    label: str


NO_CREDENTIAL: Final = Credential(None, False, "none")


@dataclass
class Sent:
    """One HTTP request, and what we know of the GraphQL in it."""

    method: str
    path: str
    content: bytes = b""
    headers: dict[str, str | bytes] = field(default_factory=dict)
    credential: Credential = NO_CREDENTIAL
    # The document the server will see, when the request carries one we can read.
    document: object = None
    label: str = ""

    def describe(self) -> str:
        return f"{self.label}: {self.method} {self.path[:300]} {self.content[:600]!r} auth={self.credential.label}"


@dataclass
class Outcome:
    status: int
    body: Any
    refused: bool
    # Root mutation fields whose payload came back with ``errors == []``.
    succeeded: list[str]


def graphql_post(
    document: str,
    variables: object = None,
    *,
    credential: Credential = NO_CREDENTIAL,
    operation_name: object = None,
    accept: str | None = None,
    label: str = "",
) -> Sent:
    body: dict[str, object] = {"query": document}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    headers: dict[str, str | bytes] = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    return Sent("POST", "/graphql", json.dumps(body).encode(), headers, credential, document, label)


def strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def request_text(sent: Sent) -> str:
    """Everything the client sent, raw and decoded, so that echoes of it are not taken for leaks."""
    parts = [sent.content.decode("utf-8", "replace"), unquote_plus(sent.path), sent.path]
    parts += [value.decode("latin-1") if isinstance(value, bytes) else value for value in sent.headers.values()]
    if isinstance(sent.credential.header, bytes):
        parts.append(sent.credential.header.decode("latin-1"))
    elif sent.credential.header:
        parts.append(sent.credential.header)
    try:
        parts.extend(strings_in(json.loads(sent.content)))
    except (ValueError, RecursionError):
        pass
    return "\n".join(parts)


def is_mutation_document(document: object) -> bool:
    """Whether the server could run a mutation for this document (unparseable: nothing runs)."""
    if not isinstance(document, str):
        return False
    try:
        parsed = parse(document)
    except (GraphQLError, RecursionError):
        return False
    return any(
        isinstance(definition, OperationDefinitionNode) and definition.operation is OperationType.MUTATION
        for definition in parsed.definitions
    )


def judge(response: httpx.Response) -> Outcome:
    try:
        body: Any = response.json()
    except ValueError:
        return Outcome(response.status_code, response.text, response.status_code >= 400, [])
    if response.status_code >= 400:
        return Outcome(response.status_code, body, True, [])
    results = body if isinstance(body, list) else [body]
    refused, succeeded = True, []
    for result in results:
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, dict):
            continue
        for name, value in data.items():
            payload_errors = value.get("errors") if isinstance(value, dict) else None
            if value is None or payload_errors:
                continue
            refused = False
            if payload_errors == []:
                succeeded.append(name)
    return Outcome(response.status_code, body, refused, succeeded)


def top_level_errors(body: object) -> list[dict[str, Any]]:
    results = body if isinstance(body, list) else [body]
    errors: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("errors"), list):
            errors.extend(error for error in result["errors"] if isinstance(error, dict))
    return errors


def has_data(body: object) -> bool:
    results = body if isinstance(body, list) else [body]
    return any(isinstance(result, dict) and result.get("data") is not None for result in results)


@dataclass(repr=False)
class Exchanges:
    """Sends requests to the app and checks every property on each answer."""

    http: httpx.AsyncClient
    db: TortoiseContext
    tally: Counter[str] = field(default_factory=Counter)

    async def check(self, sent: Sent) -> Outcome:
        before = await fingerprint(self.db)
        headers = dict(sent.headers)
        if sent.credential.header is not None:
            headers["authorization"] = sent.credential.header
        # As bytes: some headers are not text at all.
        raw_headers = [
            (name.encode(), value if isinstance(value, bytes) else value.encode()) for name, value in headers.items()
        ]
        try:
            response = await self.http.request(sent.method, sent.path, content=sent.content, headers=raw_headers)
        except Exception as crash:  # the ASGI transport re-raises what a server would answer with a 500
            raise AssertionError(f"the app crashed (a 500): {crash!r}\n{sent.describe()}") from crash
        after = await fingerprint(self.db)
        outcome = judge(response)
        context = f"{sent.describe()}\n-> {response.status_code} {response.text[:1500]}"

        assert response.status_code < 500, context
        self._assert_nothing_leaks(sent, response, context)
        codes = [(error.get("extensions") or {}).get("code") for error in top_level_errors(outcome.body)]
        assert "INTERNAL_ERROR" not in codes, context
        if not sent.credential.genuine and sent.credential.header and sent.credential.header.strip():
            # (A blank header is no credential at all: introspection may then answer.)
            assert not has_data(outcome.body), f"a token we never issued got data: {context}"
        if outcome.refused or not is_mutation_document(sent.document):
            self._assert_unchanged(sent, outcome, before, after, context)

        self.tally["refused" if outcome.refused else "answered"] += 1
        self.tally.update(f"succeeded {name}" for name in outcome.succeeded)
        return outcome

    @staticmethod
    def _assert_nothing_leaks(sent: Sent, response: httpx.Response, context: str) -> None:
        seen = [response.text, *(f"{key}: {value}" for key, value in response.headers.items())]
        try:
            seen.extend(strings_in(response.json()))
        except ValueError:
            pass
        answer, asked = "\n".join(seen), request_text(sent)
        assert TEST_SECRET not in answer, context
        leaked = [marker for marker in LEAK_MARKERS if marker in answer and marker not in asked]
        assert not leaked, f"{leaked} in the answer: {context}"

    @staticmethod
    def _assert_unchanged(
        sent: Sent, outcome: Outcome, before: dict[str, int], after: dict[str, int], context: str
    ) -> None:
        changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
        # Allowed: a genuine token provisions its user on first use (api.md *Authentication*),
        # and a refusal by a mutation is what its idempotency key keeps (api.md: success or
        # refusal is kept) - but only a refusal the services made, inside a payload.
        if sent.credential.genuine and "users" in changed and 0 < after["users"] - before["users"] <= 1:
            del changed["users"]
        keyed = b"idempotencyKey" in sent.content and has_data(outcome.body)
        if keyed and "idempotency_records" in changed and after["idempotency_records"] > before["idempotency_records"]:
            del changed["idempotency_records"]
        assert not changed, f"a refused or read-only request changed {changed}: {context}"


@pytest.fixture
async def exchanges(client: GraphQLClient, db: TortoiseContext) -> Exchanges:
    return Exchanges(client.http, db)


# --- values: text, numbers and JSON, friendly and hostile --------------------------------------------

NASTY_STRINGS: Final = (
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x00b",
    "\x00" * 3,
    "\x1b[31m",
    "'; DROP TABLE cases; --",
    '" OR 1=1 --',
    "SELECT * FROM users",
    "%s%n%x",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "\u202e\u200b\ufeff",
    "\U0001f642" * 100,
    "\u01c5" * 10,
    "x" * 201,
    "y" * 20_001,
    "CS0001000",
    "00000000-0000-0000-0000-000000000000",
    "-1",
    "1e309",
    "null",
    "[]",
    "{}",
)
BIG_INTS: Final = (
    0,
    -1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**53 + 1,
    2**63,
    -(2**63) - 1,
    10**30,
    10**400,
)
TEXT: Final = st.text(max_size=40)
FRIENDLY_TEXT: Final = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
)
# Long text is a short text repeated: drawing thousands of characters one by one is slow.
LONG_TEXT: Final = st.builds(
    lambda text, times: (text or "x") * times, st.text(min_size=1, max_size=8), st.integers(30, 600)
)
HOSTILE_TEXT: Final = st.one_of(TEXT, st.sampled_from(NASTY_STRINGS), LONG_TEXT)
INTS: Final = st.one_of(st.integers(-3, 8), st.sampled_from(BIG_INTS), st.integers())
JSON_LEAVES: Final = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    st.floats(),
    HOSTILE_TEXT,
)
JSON_VALUES: Final = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def quote(text: str) -> str:
    """A GraphQL string literal (JSON's escapes are a subset of GraphQL's)."""
    return json.dumps(text, ensure_ascii=False)


# --- documents from the schema ---------------------------------------------------------------------

DIRECTIVES: Final = ("@include(if: true)", "@include(if: false)", "@skip(if: true)", "@skip(if: false)")
WRONG_DIRECTIVES: Final = (
    "@skip(if: 1)",
    "@deprecated",
    '@specifiedBy(url: "x")',
    "@oneOf",
    "@nope",
    "@include",
    "@include(if: true) @include(if: false)",
)
WRONG_LITERALS: Final = st.one_of(
    st.sampled_from(
        [
            "null",
            "true",
            "1",
            "-1",
            "1.5",
            "1e400",
            '""',
            "[]",
            "{}",
            "[null]",
            "{a: 1}",
            "ENUM_VALUE",
            "$undeclared",
            '"\\u0000"',
            '"""block\nstring"""',
            str(2**31),
            str(2**63),
            str(10**400),
            "0x10",
            "NaN",
            "-Infinity",
        ]
    ),
    TEXT.map(quote),
)


class DocumentBuilder:
    """Draws one GraphQL document for the schema.

    ``hostility`` is the chance of a wrong part (a wrong literal, an unknown argument, a missing
    selection…); ``text_hostility`` the chance that a string input is hostile text (NUL bytes,
    huge, unicode tricks, SQL), which is where inputs meet the database.
    """

    def __init__(
        self,
        draw: Callable[..., Any],
        targets: Targets,
        *,
        hostility: float,
        text_hostility: float | None = None,
        budget: int = 30,
    ) -> None:
        self.draw = draw
        self.targets = targets
        self.hostility = hostility
        self.text_hostility = hostility if text_hostility is None else text_hostility
        # How often an optional input field is given: each one is another way to be refused.
        self.optional_share = 0.3
        self.budget = budget
        self.variable_types: dict[str, str] = {}
        self.variables: dict[str, object] = {}
        self.fragments: list[str] = []
        self.aliases = 0

    def chance(self, probability: float) -> bool:
        # Hypothesis favours the ends of a range (and shrinks towards its start), so "yes" is a
        # band inside it: the odds roughly hold while generating, and shrinking aims at "no".
        return bool(10 <= self.draw(st.integers(0, 99)) < 10 + probability * 89)

    def hostile(self) -> bool:
        return self.chance(self.hostility)

    # -- selections

    def selection_set(self, type_: GraphQLOutputType, depth: int) -> str:
        named = get_named_type(type_)
        if is_abstract_type(named):
            possible = SCHEMA.get_possible_types(named)
            chosen = self.draw(st.lists(st.sampled_from(possible), max_size=2, unique_by=lambda t: t.name))
            parts = ["__typename"] + [f"... on {t.name} {self.selection_set(t, depth + 1)}" for t in chosen]
            return "{ " + " ".join(parts) + " }"
        if not isinstance(named, GraphQLObjectType):
            return "{ __typename }"  # selecting into a leaf: a validation error
        names = sorted(named.fields)
        picked = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        if self.budget <= 0 or depth > 12:
            picked = [name for name in picked if not is_composite(named.fields[name].type)][:1] or []
        parts = [self.field(named.fields[name], name, depth) for name in picked]
        if not parts or self.chance(0.2):
            parts.append("__typename")
        if self.chance(0.1):
            parts = [f"... on {named.name} {{ {' '.join(parts)} }}"]
        elif self.chance(0.1):
            fragment = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {fragment} on {named.name} {{ {' '.join(parts)} }}")
            parts = [f"...{fragment}"]
        if self.hostile():
            parts.append(self.draw(st.sampled_from(["nope", "__schema { types { name } }", "...Missing", "id(x: 1)"])))
        return "{ " + " ".join(parts) + " }"

    def field(self, definition: GraphQLField, name: str, depth: int) -> str:
        self.budget -= 1
        text = name
        if self.chance(0.15):
            self.aliases += 1
            text = f"{self.draw(st.sampled_from(['a', 'b', 'alias', 'x_1']))}{self.aliases}: {name}"
        arguments = [
            f"{arg_name}: {self.argument(arg_name, arg.type)}"
            for arg_name, arg in definition.args.items()
            if (is_required_argument(arg) and not self.chance(self.hostility / 3)) or self.chance(0.3)
        ]
        if self.hostile():
            arguments.append(f"unknown: {self.draw(WRONG_LITERALS)}")
        if arguments:
            text += "(" + ", ".join(arguments) + ")"
        if self.chance(0.08):
            text += " " + self.draw(st.sampled_from(WRONG_DIRECTIVES if self.hostile() else DIRECTIVES))
        if is_composite(definition.type):
            if not self.hostile():
                text += " " + self.selection_set(definition.type, depth + 1)
        elif self.hostile():
            text += " { id }"
        return text

    def argument(self, name: str, type_: GraphQLInputType) -> str:
        if self.chance(0.3):
            variable = f"v{len(self.variable_types)}"
            declared = (
                str(type_) if not self.hostile() else self.draw(st.sampled_from(["String", "Int!", "[ID]", "Nope"]))
            )
            self.variable_types[variable] = declared
            self.variables[variable] = self.json_value(name, type_)
            return f"${variable}"
        return self.literal(name, type_)

    # -- values as literals and as JSON variables

    def literal(self, name: str, type_: GraphQLInputType) -> str:
        if self.hostile():
            return str(self.draw(WRONG_LITERALS))
        if is_non_null_type(type_):
            return self._literal(name, type_.of_type)
        if self.chance(0.05):
            return "null"
        return self._literal(name, type_)

    def _literal(self, name: str, type_: GraphQLInputType) -> str:
        if is_list_type(type_):
            count = self.draw(st.integers(0, 3))
            return "[" + ", ".join(self.literal(name, type_.of_type) for _ in range(count)) + "]"
        named = get_named_type(type_)
        if isinstance(named, GraphQLInputObjectType):
            return (
                "{"
                + ", ".join(f"{key}: {self.literal(key, value.type)}" for key, value in self.input_fields(named))
                + "}"
            )
        if is_enum_type(named):
            return str(self.draw(st.sampled_from(sorted(named.values))))
        value = self.scalar(name, named)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, (dict, list)):
            return quote(json.dumps(value))
        return quote(str(value))

    def json_value(self, name: str, type_: GraphQLInputType) -> object:
        if self.hostile():
            return self.draw(JSON_VALUES)
        if is_non_null_type(type_):
            return self._json_value(name, type_.of_type)
        if self.chance(0.05):
            return None
        return self._json_value(name, type_)

    def _json_value(self, name: str, type_: GraphQLInputType) -> object:
        if is_list_type(type_):
            count = self.draw(st.integers(0 if self.hostility else 1, 3))
            return [self.json_value(name, type_.of_type) for _ in range(count)]
        named = get_named_type(type_)
        if isinstance(named, GraphQLInputObjectType):
            return {key: self.json_value(key, value.type) for key, value in self.input_fields(named)}
        if is_enum_type(named):
            return self.draw(st.sampled_from(sorted(named.values)))
        return self.scalar(name, named)

    def input_fields(self, type_: GraphQLInputObjectType) -> list[tuple[str, Any]]:
        chosen = []
        for key, value in type_.fields.items():
            share = API_INPUT_SHARE if key in API_INPUT_FIELDS else self.optional_share
            if (is_required_input_field(value) and not self.chance(self.hostility / 3)) or self.chance(share):
                chosen.append((key, value))
        return chosen

    def scalar(self, name: str, type_: GraphQLNamedType) -> object:
        kind = type_.name
        key = name.lower()
        if kind == "Boolean":
            return self.draw(st.booleans())
        if kind == "Int":
            if key in ("impact", "urgency"):
                return self.draw(st.integers(1, 3)) if not self.hostile() else self.draw(INTS)
            if key in ("rating", "expectedversion") or key.endswith("count"):
                return self.draw(st.integers(1, 5)) if not self.hostile() else self.draw(INTS)
            return self.draw(st.integers(0, 30)) if not self.hostile() else self.draw(INTS)
        if kind == "Float":
            if self.hostile():
                return self.draw(st.floats())
            return self.draw(st.floats(-90, 90, allow_nan=False))
        if kind == "DateTime":
            return (
                self.draw(st.datetimes(timezones=st.timezones())).isoformat() if not self.hostile() else self.draw(TEXT)
            )
        if kind == "Date":
            return self.draw(st.dates()).isoformat() if not self.hostile() else self.draw(TEXT)
        if kind in ("JSON", "_Any"):
            return self.draw(JSON_VALUES)
        return self.string(key)

    def string(self, key: str) -> str:
        targets = self.targets
        pool: tuple[str, ...] = ()
        if key in ("id", "caseid", "parentcaseid", "duplicateofid") or key.endswith("caseid"):
            pool = targets.case_ids
        elif key in ("taskid", "ids"):
            pool = targets.task_ids
        elif key.endswith(
            ("userid", "assigneeid", "inspectorid", "requesterid", "agentid", "authorid", "assignedtoid")
        ):
            pool = targets.subs
        elif key.endswith("casetypecode"):
            pool = targets.case_type_codes
        elif key.endswith("groupcode"):
            pool = targets.group_codes
        elif key == "number":
            pool = targets.case_numbers
        elif key == "idempotencykey":
            # Mostly fresh; a repeat replays (same input) or is refused (another input).
            return f"key-{self.draw(st.integers(0, 2**32))}" if not self.chance(0.2) else "key-repeated"
        elif key in ("contactemail", "email"):
            pool = ("alice@example.org", "not an address")
        elif key == "contactphone":
            pool = ("+44 20 7946 0000", "call me")
        if self.chance(self.text_hostility):
            return str(self.draw(HOSTILE_TEXT))
        if pool and not self.chance(0.1):
            return str(self.draw(st.sampled_from(pool)))
        if key.endswith("id"):
            return str(uuid.UUID(int=self.draw(st.integers(0, 2**128 - 1))))
        return str(self.draw(FRIENDLY_TEXT))

    # -- whole documents

    def operation(self, root: GraphQLObjectType, field_names: list[str], keyword: str) -> str:
        selections = [self.field(root.fields[name], name, 1) for name in field_names]
        head = keyword
        if self.chance(0.5):
            head += f" {self.draw(st.sampled_from(['Op', 'Fuzz', 'op_1']))}"
        if self.variable_types:
            head += "(" + ", ".join(f"${name}: {type_}" for name, type_ in self.variable_types.items()) + ")"
        if self.hostile():
            head += " " + self.draw(st.sampled_from(WRONG_DIRECTIVES))
        return f"{head} {{ {' '.join(selections)} }}\n" + "\n".join(self.fragments)


# The inputs api.md names for the actions (optional in the schema, but usually what a client sends).
API_INPUT_FIELDS: Final = frozenset(
    {
        "caseTypeCode",
        "title",
        "description",
        "impact",
        "urgency",
        "comment",
        "question",
        "findings",
        "resolutionCode",
        "resolutionNotes",
        "reason",
        "rating",
        "note",
    }
)
API_INPUT_SHARE: Final = 0.7


def is_composite(type_: GraphQLOutputType) -> bool:
    named = get_named_type(type_)
    return is_object_type(named) or is_abstract_type(named)


ROOTS: Final = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type, "subscription": SCHEMA.subscription_type}


@dataclass(frozen=True)
class Document:
    text: str
    variables: object
    operation_name: object = None


@st.composite
def schema_documents(draw: Callable[..., Any], targets: Targets, *, hostility: float) -> Document:
    """Any operation on any root fields, with random arguments and selections."""
    keyword = draw(st.sampled_from(["query", "query", "mutation", "subscription"]))
    root = ROOTS[keyword]
    assert root is not None
    names = draw(st.lists(st.sampled_from(sorted(root.fields)), min_size=1, max_size=3, unique=True))
    builder = DocumentBuilder(draw, targets, hostility=hostility, budget=draw(st.integers(1, 40)))
    text = builder.operation(root, names, keyword)
    return Document(text, builder.variables)


CORPUS: Final = (
    "{ me { id roles name } }",
    "query { cases(first: 5) { totalCount edges { cursor node { id number status version } } } }",
    "query Q($id: ID!) { case(id: $id) { id title history(first: 3) { edges { node { sequence type } } } } }",
    "mutation M($input: CreateCaseInput!) { createCase(input: $input) { case { id version } event { sequence } errors { code field } } }",
    'mutation { updateCase(input: {caseId: "x", comment: "hi"}) { case { id } errors { code } } }',
    "fragment F on Case { id } query { cases { edges { node { ...F } } } }",
    "subscription { caseEvents { id sequence } }",
    "{ __schema { queryType { name } types { name fields { name } } } }",
)


@st.composite
def mutated_documents(draw: Callable[..., Any], base: st.SearchStrategy[Document]) -> Document:
    """A document cut short, with a slice dropped, doubled or swapped, or with junk inserted."""
    document = draw(base)
    text = document.text
    at = draw(st.integers(0, len(text)))
    end = draw(st.integers(at, min(len(text), at + 40)))
    edit = draw(st.sampled_from(["truncate", "drop", "double", "insert", "swap_braces"]))
    if edit == "truncate":
        text = text[:at]
    elif edit == "drop":
        text = text[:at] + text[end:]
    elif edit == "double":
        text = text[:end] + text[at:end] + text[end:]
    elif edit == "insert":
        junk = draw(st.one_of(TEXT, st.sampled_from(["{", "}", "(", ")", "$", "...", '"', "\x00", "#", "@", ":", "!"])))
        text = text[:at] + junk + text[at:]
    else:
        text = text.replace("{", "\x01").replace("}", "{").replace("\x01", "}")
    return Document(text, document.variables, document.operation_name)


def random_documents(targets: Targets) -> st.SearchStrategy[Document]:
    corpus = st.sampled_from(CORPUS).map(lambda text: Document(text, {"id": targets.case_ids[0]}))
    generated = schema_documents(targets, hostility=0.2)
    text = st.one_of(
        TEXT,
        st.text(st.sampled_from(list('{}()[]:$@!.=,"#\n abcdefghijklmnopqrstuvwxyz_0123456789\x00')), max_size=80),
    )
    return st.one_of(
        text.map(lambda t: Document(t, None)),
        generated,
        mutated_documents(generated),
        mutated_documents(corpus),
    )


@st.composite
def with_hostile_variables(draw: Callable[..., Any], documents: st.SearchStrategy[Document]) -> Document:
    """Keep the document's variables, or replace, extend or null them with random JSON."""
    document = draw(documents)
    variables = document.variables
    choice = draw(st.integers(0, 9))
    if choice == 0:
        variables = draw(JSON_VALUES)  # may not be an object at all
    elif choice == 1 and isinstance(variables, dict):
        variables = {**variables, **draw(st.dictionaries(TEXT, JSON_VALUES, max_size=3))}
    elif choice == 2 and isinstance(variables, dict):
        variables = {key: None for key in variables}
    elif choice == 3 and isinstance(variables, dict) and variables:
        key = draw(st.sampled_from(sorted(variables)))
        variables = {**variables, key: draw(JSON_VALUES)}
    operation_name = draw(st.one_of(st.none(), st.none(), st.sampled_from(["Op", "Missing", ""]), JSON_VALUES))
    return Document(document.text, variables, operation_name)


ACCEPTS: Final = st.sampled_from(
    [
        None,
        "application/json",
        "application/graphql-response+json",
        "application/graphql-response+json, application/json;q=0.9",
        "*/*",
        "text/html",
        "multipart/mixed",
        "text/plain",
        "image/png",
        "application/json; charset=latin-1",
        ";;;",
    ]
)


# --- operations of the API with plausible inputs ------------------------------------------------------

# api.md's operations, drawn more often than the rest of the schema's mutations.
API_MUTATIONS: Final = (
    "createCase",
    "submitCase",
    "assignCase",
    "acceptCase",
    "assignToMe",
    "updateCase",
    "beginReview",
    "requestInfo",
    "resumeCase",
    "requestInspection",
    "completeInspection",
    "startWork",
    "assignWork",
    "completeWork",
    "proposeSolution",
    "acceptSolution",
    "rejectSolution",
    "closeCase",
    "cancelCase",
    "deleteCase",
    "submitSurvey",
    "completeTask",
    "cancelTask",
    "restoreCase",
    "createAssignmentGroup",
    "addGroupMember",
    "createCaseType",
)


ADMIN_MUTATIONS: Final = frozenset(
    {
        "restoreCase",
        "createAssignmentGroup",
        "addGroupMember",
        "removeGroupMember",
        "createCaseType",
        "updateCaseType",
        "createServiceDefinition",
        "updateServiceDefinition",
        "createCaseTemplate",
        "updateCaseTemplate",
        "setCaseTypeRequiredFields",
        "setPlaybook",
        "setSlaPolicy",
        "setSlaSettings",
    }
)
# Who would plausibly send each operation (the cases of Targets are assigned to "agent");
# anyone else is drawn too, less often, to be refused.
LIKELY_ACTORS: Final[dict[str, tuple[str, ...]]] = {
    **{name: ("admin",) for name in ADMIN_MUTATIONS},
    "createCase": ("requester", "other_constituent"),
    "submitCase": ("requester",),
    "acceptSolution": ("requester",),
    "rejectSolution": ("requester",),
    "submitSurvey": ("requester",),
    "completeInspection": ("field_agent", "agent"),
    "completeTask": ("field_agent", "agent"),
    "startTask": ("field_agent", "agent"),
}


@dataclass(frozen=True)
class Operation:
    sent: Sent
    field_name: str
    is_mutation: bool


@st.composite
def operations(
    draw: Callable[..., Any],
    targets: Targets,
    *,
    faulty_share: float = 0.15,
    hostility: float = 0.1,
    text_hostility: float = 0.08,
) -> Operation:
    """One query or mutation of the API, variables for every argument, a real person's token.

    ``faulty_share`` of the operations have wrong parts (each part wrong with ``hostility``); the
    others are well-formed, and only their text inputs may be hostile.
    """
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    is_mutation = draw(st.integers(0, 3)) > 0
    if is_mutation:
        name = draw(
            st.one_of(
                st.sampled_from(API_MUTATIONS), st.sampled_from(API_MUTATIONS), st.sampled_from(sorted(mutation.fields))
            )
        )
        root: GraphQLObjectType = mutation
    else:
        name = draw(st.sampled_from(sorted(set(SCHEMA.query_type.fields) - {"_service"})))  # type: ignore[union-attr]
        root = SCHEMA.query_type  # type: ignore[assignment]
    definition = root.fields[name]
    builder = DocumentBuilder(
        draw, targets, hostility=0.0, text_hostility=text_hostility, budget=draw(st.integers(1, 12))
    )
    builder.optional_share = 0.15
    if builder.chance(faulty_share):
        builder.hostility = hostility
    declarations, arguments, variables = [], [], {}
    for arg_name, arg in definition.args.items():
        if is_required_argument(arg) or builder.chance(0.4):
            declarations.append(f"${arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: ${arg_name}")
            variables[arg_name] = builder.json_value(arg_name, arg.type)
    call = name + (f"({', '.join(arguments)})" if arguments else "")
    payload = get_named_type(definition.type)
    selection = ""
    if isinstance(payload, GraphQLObjectType):
        others = sorted(set(payload.fields) - {"errors"})
        picked = draw(st.lists(st.sampled_from(others), max_size=2, unique=True)) if others else []
        parts = [builder.field(payload.fields[field_name], field_name, 2) for field_name in picked]
        if "errors" in payload.fields:
            parts.append("errors { code field message }")
        selection = "{ " + " ".join(parts or ["__typename"]) + " }"
    keyword = "mutation" if is_mutation else "query"
    head = keyword + " Op" + (f"({', '.join(declarations)})" if declarations else "")
    document = f"{head} {{ {call} {selection} }}\n" + "\n".join(builder.fragments)
    who = draw(
        st.sampled_from(LIKELY_ACTORS.get(name, ("agent", "manager")))
        if builder.chance(0.75)
        else st.sampled_from(ACTORS)
    )
    credential = Credential(f"Bearer {targets.tokens[who]}", True, who)
    sent = graphql_post(document, variables, credential=credential, label=f"operation {name} as {who}")
    return Operation(sent, name, is_mutation)


# --- tokens ----------------------------------------------------------------------------------------

_OTHER_KEY: Final = ec.generate_private_key(ec.SECP256R1())
OTHER_SECRET: Final = "someone-elses-secret-0123456789abcdef"

SUBS: Final = st.one_of(
    st.sampled_from(["ada", "dana", "alice", "maria", "finn"]),
    TEXT,
    st.integers(250, 300).map(lambda n: "s" * n),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "../../etc",
            "'; DROP TABLE users; --",
            "\u00fc" * 255,
            "\u202eadmin",
            "ada ",
            "ADA",
            "\U0001f642" * 64,
        ]
    ),
    st.integers(),
    st.none(),
    st.lists(TEXT, max_size=2),
)
ROLE_CLAIMS: Final = st.one_of(
    st.lists(st.sampled_from([role.value for role in Role]), max_size=3),
    st.lists(st.one_of(TEXT, st.integers(), st.none(), st.dictionaries(TEXT, st.integers(), max_size=1)), max_size=5),
    st.just(["SUPERUSER", "root", "admin", "Admin"]),
    TEXT,
    st.integers(),
    st.none(),
)
OPTIONAL_CLAIM: Final = st.one_of(
    st.none(),
    TEXT,
    st.integers(1000, 5000).map(lambda n: "n" * n),
    st.integers(),
    st.sampled_from(["\x00", "a\x00b", "x" * 400]),
)


@st.composite
def claims(draw: Callable[..., Any]) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": draw(SUBS),
        "roles": draw(ROLE_CLAIMS),
        "iat": now,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    for claim in ("name", "email", "agency"):
        value = draw(OPTIONAL_CLAIM)
        if value is not None:
            payload[claim] = value
    if draw(st.integers(0, 9)) == 0:
        payload["extra"] = draw(JSON_VALUES)
    return payload


def sign(payload: dict[str, Any], key: Any = TEST_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about short keys for HS384/HS512: that is the point
        return jwt.encode(payload, key, algorithm=algorithm)


FORGERIES: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "bad signature": lambda p: sign(p, OTHER_SECRET),
    "alg none": lambda p: sign(p, None, "none"),
    "HS512 with our secret": lambda p: sign(p, TEST_SECRET, "HS512"),
    "HS384 with our secret": lambda p: sign(p, TEST_SECRET, "HS384"),
    "ES256 with another key": lambda p: sign(p, _OTHER_KEY, "ES256"),
    "expired": lambda p: sign({**p, "exp": int(time.time()) - 120}),
    "not yet valid": lambda p: sign({**p, "nbf": int(time.time()) + 3600}),
    "another audience": lambda p: sign({**p, "aud": "someone-else"}),
    "another issuer": lambda p: sign({**p, "iss": "https://evil.example/"}),
    "no audience": lambda p: sign({k: v for k, v in p.items() if k != "aud"}),
    "no issuer": lambda p: sign({k: v for k, v in p.items() if k != "iss"}),
    "no expiry": lambda p: sign({k: v for k, v in p.items() if k != "exp"}),
    "exp not a number": lambda p: sign({**p, "exp": "tomorrow"}),
    "tampered payload": lambda p: _tampered(p),
    "signature cut": lambda p: sign(p)[:-5],
}


def _tampered(payload: dict[str, Any]) -> str:
    """Our signature over one payload, glued to another that claims ADMIN."""
    header, _, signature = sign(payload).split(".")
    _, forged_payload, _ = sign({**payload, "roles": ["ADMIN"], "sub": "mallory"}).split(".")
    return f"{header}.{forged_payload}.{signature}"


@st.composite
def credentials(draw: Callable[..., Any], targets: Targets) -> Credential:
    kind = draw(st.sampled_from(["world", "genuine", "forged", "forged", "garbage", "none"]))
    if kind == "world":
        who = draw(st.sampled_from(ACTORS))
        return Credential(f"Bearer {targets.tokens[who]}", True, who)
    if kind == "genuine":
        payload = draw(claims())
        scheme = draw(st.sampled_from(["Bearer ", "bearer ", "BEARER  "]))
        return Credential(scheme + sign(payload), True, f"genuine {payload!r}"[:300])
    if kind == "forged":
        label = draw(st.sampled_from(sorted(FORGERIES)))
        payload = draw(claims())
        return Credential("Bearer " + FORGERIES[label](payload), False, label)
    if kind == "garbage":
        header = draw(
            st.one_of(
                st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
                st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(lambda t: "Bearer " + t),
                st.binary(max_size=60)
                .filter(lambda b: b"\r" not in b and b"\n" not in b)
                .map(lambda b: b"Bearer " + b),
                st.sampled_from(
                    [
                        "Bearer",
                        "Bearer ",
                        "Basic YWRhOmFkYQ==",
                        "Bearer a.b.c",
                        "Bearer ..",
                        "Bearer " + "A" * 9000,
                        "Token abc",
                        "Bearer eyJhbGciOiJub25lIn0.e30.",
                    ]
                ),
            )
        )
        return Credential(header, False, f"garbage {header!r}"[:200])
    return NO_CREDENTIAL


TOKEN_DOCUMENTS: Final = (
    "{ me { id roles name email } }",
    "{ __typename }",
    "{ __schema { queryType { name } } }",
    "{ cases(first: 5) { totalCount edges { node { id title requester { id } } } } }",
    "mutation M($input: CreateCaseInput!) { createCase(input: $input) { case { id } errors { code field } } }",
    "mutation { setAvailability(input: {available: false}) { errors { code } } }",
)


# --- raw bodies ------------------------------------------------------------------------------------

CONTENT_TYPES: Final = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/graphql",
        "application/graphql-response+json",
        "text/plain",
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "",
        "application/jsonx",
        "application/json; charset=utf-16",
        "*/*",
        "a/b; c=d; e",
    ]
)


@st.composite
def raw_requests(draw: Callable[..., Any], targets: Targets) -> Sent:
    kind = draw(st.sampled_from(["bytes", "json", "object", "nested", "get", "method"]))
    headers: dict[str, str | bytes] = {}
    accept = draw(ACCEPTS)
    if accept is not None:
        headers["accept"] = accept
    credential = draw(
        st.sampled_from(
            [
                NO_CREDENTIAL,
                Credential(f"Bearer {targets.tokens['admin']}", True, "admin"),
                Credential(f"Bearer {targets.tokens['agent']}", True, "agent"),
            ]
        )
    )
    document: object = None
    if kind == "get":
        keys = st.one_of(st.sampled_from(["query", "variables", "operationName", "extensions"]), TEXT)
        # (cut so that the URL stays under the client's own 64 KiB limit)
        values = st.one_of(TEXT, st.sampled_from(CORPUS), JSON_VALUES.map(json.dumps).map(lambda v: v[:1000]))
        params = draw(st.dictionaries(keys, values, max_size=4))
        document = params.get("query")
        return Sent("GET", "/graphql?" + urlencode(params), b"", headers, credential, document, "GET")
    if kind == "method":
        method = draw(st.sampled_from(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]))
        return Sent(method, "/graphql", draw(st.binary(max_size=50)), headers, credential, None, method)
    headers["content-type"] = draw(CONTENT_TYPES)
    if kind == "bytes":
        content = draw(st.binary(max_size=300))
    elif kind == "json":
        content = json.dumps(draw(JSON_VALUES)).encode()  # often not an object: scalars, lists (batches)
    elif kind == "nested":
        depth = draw(st.sampled_from([100, 1_000, 10_000, 200_000]))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        content = (opener * depth + closer * depth).encode()
    else:
        body = draw(
            st.dictionaries(
                st.sampled_from(["query", "variables", "operationName", "extensions", "id", "documentId"]),
                st.one_of(JSON_VALUES, st.sampled_from(CORPUS)),
                max_size=4,
            )
        )
        document = body.get("query")
        content = json.dumps(body).encode()
        if draw(st.booleans()):
            content = content.decode().encode(draw(st.sampled_from(["utf-16", "latin-1", "utf-8"])), "replace")
    return Sent("POST", "/graphql", content, headers, credential, document, kind)


# --- every text argument, exhaustively ------------------------------------------------------------

# Where text meets the database: NUL (which PostgreSQL text cannot hold) and text longer than
# any column. Random examples find these by luck; the sweep below tries every place, every run.
UNSTORABLE_TEXT: Final = ("a\x00b", "y" * 300, "z" * 30_000)


def text_argument_paths(type_: GraphQLInputType, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths to every String and ID inside an argument type (into input objects, not recursively)."""
    named = get_named_type(type_)
    if named.name in ("String", "ID"):
        yield prefix
    elif isinstance(named, GraphQLInputObjectType) and len(prefix) < 3:
        for key, value in named.fields.items():
            yield from text_argument_paths(value.type, (*prefix, key))


def minimal_value(type_: GraphQLInputType, targets: Targets) -> object:
    """A valid value with only the required parts, aimed at a real case."""
    if is_non_null_type(type_):
        type_ = type_.of_type
    if is_list_type(type_):
        return [minimal_value(type_.of_type, targets)]
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return {
            key: minimal_value(value.type, targets)
            for key, value in named.fields.items()
            if is_required_input_field(value)
        }
    if is_enum_type(named):
        return sorted(named.values)[0]
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": True,
        "ID": targets.case_ids[2],
        "DateTime": "2026-11-05T10:00:00+00:00",
        "Date": "2026-11-05",
        "JSON": {},
    }.get(named.name, "x")


def with_text_at(value: object, path: tuple[str, ...], text: str, type_: GraphQLInputType) -> object:
    """``value`` with ``text`` placed at ``path`` (in the first item of any list on the way)."""
    if is_non_null_type(type_):
        type_ = type_.of_type
    if is_list_type(type_):
        first = value[0] if isinstance(value, list) and value else None
        return [with_text_at(first, path, text, type_.of_type)]
    if not path:
        return text
    named = get_named_type(type_)
    assert isinstance(named, GraphQLInputObjectType)
    fields = dict(value) if isinstance(value, dict) else {}
    fields[path[0]] = with_text_at(fields.get(path[0]), path[1:], text, named.fields[path[0]].type)
    return fields


def text_argument_requests(targets: Targets) -> Iterator[Sent]:
    for keyword, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for field_name, definition in root.fields.items():
            if field_name.startswith("_"):
                continue
            selection = "{ __typename }" if is_composite(definition.type) else ""
            for arg_name, arg in definition.args.items():
                for path in text_argument_paths(arg.type):
                    for text in UNSTORABLE_TEXT:
                        variables = {
                            name: minimal_value(other.type, targets)
                            for name, other in definition.args.items()
                            if is_required_argument(other)
                        }
                        variables[arg_name] = with_text_at(variables.get(arg_name), path, text, arg.type)
                        declared = ", ".join(f"${name}: {definition.args[name].type}" for name in variables)
                        passed = ", ".join(f"{name}: ${name}" for name in variables)
                        document = f"{keyword} Op({declared}) {{ {field_name}({passed}) {selection} }}"
                        # ADMIN sees every case; case actions need staff of the case's group.
                        who = "manager" if keyword == "mutation" and field_name not in ADMIN_MUTATIONS else "admin"
                        credential = Credential(f"Bearer {targets.tokens[who]}", True, who)
                        label = f"{field_name}({'.'.join((arg_name, *path))}: {text[:5]!r}…{len(text)}) as {who}"
                        yield graphql_post(document, variables, credential=credential, label=label)


# --- the tests -------------------------------------------------------------------------------------


@fuzz_settings(120)
@given(data=st.data())
async def test_random_documents_and_variables_never_break_the_server(
    exchanges: Exchanges, targets: Targets, data: st.DataObject
) -> None:
    # given: any document (random text, generated from the schema, or mangled), any variables
    document = data.draw(with_hostile_variables(random_documents(targets)), label="document")
    credential = data.draw(
        credentials(targets)
        if data.draw(st.integers(0, 4)) == 0
        else st.sampled_from(ACTORS).map(lambda who: Credential(f"Bearer {targets.tokens[who]}", True, who)),
        label="credential",
    )
    accept = data.draw(ACCEPTS, label="accept")
    # when / then
    await exchanges.check(
        graphql_post(
            document.text,
            document.variables,
            credential=credential,
            operation_name=document.operation_name,
            accept=accept,
            label="document",
        )
    )


@fuzz_settings(150)
@given(data=st.data())
async def test_api_operations_with_random_inputs_refuse_cleanly_and_never_half_apply(
    exchanges: Exchanges, targets: Targets, data: st.DataObject
) -> None:
    # given: a query or mutation of the API with plausible, sometimes hostile, inputs
    operation = data.draw(operations(targets), label="operation")
    # when / then
    await exchanges.check(operation.sent)


@fuzz_settings(100)
@given(data=st.data())
async def test_tokens_we_did_not_issue_never_get_data_and_odd_ones_never_break_the_server(
    exchanges: Exchanges, targets: Targets, data: st.DataObject
) -> None:
    # given: a forged, expired, mangled or oddly-claimed token on an ordinary request
    credential = data.draw(credentials(targets), label="credential")
    document = data.draw(st.sampled_from(TOKEN_DOCUMENTS), label="document")
    variables = {
        "input": {"caseTypeCode": "POTHOLE", "title": "Fuzzed", "description": "By a token", "impact": 2, "urgency": 2}
    }
    # when / then
    await exchanges.check(
        graphql_post(document, variables if "$input" in document else None, credential=credential, label="token")
    )


@fuzz_settings(120)
@given(data=st.data())
async def test_bodies_that_are_not_graphql_requests_are_refused_cleanly(
    exchanges: Exchanges, targets: Targets, data: st.DataObject
) -> None:
    # given: random bytes, JSON that is not a request object, wrong content types, GET with
    # random parameters, other methods
    sent = data.draw(raw_requests(targets), label="request")
    # when / then
    await exchanges.check(sent)


OPERATIONS_COUNTED: Final = 150


async def test_the_generated_operations_do_reach_the_services_and_succeed(
    exchanges: Exchanges, targets: Targets
) -> None:
    """The fuzzing above would prove little if every request died in the parser or the guards.

    The operations strategy runs here from a worker thread (Hypothesis is synchronous), each
    exchange on this test's loop, so that the outcomes of a whole run can be counted.
    """
    # given
    loop = asyncio.get_running_loop()
    kinds: Counter[str] = Counter()

    # Many operations per example: draws inside one example are independent, where examples
    # are partly built from earlier ones (so counts over examples swing from run to run).
    @fuzz_settings(OPERATIONS_COUNTED // 25)
    @given(data=st.data())
    def run_one(data: st.DataObject) -> None:
        for _ in range(25):
            operation = data.draw(operations(targets))
            outcome = asyncio.run_coroutine_threadsafe(exchanges.check(operation.sent), loop).result(timeout=60)
            count(operation, outcome)

    def count(operation: Operation, outcome: Outcome) -> None:
        data = outcome.body.get("data") if isinstance(outcome.body, dict) else None
        if operation.is_mutation:
            payload = data.get(operation.field_name) if isinstance(data, dict) else None
            kinds["mutations"] += 1
            # A payload with `errors` came back from the services: past parsing, validation and the guards.
            kinds["mutations reached the services"] += isinstance(payload, dict) and isinstance(
                payload.get("errors"), list
            )
            kinds["mutations succeeded"] += bool(outcome.succeeded)
        else:
            kinds["queries"] += 1
            kinds["queries answered"] += data is not None and not top_level_errors(outcome.body)

    # when
    await asyncio.to_thread(run_one)
    # then: most operations get past the GraphQL layer; some change cases, of several kinds
    succeeded = {key.removeprefix("succeeded ") for key in exchanges.tally if key.startswith("succeeded ")}
    assert kinds["mutations reached the services"] >= 0.6 * kinds["mutations"], kinds
    assert kinds["mutations succeeded"] >= 0.03 * kinds["mutations"], kinds
    assert len(succeeded) >= 3, (succeeded, kinds)
    assert kinds["queries answered"] >= 0.2 * kinds["queries"], kinds


async def test_every_text_argument_takes_nul_and_oversized_text_without_crashing(
    exchanges: Exchanges, targets: Targets
) -> None:
    # given: every String and ID argument (and input field) of every query and mutation
    requests = list(text_argument_requests(targets))
    assert len(requests) > 100, len(requests)
    failures: list[str] = []
    # when: each gets NUL and over-long text, the rest of its input valid
    for sent in requests:
        try:
            await exchanges.check(sent)
        except AssertionError as failure:
            failures.append(" ".join(str(failure).splitlines()[:2])[:400])
    # then: refused or answered, never a crash (all failures at once: they share their causes)
    assert not failures, f"{len(failures)} of {len(requests)}:\n" + "\n".join(failures)


async def test_a_subscription_sent_over_http_is_refused_not_crashed(exchanges: Exchanges, targets: Targets) -> None:
    # given: every subscription of the schema, sent as a plain HTTP request (they need a WebSocket)
    root = SCHEMA.subscription_type
    assert root is not None
    failures: list[str] = []
    for field_name, definition in root.fields.items():
        variables = {
            name: minimal_value(arg.type, targets) for name, arg in definition.args.items() if is_required_argument(arg)
        }
        declared = ", ".join(f"${name}: {definition.args[name].type}" for name in variables)
        passed = ", ".join(f"{name}: ${name}" for name in variables)
        document = (
            f"subscription Op{f'({declared})' if declared else ''} "
            f"{{ {field_name}{f'({passed})' if passed else ''} {{ __typename }} }}"
        )
        credential = Credential(f"Bearer {targets.tokens['agent']}", True, "agent")
        query = urlencode({"query": document, "variables": json.dumps(variables)})
        for sent in (
            graphql_post(document, variables, credential=credential, label=f"POST {field_name}"),
            Sent("GET", f"/graphql?{query}", credential=credential, document=document, label=f"GET {field_name}"),
        ):
            # when
            try:
                await exchanges.check(sent)
            except AssertionError as failure:
                failures.append(" ".join(str(failure).splitlines()[:2])[:400])
    # then
    assert not failures, "\n".join(failures)
