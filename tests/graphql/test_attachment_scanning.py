"""Malware scanning of attachments with a real clamd (issue 18): a file waits PENDING and is never
served until clamd clears it; the EICAR test file is quarantined (never served, its bytes purged),
the case records it for the staff and tells the requester their file was refused, live; clamd away
leaves files pending, retried with backoff, and a restarted worker picks them up again."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from casegraph.attachment_scanner import AttachmentScanner
from casegraph.composition import periodic_workers
from casegraph.domain import lifecycle as lc
from casegraph.domain.attachments import Variant
from casegraph.domain.enums import CaseAction
from casegraph.runtime import Runtime
from casegraph.services.clamd_scanner import ClamdScanner
from casegraph.settings import ClamdAddress, Settings
from models import Attachment
from tests.graphql.test_attachments import CASE_ATTACHMENTS, attach, download, stored_files
from tests.helpers import GraphQLClient, RecordingPublisher, World, insert_case
from tests.live.support import free_port
from tests.services.clamd_server import EICAR, SIGNATURE, ClamdServer
from tests.services.object_store_server import ObjectStoreServer

LETTER = b"Dear city, the streetlight on Oak Avenue has been out for a week.\n"


@pytest.fixture(params=["directory", "s3"])
def settings(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """clamd at its loopback port; the files in a directory or an S3-compatible bucket."""
    clamd: ClamdServer = request.getfixturevalue("clamd_server")
    store: dict[str, Any] = {}
    if request.param == "s3":
        server: ObjectStoreServer = request.getfixturevalue("object_store_server")
        store = {"attachments_url": server.new_bucket(), "s3_endpoint_url": server.endpoint_url}
    return dataclasses.replace(settings, attachments_dir=str(tmp_path / "attachments"), clamd_url=clamd.tcp, **store)


def scanner_of(runtime: Runtime) -> AttachmentScanner:
    """The scanning worker the composition root registers for this runtime."""
    workers = [
        worker
        for worker in periodic_workers(runtime.attachments, runtime.clock, lambda: runtime.publisher)
        if isinstance(worker, AttachmentScanner)
    ]
    assert len(workers) == 1 and workers[0].interval > 0
    return workers[0]


async def files_of(client: GraphQLClient, case_id: str, token: str) -> dict[str, Any]:
    case: dict[str, Any] = (await client.data(CASE_ATTACHMENTS, {"id": case_id}, token=token))["case"]
    return case


def scan_events(case: dict[str, Any]) -> list[Any]:
    return [edge["node"]["details"] for edge in case["history"]["edges"] if edge["node"]["action"] == "SCAN_ATTACHMENT"]


async def test_a_file_waits_for_clamd_and_is_served_once_cleared(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime, publisher: RecordingPublisher
) -> None:
    # given: alice attaches a letter
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    added = (await attach(client, alice, case_id=case.id, content=LETTER, filename="letter.txt"))["attachment"]
    # then: it waits for the scanner, with no link, and its link does not serve it
    assert (added["scanStatus"], added["url"]) == ("PENDING", None)
    pending = (await files_of(client, case.id, alice))["attachments"]
    assert [(a["scanStatus"], a["url"]) for a in pending] == [("PENDING", None)]
    early_link = runtime.attachments.links.url(
        attachment_id=added["id"], user_id=world.sub("requester"), variant=Variant.ORIGINAL, now=runtime.clock()
    )
    assert (await download(client, early_link, alice)).status_code == 403
    # when: the scanner's pass
    published_before = len(publisher.events)
    await scanner_of(runtime).run_pass()
    # then: clean, served, and the verdict published live
    cleared = (await files_of(client, case.id, alice))["attachments"]
    assert [a["scanStatus"] for a in cleared] == ["CLEAN"]
    served = await download(client, cleared[0]["url"], alice)
    assert served.status_code == 200 and served.content == LETTER
    assert [event.action for event in publisher.events[published_before:]] == [CaseAction.SCAN_ATTACHMENT]


async def test_the_eicar_file_is_quarantined_and_the_case_records_it(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime, publisher: RecordingPublisher
) -> None:
    # given: alice attaches the EICAR test file as a text file, dana handles the case
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice, dana = world.token(settings, "requester"), world.token(settings, "agent")
    added = (await attach(client, alice, case_id=case.id, content=EICAR, filename="invoice.txt"))["attachment"]
    link = runtime.attachments.links.url(
        attachment_id=added["id"], user_id=world.sub("agent"), variant=Variant.ORIGINAL, now=runtime.clock()
    )
    # when
    await scanner_of(runtime).run_pass()
    # then: quarantined: listed as INFECTED without a link, never served, its bytes gone
    staff_view = await files_of(client, case.id, dana)
    assert [(a["scanStatus"], a["url"]) for a in staff_view["attachments"]] == [("INFECTED", None)]
    assert (await download(client, link, dana)).status_code == 403
    assert stored_files(settings) == []
    assert not await runtime.attachments.store.exists(added["sha256"])
    # and: the staff read what clamd found; alice reads only that her file was refused
    [staff_details] = scan_events(staff_view)
    assert staff_details["scanStatus"] == "INFECTED" and str(staff_details["signature"]).startswith(SIGNATURE)
    assert scan_events(await files_of(client, case.id, alice)) == [{"refused": "invoice.txt"}]
    assert publisher.events[-1].action is CaseAction.SCAN_ATTACHMENT
    # and: another pass has nothing left to do
    assert await scanner_of(runtime).scan_pending() == 0


async def test_clamd_away_leaves_files_pending_with_backoff_and_a_restart_picks_them_up(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime, clamd_server: ClamdServer
) -> None:
    # given: clamd configured at an address where nothing answers
    away = dataclasses.replace(settings, clamd_url=ClamdAddress(host="127.0.0.1", port=free_port()))
    runtime.attachments = dataclasses.replace(
        runtime.attachments, scanner=ClamdScanner(away.clamd_url or ClamdAddress())
    )
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    await attach(client, alice, case_id=case.id, content=LETTER, filename="letter.txt")
    worker = scanner_of(runtime)
    # when: two passes while clamd is away
    await worker.run_pass()
    first_backoff = worker.backoff
    await worker.run_pass()  # within the backoff: not even tried
    # then: still pending, never served, and the worker waits before trying again
    assert first_backoff >= worker.interval > 0 and worker.backoff == first_backoff
    assert [a["scanStatus"] for a in (await files_of(client, case.id, alice))["attachments"]] == ["PENDING"]
    # when: the server restarts with clamd back
    runtime.attachments = dataclasses.replace(runtime.attachments, scanner=ClamdScanner(clamd_server.tcp))
    await scanner_of(runtime).run_pass()
    # then: the pending file is found in the database and cleared
    assert [a["scanStatus"] for a in (await files_of(client, case.id, alice))["attachments"]] == ["CLEAN"]


async def test_a_file_removed_while_pending_gets_no_verdict(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime
) -> None:
    # given: a pending file the agent removes before the scanner comes round
    case = await insert_case(world, state=lc.INTAKE_NEW)
    dana = world.token(settings, "agent")
    added = (await attach(client, dana, case_id=case.id, content=LETTER, filename="letter.txt"))["attachment"]
    removed = await client.data(
        "mutation R($input: RemoveAttachmentInput!) { removeAttachment(input: $input) { errors { code } } }",
        {"input": {"attachmentId": added["id"], "reason": "wrong file"}},
        token=dana,
    )
    assert removed["removeAttachment"]["errors"] == []
    # when
    recorded = await scanner_of(runtime).scan_pending()
    # then
    assert recorded == 0
    assert scan_events(await files_of(client, case.id, dana)) == []
    assert (await Attachment.get(id=added["id"])).removed_at is not None


async def test_a_pending_file_whose_bytes_are_lost_is_set_aside_and_the_others_are_cleared(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime
) -> None:
    # given: a first file whose bytes went missing from the store, then a second one
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    lost = (await attach(client, alice, case_id=case.id, content=b"Lost.\n", filename="lost.txt"))["attachment"]
    await runtime.attachments.store.delete(lost["sha256"])
    await attach(client, alice, case_id=case.id, content=LETTER, filename="letter.txt")
    worker = scanner_of(runtime)
    # when: two passes
    await worker.run_pass()
    await worker.run_pass()
    # then: the second file is cleared; the lost one stays pending (never served), set aside once
    statuses = {a["filename"]: a["scanStatus"] for a in (await files_of(client, case.id, alice))["attachments"]}
    assert statuses == {"lost.txt": "PENDING", "letter.txt": "CLEAN"}
    assert worker.missing == {lost["id"]}
