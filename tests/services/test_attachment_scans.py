"""The scanner's pass over pending files (issue 18), on each database: a file clamd errs on is
counted and passed over, then given up as UNSCANNABLE, never holding up the files behind it; an
INFECTED verdict marks every live row of the same bytes at once and a purge a crash skipped is
done by the next pass; two scanners running side by side scan each file exactly once, and a
crashed scanner's lease runs out for another to take over.

clamd here is a small server on loopback speaking its INSTREAM protocol (``ScriptedClamd``): it
answers ``ERROR`` for the bytes a test chooses (what a real clamd says of a file it cannot scan,
which no small file makes it say) and counts what it was asked to scan.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from casegraph.attachment_scanner import AttachmentScanner
from casegraph.domain.attachments import ScanStatus
from casegraph.domain.enums import CaseAction
from casegraph.services.attachment_scans import MAX_ATTEMPTS, claim_next_scan, record_verdict
from casegraph.services.attachment_store import LocalDirectoryStore
from casegraph.services.clamd_scanner import ClamdScanner
from casegraph.settings import ClamdAddress
from models import Attachment, CaseEvent
from tests.helpers import FakeClock, RecordingPublisher, World, insert_case

UNSCANNABLE_MARK = b"clamd errs on this"


class ScriptedClamd:
    """clamd's INSTREAM protocol on a loopback port: ``OK`` for any bytes but those holding
    ``UNSCANNABLE_MARK`` (``… ERROR``); ``scanned`` counts each digest it was sent."""

    def __init__(self) -> None:
        self.scanned: Counter[str] = Counter()
        self.server: asyncio.Server | None = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readexactly(10) == b"zINSTREAM\0"
        content = b""
        while length := struct.unpack(">I", await reader.readexactly(4))[0]:
            content += await reader.readexactly(length)
        self.scanned[hashlib.sha256(content).hexdigest()] += 1
        writer.write(b"stream: Can't allocate memory ERROR\0" if UNSCANNABLE_MARK in content else b"stream: OK\0")
        await writer.drain()
        writer.close()

    @property
    def address(self) -> ClamdAddress:
        assert self.server is not None
        return ClamdAddress(host="127.0.0.1", port=self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def clamd() -> AsyncIterator[ScriptedClamd]:
    scripted = ScriptedClamd()
    scripted.server = await asyncio.start_server(scripted._answer, "127.0.0.1", 0)
    async with scripted.server:
        yield scripted


@pytest.fixture
def store(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path / "attachments")


def scanner(
    store: LocalDirectoryStore, clamd: ScriptedClamd, clock: FakeClock, publisher: RecordingPublisher
) -> AttachmentScanner:
    return AttachmentScanner(
        store, ClamdScanner(clamd.address, timeout=30), publisher=lambda: publisher, clock=clock, interval=1
    )


async def pending_file(
    world: World,
    store: LocalDirectoryStore,
    clock: FakeClock,
    content: bytes,
    *,
    case_id: str | None = None,
    status: ScanStatus = ScanStatus.PENDING,
) -> Attachment:
    """A file as an upload leaves it: its bytes kept, its row written (PENDING by default)."""
    if case_id is None:
        case_id = (await insert_case(world)).id
    staged = store.new_staging_file()
    staged.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    await store.keep(staged, digest)
    return await Attachment.create(
        id=uuid.uuid4(),
        case_id=case_id,
        uploaded_by_id=world.sub("requester"),
        filename=f"{digest[:8]}.txt",
        content_type="text/plain",
        size=len(content),
        sha256=digest,
        internal=False,
        scan_status=status,
        event_sequence=1,
        created_at=clock(),
    )


async def status_of(attachment: Attachment) -> ScanStatus:
    return (await Attachment.get(id=attachment.id)).scan_status


async def test_a_file_clamd_errs_on_is_passed_over_then_given_up_and_the_files_behind_it_are_cleared(
    db: TortoiseContext,
    world: World,
    store: LocalDirectoryStore,
    clamd: ScriptedClamd,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    # given: the oldest pending file is one clamd errs on, a letter behind it
    broken = await pending_file(world, store, clock, b"%s, whatever else it holds\n" % UNSCANNABLE_MARK)
    letter = await pending_file(world, store, clock, b"Dear city, the light is out.\n")
    worker = scanner(store, clamd, clock, publisher)
    # when: a pass
    await worker.run_pass()
    # then: the letter is cleared, the broken file counted and still pending; clamd is not "away"
    assert await status_of(letter) == ScanStatus.CLEAN
    row = await Attachment.get(id=broken.id)
    assert (row.scan_status, row.scan_attempts, worker.backoff) == (ScanStatus.PENDING, 1, 0.0)
    # when: it waits its turn each time, and fails each time
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(worker.lease)
        await worker.run_pass()
    # then: given up, never served, and its case records it (for the requester too)
    assert await status_of(broken) == ScanStatus.UNSCANNABLE
    assert clamd.scanned[broken.sha256] == MAX_ATTEMPTS
    events = await CaseEvent.filter(case_id=broken.case_id, action=CaseAction.SCAN_ATTACHMENT)
    assert len(events) == 1
    assert events[0].summary["scanStatus"] == "UNSCANNABLE" and events[0].summary["unscannable"] == broken.filename


async def test_an_infected_verdict_marks_every_live_row_of_the_same_bytes_and_purges_them(
    db: TortoiseContext, world: World, store: LocalDirectoryStore, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: the same bytes on two cases: already CLEAN on one, pending on the other
    content = b"the same bytes, twice\n"
    cleared = await pending_file(world, store, clock, content, status=ScanStatus.CLEAN)
    pending = await pending_file(world, store, clock, content)
    # when: the pending one is found infected
    await record_verdict(
        attachment=pending,
        status=ScanStatus.INFECTED,
        signature="Test.Sig",
        store=store,
        now=clock(),
        publisher=publisher,
    )
    # then: neither serves the bytes, both cases record it, the bytes are gone and said so
    assert await status_of(cleared) == ScanStatus.INFECTED and await status_of(pending) == ScanStatus.INFECTED
    for case_id in (cleared.case_id, pending.case_id):
        assert await CaseEvent.filter(case_id=case_id, action=CaseAction.SCAN_ATTACHMENT).count() == 1
    assert not await store.exists(pending.sha256)
    assert await Attachment.filter(sha256=pending.sha256, purged_at=None).count() == 0


async def test_bytes_of_a_quarantined_file_a_crash_left_in_the_store_are_purged_by_the_next_pass(
    db: TortoiseContext,
    world: World,
    store: LocalDirectoryStore,
    clamd: ScriptedClamd,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    # given: a file marked INFECTED whose purge did not happen (the process died after the commit)
    infected = await pending_file(world, store, clock, b"bad bytes\n", status=ScanStatus.INFECTED)
    assert await store.exists(infected.sha256)
    # when
    await scanner(store, clamd, clock, publisher).run_pass()
    # then
    assert not await store.exists(infected.sha256)
    assert (await Attachment.get(id=infected.id)).purged_at is not None


async def test_two_scanners_side_by_side_scan_each_file_exactly_once(
    db: TortoiseContext,
    world: World,
    store: LocalDirectoryStore,
    clamd: ScriptedClamd,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    # given: pending files, and two scanners (two processes' workers) on the same database
    case = await insert_case(world)
    files = [await pending_file(world, store, clock, b"letter %d\n" % n, case_id=case.id) for n in range(8)]
    first, second = scanner(store, clamd, clock, publisher), scanner(store, clamd, clock, publisher)
    # when: both pass at the same time
    verdicts = await asyncio.gather(first.scan_pending(), second.scan_pending())
    # then: both took part, every file cleared, each scanned once, one verdict each
    assert all(verdicts) and sum(verdicts) == len(files)
    assert {await status_of(row) for row in files} == {ScanStatus.CLEAN}
    assert clamd.scanned == Counter({row.sha256: 1 for row in files})
    assert await CaseEvent.filter(case_id=case.id, action=CaseAction.SCAN_ATTACHMENT).count() == len(files)


async def test_a_crashed_scanners_lease_runs_out_and_another_takes_the_file_over(
    db: TortoiseContext, world: World, store: LocalDirectoryStore, clock: FakeClock
) -> None:
    # given: a pending file claimed by a scanner that then died
    held = await pending_file(world, store, clock, b"a form\n")
    lease = timedelta(minutes=2)
    assert (claimed := await claim_next_scan(now=clock(), lease=lease)) is not None and claimed.id == held.id
    # when: another scanner looks, while the lease lasts and after it ran out
    during = await claim_next_scan(now=clock(), lease=lease)
    clock.advance(lease)
    after = await claim_next_scan(now=clock(), lease=lease)
    # then
    assert during is None
    assert after is not None and after.id == held.id
