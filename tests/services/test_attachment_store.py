"""The local attachment store and its sweep: content-addressed files, and what a crash leaves
behind (bytes no attachment names, staging files) removed once no upload can still want them."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from casegraph.attachment_sweeper import AttachmentSweeper
from casegraph.composition import attachment_desk, periodic_workers
from casegraph.domain.attachments import ScanStatus
from casegraph.services.attachment_store import LocalDirectoryStore
from casegraph.services.attachments import ORPHAN_GRACE, sweep_orphans
from casegraph.settings import Settings
from models import Attachment
from tests.helpers import World, insert_case

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


async def keep(store: LocalDirectoryStore, content: bytes, *, age: timedelta) -> str:
    """Bytes kept in the store as an upload keeps them, written ``age`` before NOW."""
    staged = store.new_staging_file()
    staged.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    await store.keep(staged, digest)
    _age(store.path_of(digest), age)
    return digest


def _age(path: Path, age: timedelta) -> None:
    when = (NOW - age).timestamp()
    os.utime(path, (when, when))


async def read_all(store: LocalDirectoryStore, digest: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(digest)])


async def test_the_store_keeps_bytes_under_their_digest(tmp_path: Path) -> None:
    # given
    store = LocalDirectoryStore(tmp_path)
    # when: the same bytes kept twice
    first = await keep(store, b"a scanned form", age=timedelta(0))
    second = await keep(store, b"a scanned form", age=timedelta(0))
    # then: one file, where its digest says, and nothing left in staging
    assert first == second
    assert store.path_of(first) == tmp_path / first[:2] / first[2:4] / first
    assert await read_all(store, first) == b"a scanned form"
    assert list(store.staged()) == []
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")


async def test_the_sweep_removes_old_orphans_and_keeps_what_is_named_or_young(
    db: TortoiseContext, world: World, tmp_path: Path
) -> None:
    # given: a named file, an old orphan, a young orphan (an upload on its way), old and young staging files
    store = LocalDirectoryStore(tmp_path)
    case = await insert_case(world)
    named = await keep(store, b"named", age=timedelta(days=2))
    await Attachment.create(
        id=uuid.uuid4(),
        case_id=case.id,
        uploaded_by_id=world.sub("requester"),
        filename="named.txt",
        content_type="text/plain",
        size=5,
        sha256=named,
        internal=False,
        scan_status=ScanStatus.NOT_SCANNED,
        event_sequence=2,
        created_at=NOW,
    )
    old_orphan = await keep(store, b"old orphan", age=ORPHAN_GRACE + timedelta(minutes=1))
    young_orphan = await keep(store, b"young orphan", age=timedelta(minutes=5))
    old_staged, young_staged = store.new_staging_file(), store.new_staging_file()
    _age(old_staged, timedelta(days=1))
    _age(young_staged, timedelta(seconds=10))
    # when
    swept = await sweep_orphans(store, now=NOW)
    # then
    assert swept == 2
    assert await store.exists(named) and await store.exists(young_orphan)
    assert not await store.exists(old_orphan)
    assert [blob.key for blob in store.staged()] == [young_staged.name]


async def test_the_server_sweeps_the_store_periodically(db: TortoiseContext, tmp_path: Path) -> None:
    # given: the composition root's workers for a store holding an old orphan
    desk = attachment_desk(Settings(attachments_dir=str(tmp_path)))
    assert isinstance(desk.store, LocalDirectoryStore)
    orphan = await keep(desk.store, b"left by a crash", age=timedelta(days=1))
    workers = periodic_workers(desk, clock=lambda: NOW)
    # when: a pass of the sweeper it registers
    sweepers = [worker for worker in workers if isinstance(worker, AttachmentSweeper)]
    assert len(sweepers) == 1 and sweepers[0].interval > 0
    await sweepers[0].run_pass()
    # then
    assert not await desk.store.exists(orphan)
