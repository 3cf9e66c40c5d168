"""Observability (issue 5): request ids, JSON logs, Prometheus metrics and OpenTelemetry tracing."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.events.live import LiveEvents
from casegraph.observability.logs import JsonFormatter, TextFormatter, logging_config
from casegraph.observability.metrics import MAX_OPERATION_NAMES, OperationNames
from casegraph.observability.operation_spans import REQUEST_ID_ATTRIBUTE
from casegraph.observability.request_context import RequestScope, request_scope
from casegraph.observability.tracing import MISSING_OTEL
from casegraph.services.event_log import append_event
from casegraph.settings import Rate, RateLimits, Settings
from models import CaseEvent
from tests.conftest import TEST_SECRET
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, insert_case

ME_QUERY = "query Me { me { id } }"
CASES_QUERY = "query Cases { cases { totalCount } }"
CREATE_CASE_MUTATION = (
    "mutation CreateCase($input: CreateCaseInput!) "
    "{ createCase(input: $input) { case { id } event { sequence requestId } errors { code } } }"
)
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { type requestId } } } } }"
PERSONAL = "Mrs Zyxwvut at 42 Quietlane, phone 0170-5550199"


def new_case(title: str = PERSONAL) -> dict[str, Any]:
    return {"input": {"caseTypeCode": "POTHOLE", "title": title, "description": "Deep.", "impact": 2, "urgency": 2}}


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the server logs at INFO and above, formatted as it formats it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    # The test's own HTTP client logs each URL it requests; that is not the server's log.
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in json_lines(stream) if line["logger"] == "casegraph.access"]


async def scrape(client: GraphQLClient, token: str | None = None) -> dict[str, float]:
    """GET /metrics as {"name{label=value,...}": value}, labels sorted."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse_metrics(response.text)


def parse_metrics(text: str) -> dict[str, float]:
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


# --------------------------------------------------------------------------------------------
# Request ids and logs


async def test_log_lines_are_json_and_carry_the_given_request_id(
    client: GraphQLClient, world: World, settings: Settings, log_output: io.StringIO
) -> None:
    # when
    response = await client.http.post(
        "/graphql",
        json={"query": ME_QUERY},
        headers={"Authorization": f"Bearer {world.token(settings, 'agent')}", "X-Request-ID": "edge-7f3a.2:b_c"},
    )
    # then: the response echoes it
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "edge-7f3a.2:b_c"
    # and one access line describes the request, with who ran which operation
    [line] = access_lines(log_output)
    assert line["request_id"] == "edge-7f3a.2:b_c"
    assert line["level"] == "INFO" and line["timestamp"].endswith("Z")
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert line["user"] == world.sub("agent")
    assert (line["operation_type"], line["operation_name"]) == ("query", "Me")
    assert line["client"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], float)


async def test_an_invalid_request_id_is_replaced_by_a_generated_one(
    client: GraphQLClient, log_output: io.StringIO
) -> None:
    for given in ("has spaces", "x" * 65, 'quote"d', "ünïcode".encode(), ""):
        raw = given if isinstance(given, bytes) else given.encode("ascii")
        response = await client.http.get("/healthz", headers=[(b"X-Request-ID", raw)])
        generated = response.headers["x-request-id"]
        assert generated != (given.decode() if isinstance(given, bytes) else given)
        assert len(generated) == 32 and int(generated, 16) >= 0
    # and without one, every request gets a distinct id
    first = (await client.http.get("/healthz")).headers["x-request-id"]
    second = (await client.http.get("/healthz")).headers["x-request-id"]
    assert first != second


