"""The local attachment store and its sweep: content-addressed files, and what a crash leaves
behind (bytes no attachment names, staging files) removed once no upload can still want them."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tortoise.context import TortoiseContext

from casegraph.attachment_sweeper import AttachmentSweeper
from casegraph.composition import attachment_desk, attachment_store, periodic_workers
from casegraph.domain.attachments import ScanStatus
from casegraph.services.attachment_store import CHUNK_BYTES, AttachmentStore, LocalDirectoryStore
from casegraph.services.attachments import ORPHAN_GRACE, sweep_orphans
from casegraph.services.s3_store import PART_BYTES, S3Store
from casegraph.settings import Settings
from models import Attachment
from tests.helpers import World, insert_case
from tests.services.object_store_server import ObjectStoreServer, bucket_keys

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


@pytest.fixture(params=["directory", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AttachmentStore:
    """Each store the composition root builds: the directory, and a bucket of an S3-compatible server."""
    settings = Settings(attachments_dir=str(tmp_path / "attachments"))
    if request.param == "s3":
        server: ObjectStoreServer = request.getfixturevalue("object_store_server")
        settings = dataclasses.replace(
            settings, attachments_url=server.new_bucket(), s3_endpoint_url=server.endpoint_url
        )
    return attachment_store(settings)


async def keep_bytes(store: AttachmentStore, content: bytes) -> str:
    staged = store.new_staging_file()
    staged.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    await store.keep(staged, digest)
    return digest


async def test_every_store_keeps_reads_and_forgets_bytes_by_their_digest(any_store: AttachmentStore) -> None:
    # given
    store = any_store
    # when: the same bytes kept twice
    first = await keep_bytes(store, b"a scanned form")
    second = await keep_bytes(store, b"a scanned form")
    # then: one copy, read back whole; staging empty; a missing digest is missing
    assert first == second
    assert [blob.key async for blob in store.blobs()] == [first]
    assert b"".join([chunk async for chunk in store.read(first)]) == b"a scanned form"
    assert list(store.staged()) == []
    missing = hashlib.sha256(b"never sent").hexdigest()
    assert not await store.exists(missing)
    with pytest.raises(FileNotFoundError):
        [chunk async for chunk in store.read(missing)]
    # and: deleting forgets them, twice is harmless
    await store.delete(first)
    await store.delete(first)
    assert not await store.exists(first) and [blob async for blob in store.blobs()] == []


async def test_a_file_larger_than_a_part_goes_to_the_bucket_in_parts_and_comes_back_whole(
    object_store_server: ObjectStoreServer, tmp_path: Path
) -> None:
    # given: an S3 store and a file of two and a bit parts
    location = object_store_server.new_bucket()
    store = S3Store(
        bucket=location.bucket,
        prefix=location.prefix,
        staging_dir=tmp_path / "staging",
        endpoint_url=object_store_server.endpoint_url,
    )
    content = os.urandom(2 * PART_BYTES + 1234)
    # when
    digest = await keep_bytes(store, content)
    # then: one object under its content address, no unfinished upload, the same bytes back in chunks
    assert bucket_keys(location, object_store_server.endpoint_url) == [store.key_of(digest)]
    assert store.key_of(digest) == f"attachments/{digest[:2]}/{digest[2:4]}/{digest}"
    chunks = [chunk async for chunk in store.read(digest)]
    assert b"".join(chunks) == content and max(len(chunk) for chunk in chunks) <= CHUNK_BYTES


async def test_bytes_kept_again_in_the_bucket_look_new_to_the_orphan_sweep(
    object_store_server: ObjectStoreServer, tmp_path: Path
) -> None:
    # given: bytes already in the bucket (an earlier upload of the same file)
    location = object_store_server.new_bucket()
    store = S3Store(
        bucket=location.bucket,
        prefix=location.prefix,
        staging_dir=tmp_path / "staging",
        endpoint_url=object_store_server.endpoint_url,
    )
    digest = await keep_bytes(store, b"the same form, twice")
    first = await _modified(store, digest)
    # S3 keeps LastModified in whole seconds: wait for the next one, so "refreshed" can show.
    while datetime.now(UTC).replace(microsecond=0) <= first:
        await asyncio.sleep(0.05)
    # when: a new upload of the same bytes keeps them again (its commit still to come)
    await keep_bytes(store, b"the same form, twice")
    # then: the sweep sees them as new, so it cannot take them before that commit
    assert await _modified(store, digest) > first
    assert b"".join([chunk async for chunk in store.read(digest)]) == b"the same form, twice"


async def _modified(store: AttachmentStore, digest: str) -> datetime:
    return next(iter([blob.stored_at async for blob in store.blobs() if blob.key == digest]))


async def test_an_upload_the_bucket_refuses_leaves_no_object_and_no_staging_file(
    object_store_server: ObjectStoreServer, tmp_path: Path
) -> None:
    # given: a store whose bucket does not exist (a misconfiguration, an outage)
    store = S3Store(
        bucket="casegraph-no-such-bucket",
        prefix="",
        staging_dir=tmp_path / "staging",
        endpoint_url=object_store_server.endpoint_url,
    )
    # when
    with pytest.raises(ClientError):
        await keep_bytes(store, os.urandom(PART_BYTES + 1))
    # then
    assert list(store.staged()) == []


async def test_the_sweep_lists_the_buckets_prefix_and_removes_only_old_orphans(
    db: TortoiseContext, world: World, object_store_server: ObjectStoreServer, tmp_path: Path
) -> None:
    # given: in the bucket a named file, an orphan, and an object some other tool put under the prefix
    location = object_store_server.new_bucket()
    settings = Settings(
        attachments_dir=str(tmp_path), attachments_url=location, s3_endpoint_url=object_store_server.endpoint_url
    )
    store = attachment_store(settings)
    assert isinstance(store, S3Store)
    case = await insert_case(world)
    named = await keep_bytes(store, b"named")
    orphan = await keep_bytes(store, b"left by a crash")
    await _name(case.id, world.sub("requester"), named)
    async with store.client() as client:
        await client.put_object(Bucket=location.bucket, Key=f"{location.prefix}README", Body=b"not ours")
    now = datetime.now(UTC)
    # when: swept now (everything young: an upload may still be on its way), then after the grace
    swept_now = await sweep_orphans(store, now=now)
    swept_later = await sweep_orphans(store, now=now + ORPHAN_GRACE + timedelta(minutes=1))
    # then
    assert (swept_now, swept_later) == (0, 1)
    assert await store.exists(named) and not await store.exists(orphan)
    assert f"{location.prefix}README" in bucket_keys(location, object_store_server.endpoint_url)


async def _name(case_id: str, uploader: str, digest: str) -> None:
    await Attachment.create(
        id=uuid.uuid4(),
        case_id=case_id,
        uploaded_by_id=uploader,
        filename="named.txt",
        content_type="text/plain",
        size=5,
        sha256=digest,
        internal=False,
        scan_status=ScanStatus.NOT_SCANNED,
        event_sequence=2,
        created_at=NOW,
    )


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