async def test_a_client_address_comes_from_a_trusted_proxy_only(
    db: TortoiseContext, runtime: Runtime, log_output: io.StringIO
) -> None:
    # given: the test transport's peer (127.0.0.1) is a trusted proxy
    runtime.settings = Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off(), trusted_proxies=("127.0.0.1",))
    app = create_app(runtime.settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        await http.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Forwarded-For": "203.0.113.9"})
    [line] = access_lines(log_output)
    assert line["client"] == "203.0.113.9"
    assert (line["operation_type"], line["operation_name"]) == ("query", "anonymous")


async def test_a_request_that_crashes_is_logged_and_counted_as_a_500(
    db: TortoiseContext, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    async def crash(request: object) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setattr("casegraph.app.healthz", crash)
    app = create_app(runtime.settings, manage_resources=False, runtime=runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/healthz", headers={"X-Request-ID": "crash-1"})).status_code == 500
        samples = parse_metrics((await http.get("/metrics")).text)
    [line] = [entry for entry in access_lines(log_output) if entry.get("request_id") == "crash-1"]
    assert line["status"] == 500
    assert samples["casegraph_http_requests_total{method=GET,route=/healthz,status=500}"] == 1


def test_text_logs_are_one_readable_line_with_the_request_id() -> None:
    record = logging.LogRecord("casegraph.access", logging.INFO, __file__, 1, "POST %s %s", ("/graphql", 200), None)
    record.status = 200
    with request_scope(RequestScope(request_id="req-1")):
        line = TextFormatter().format(record)
    assert "INFO casegraph.access [req-1] POST /graphql 200 status=200" in line
    assert logging_config(Settings(log_format="text"))["formatters"]["casegraph"]["()"].endswith("TextFormatter")


def test_an_exception_goes_under_exc_and_keeps_the_line_whole() -> None:
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        record = logging.LogRecord("casegraph", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    [line] = JsonFormatter().format(record).splitlines()
    entry = json.loads(line)
    assert "Traceback" in entry["exc"] and "ValueError: first\nsecond" in entry["exc"]
    assert "request_id" not in entry  # outside a request


async def test_an_event_written_by_a_mutation_stores_its_request_id(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # when: a constituent files a case
    response = await client.post(
        CREATE_CASE_MUTATION,
        new_case(),
        token=world.token(settings, "requester"),
        headers={"X-Request-ID": "file-case-1"},
    )
    payload = response.json()["data"]["createCase"]
    assert payload["errors"] == []
    # then: the log row carries the id
    event = await CaseEvent.get(sequence=payload["event"]["sequence"])
    assert event.request_id == "file-case-1"
    # and staff see it, constituents do not (not even on their own case)
    assert payload["event"]["requestId"] is None
    case_id = payload["case"]["id"]
    staff = await client.data(HISTORY_QUERY, {"id": case_id}, token=world.token(settings, "agent"))
    constituent = await client.data(HISTORY_QUERY, {"id": case_id}, token=world.token(settings, "requester"))
    assert [edge["node"]["requestId"] for edge in staff["case"]["history"]["edges"]] == ["file-case-1"]
    assert [edge["node"]["requestId"] for edge in constituent["case"]["history"]["edges"]] == [None]


async def test_an_event_written_outside_a_request_has_no_request_id(world: World) -> None:
    case = await insert_case(world)
    record = await append_event(
        case_id=case.id,
        actor_id=None,
        event_type=CaseEventType.SLA_WARNING,
        action=CaseAction.UPDATE,
        before=None,
        after=(case.stage, case.status),
        version=case.version,
        summary={},
        now=world.clock(),
    )
    assert record.request_id is None
    assert (await CaseEvent.get(sequence=record.sequence)).request_id is None


async def test_the_error_log_of_a_masked_internal_error_carries_the_request_id_and_error_id(
    client: GraphQLClient,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_output: io.StringIO,
) -> None:
    async def boom(**_: object) -> None:
        raise RuntimeError("connection to 10.0.0.5 refused")

    monkeypatch.setattr("casegraph.services.case_queries.page_request", boom)
    # when
    response = await client.post(CASES_QUERY, token=world.token(settings, "agent"), headers={"X-Request-ID": "boom-1"})
    # then
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    error_id = error["extensions"]["errorId"]
    [line] = [entry for entry in json_lines(log_output) if entry["level"] == "ERROR"]
    assert line["request_id"] == "boom-1"
    assert error_id in line["message"]
    assert "RuntimeError: connection to 10.0.0.5 refused" in line["exc"]
    # and it is counted by its code
    samples = await scrape(client)
    assert samples["casegraph_graphql_errors_total{code=INTERNAL_ERROR}"] == 1


async def test_no_token_or_variable_value_appears_in_logs(
    client: GraphQLClient,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_output: io.StringIO,
) -> None:
    token = world.token(settings, "requester")
    # a mutation with personal data in its variables, one sent with GET, and one that fails
    await client.post(CREATE_CASE_MUTATION, new_case(), token=token)
    await client.http.get(
        "/graphql",
        params={"query": "query Q($t: String) { __typename }", "variables": json.dumps({"t": PERSONAL})},
        headers={"Authorization": f"Bearer {token}"},
    )

    async def boom(**_: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr("casegraph.services.case_queries.page_request", boom)
    await client.post(CASES_QUERY, {"unused": PERSONAL}, token=token)
    await client.post(ME_QUERY, token="not-a-valid-token")
    # then
    text = log_output.getvalue()
    assert len(access_lines(log_output)) == 4
    for secret in (token, "not-a-valid-token", "Zyxwvut", "Bearer"):
        assert secret not in text


# --------------------------------------------------------------------------------------------
# Metrics


async def test_metrics_count_operations_and_errors_by_code(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    agent = world.token(settings, "agent")
    # when: two named queries, an anonymous one, an unauthenticated one, a refused mutation, one too deep
    await client.data(ME_QUERY, token=agent)
    await client.data(ME_QUERY, token=agent)
    await client.data("{ me { id } }", token=agent)
    await client.post(ME_QUERY)
    refused = await client.data(
        CREATE_CASE_MUTATION, {"input": {"caseTypeCode": "NO_SUCH_TYPE", "title": "x"}}, token=agent
    )
    [user_error] = refused["createCase"]["errors"]
    deep = (
        "query Deep { cases { edges { node { "
        + "history { edges { node { case { " * 4
        + "id"
        + " } } } }" * 4
        + " } } } }"
    )
    too_deep = (await client.post(deep, token=agent)).json()
    limit_codes = [error["extensions"]["code"] for error in too_deep["errors"]]
    assert set(limit_codes) == {"QUERY_LIMIT_EXCEEDED"}
    # then
    samples = await scrape(client)
    assert samples["casegraph_graphql_operations_total{operation_name=Me,operation_type=query}"] == 3
    assert samples["casegraph_graphql_operations_total{operation_name=anonymous,operation_type=query}"] == 1
    assert samples["casegraph_graphql_operations_total{operation_name=CreateCase,operation_type=mutation}"] == 1
    assert samples["casegraph_graphql_operation_duration_seconds_count{operation_name=Me,operation_type=query}"] == 3
    assert samples["casegraph_graphql_errors_total{code=UNAUTHENTICATED}"] == 1
    assert samples[f"casegraph_graphql_errors_total{{code={user_error['code']}}}"] == 1
    assert samples["casegraph_graphql_errors_total{code=QUERY_LIMIT_EXCEEDED}"] == len(limit_codes)
    assert samples["casegraph_http_requests_total{method=POST,route=/graphql,status=200}"] >= 5
    assert samples["casegraph_http_request_duration_seconds_count{method=POST,route=/graphql}"] == 6


async def test_rate_limited_mutations_are_counted_by_code(db: TortoiseContext, world: World, clock: FakeClock) -> None:
    settings = Settings(
        jwt_secret=TEST_SECRET,
        rate_limits=RateLimits(
            mutations_per_user=Rate(1, 60),
            mutations_per_ip=None,
            connections_per_user=None,
            connections_per_ip=None,
            backend="memory",
        ),
    )
    runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock, publisher=RecordingPublisher())
    app = create_app(settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        client = GraphQLClient(http, settings)
        token = world.token(settings, "requester")
        await client.post(CREATE_CASE_MUTATION, new_case("first"), token=token)
        second = await client.post(CREATE_CASE_MUTATION, new_case("second"), token=token)
        assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        samples = await scrape(client)
    assert samples["casegraph_graphql_errors_total{code=RATE_LIMITED}"] == 1
    assert samples["casegraph_graphql_operations_total{operation_name=CreateCase,operation_type=mutation}"] == 2


def test_operation_name_labels_are_bounded() -> None:
    names = OperationNames()
    assert names.label(None) == "anonymous" and names.label("") == "anonymous"
    assert names.label("9lives") == "other" and names.label("a-b") == "other" and names.label("x" * 65) == "other"
    assert [names.label(f"Op{i}") for i in range(MAX_OPERATION_NAMES)] == [f"Op{i}" for i in range(MAX_OPERATION_NAMES)]
    assert names.label("OneTooMany") == "other"
    assert names.label("Op7") == "Op7"  # names already seen keep their label


async def test_metrics_token_is_enforced(db: TortoiseContext, runtime: Runtime) -> None:
    runtime.settings = Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off(), metrics_token="scrape-me-7")
    app = create_app(runtime.settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        for header in (None, "Bearer wrong", "Basic scrape-me-7", "scrape-me-7", "Bearer scrape-me-"):
            response = await http.get("/metrics", headers={"Authorization": header} if header else {})
            assert response.status_code == 401, header
            assert "casegraph_" not in response.text
        response = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-7"})
        assert response.status_code == 200
        assert "casegraph_http_requests_total" in response.text


async def test_sla_breaches_are_counted_from_the_event_log(client: GraphQLClient, world: World) -> None:
    case = await insert_case(world)
    for event_type in (CaseEventType.SLA_BREACHED, CaseEventType.SLA_WARNING, CaseEventType.SLA_BREACHED):
        await append_event(
            case_id=case.id,
            actor_id=None,
            event_type=event_type,
            action=CaseAction.UPDATE,
            before=None,
            after=(case.stage, case.status),
            version=case.version,
            summary={},
            now=world.clock(),
        )
    samples = await scrape(client)
    assert samples["casegraph_sla_breaches_total{}"] == 2


async def test_event_log_lag_is_the_head_less_what_this_process_has_delivered(
    client: GraphQLClient, world: World, runtime: Runtime
) -> None:
    # given: a hub that has not read the log yet (not started: nothing wakes it)
    live = LiveEvents("memory://")
    runtime.live = live
    await insert_case(world)
    await insert_case(world)
    head = await CaseEvent.all().count()
    # then
    samples = await scrape(client)
    assert samples["casegraph_event_log_head_sequence{}"] == head
    assert samples["casegraph_event_log_delivered_sequence{}"] == 0
    assert samples["casegraph_event_log_lag_events{}"] == head
    # when it catches up (with nobody listening, by its poll of the head)
    await live.hub.poll()
    samples = await scrape(client)
    assert samples["casegraph_event_log_delivered_sequence{}"] == head
    assert samples["casegraph_event_log_lag_events{}"] == 0


async def test_without_a_hub_only_the_head_is_reported(client: GraphQLClient, world: World) -> None:
    samples = await scrape(client)
    assert "casegraph_event_log_head_sequence{}" in samples
    assert not any(name.startswith("casegraph_event_log_lag_events") for name in samples)
    assert samples["casegraph_active_subscriptions{}"] == 0


# --------------------------------------------------------------------------------------------
# Tracing


@pytest.fixture
async def traced(
    db: TortoiseContext, settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[GraphQLClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    runtime = Runtime(
        settings=settings,
        verifier=TokenVerifier(settings),
        clock=clock,
        publisher=RecordingPublisher(),
        tracer_provider=provider,
    )
    app = create_app(settings, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, settings), exporter
    provider.shutdown()


async def test_an_operation_produces_spans_with_the_request_id_on_the_root_span(
    traced: tuple[GraphQLClient, InMemorySpanExporter], world: World, settings: Settings
) -> None:
    client, exporter = traced
    token = world.token(settings, "requester")
    # when
    response = await client.post(CREATE_CASE_MUTATION, new_case(), token=token, headers={"X-Request-ID": "trace-me-1"})
    assert response.json()["data"]["createCase"]["errors"] == []
    # then
    spans = exporter.get_finished_spans()
    [root] = [span for span in spans if span.parent is None]
    assert root.name == "GraphQL Query: CreateCase"
    assert root.attributes is not None
    assert root.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1"
    assert root.attributes["graphql.operation.type"] == "mutation"
    children = {span.name for span in spans if span.parent is not None}
    assert {"GraphQL Parsing", "GraphQL Validation", "GraphQL Resolving: createCase"} <= children
    assert all(span.context.trace_id == root.context.trace_id for span in spans)
    # and no span records the document or the arguments (personal data)
    recorded = json.dumps([dict(span.attributes or {}) for span in spans])
    assert "Zyxwvut" not in recorded and "query" not in (root.attributes or {})


async def test_a_callers_traceparent_joins_its_trace(
    traced: tuple[GraphQLClient, InMemorySpanExporter], world: World, settings: Settings
) -> None:
    client, exporter = traced
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await client.post(
        ME_QUERY, token=world.token(settings, "agent"), headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    [operation] = [span for span in exporter.get_finished_spans() if span.name == "GraphQL Query: Me"]
    assert format(operation.context.trace_id, "032x") == trace_id
    assert operation.parent is not None and operation.parent.is_remote


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_the_otlp_exporter_posts_spans_to_the_configured_endpoint(
    db: TortoiseContext, world: World, clock: FakeClock, otlp_receiver: tuple[str, list[tuple[str, str, bytes]]]
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    endpoint, received = otlp_receiver
    settings = Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off(), otel_endpoint=endpoint)
    runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock, publisher=RecordingPublisher())
    app = create_app(settings, manage_resources=False, runtime=runtime)
    provider = runtime.tracer_provider
    assert provider is not None
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            await GraphQLClient(http, settings).post(
                ME_QUERY, token=world.token(settings, "agent"), headers={"X-Request-ID": "otlp-1"}
            )
        assert await asyncio.to_thread(provider.force_flush, 10_000)
    finally:
        await asyncio.to_thread(provider.shutdown)
    # then
    assert received, "nothing was posted to the OTLP endpoint"
    path, content_type, body = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    spans = [span for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans]
    [root] = [span for span in spans if span.name == "GraphQL Query: Me"]
    attributes = {attribute.key: attribute.value.string_value for attribute in root.attributes}
    assert attributes[REQUEST_ID_ATTRIBUTE] == "otlp-1"


def test_tracing_without_the_otel_packages_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from casegraph import cli

    # given: the exporter is not installed
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    settings = Settings(jwt_secret=TEST_SECRET, otel_endpoint="http://127.0.0.1:4318/v1/traces")
    # then: the application refuses
    with pytest.raises(RuntimeError) as refused:
        create_app(settings, manage_resources=False)
    assert str(refused.value) == MISSING_OTEL and "pip install 'casegraph[otel]'" in MISSING_OTEL
    # and so does `casegraph serve`, before it migrates or binds anything
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEGRAPH_OTEL_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    monkeypatch.setenv("CASEGRAPH_DATABASE_URL", f"sqlite://{tmp_path / 'never.sqlite3'}")
    assert cli.main(["serve", "--port", "1"]) == 2
    assert MISSING_OTEL in capsys.readouterr().err
    assert not (tmp_path / "never.sqlite3").exists()
