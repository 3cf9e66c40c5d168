"""Attachments in an S3-compatible bucket (``CASEGRAPH_ATTACHMENTS_URL=s3://bucket/prefix``): several
machines, one store.

The same protocol as the local directory (``attachment_store.AttachmentStore``): objects are named
by their SHA-256 (``prefix/ab/cd/abcd…``), so the same bytes sent twice are one object and a name
can never be chosen by a client. Uploads are still received into a local staging directory (to be
sniffed, re-encoded and hashed) and then sent up in parts of ``PART_BYTES``, one part in memory at
a time; a failed upload is aborted, so the bucket keeps no half object (S3 shows a multipart upload
only once it is completed). Downloads stream the object back in chunks, through our own route,
which keeps the authorization and the headers.

aiobotocore rather than a hand-signed client: it brings botocore's request signing, its credential
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, ``AWS_PROFILE``,
container and instance roles), retries and every S3-compatible server's quirks that users of boto
already configure through the standard ``AWS_*`` variables.

A client lives for one operation: an aiohttp session belongs to the event loop that made it, and
the server, the command line and the tests each run their own loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from casegraph.services.attachment_store import (
    CHUNK_BYTES,
    SHA256_HEX,
    LocalStaging,
    StoredBlob,
    check_digest,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

# S3's smallest part (but the last); a file no larger goes up in one PUT.
PART_BYTES: Final = 5 * 1024 * 1024
MISSING: Final = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Store(LocalStaging):
    """Content-addressed objects under ``prefix`` in ``bucket``; staging in a local directory."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        staging_dir: str | Path,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(Path(staging_dir))
        self.bucket = bucket
        self.prefix = prefix
        self._endpoint_url = endpoint_url
        # botocore reads AWS_DEFAULT_REGION itself; AWS_REGION is what the other SDKs read.
        self._region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._session = get_session()
        # Path-style addressing for a custom endpoint (MinIO, Ceph, moto): no per-bucket DNS names.
        self._config = AioConfig(s3={"addressing_style": "path"} if endpoint_url else {})

    def key_of(self, sha256: str) -> str:
        check_digest(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[S3Client]:
        async with self._session.create_client(
            "s3", region_name=self._region, endpoint_url=self._endpoint_url, config=self._config
        ) as client:
            yield client

    async def keep(self, staged: Path, sha256: str) -> None:
        key = self.key_of(sha256)
        try:
            async with self.client() as client:
                if await _object_exists(client, self.bucket, key):
                    # Kept again (the same bytes uploaded anew): its LastModified is what the orphan
                    # sweep reads, so it must say now, or the sweep could take the bytes of this
                    # upload between here and its commit. A copy onto itself with new metadata is
                    # how S3 refreshes it (the directory store's os.replace does so too).
                    await client.copy_object(
                        Bucket=self.bucket,
                        Key=key,
                        CopySource={"Bucket": self.bucket, "Key": key},
                        MetadataDirective="REPLACE",
                    )
                else:
                    size = staged.stat().st_size
                    if size <= PART_BYTES:
                        body = await asyncio.to_thread(staged.read_bytes)
                        await client.put_object(Bucket=self.bucket, Key=key, Body=body)
                    else:
                        await _upload_in_parts(client, self.bucket, key, staged)
        finally:
            staged.unlink(missing_ok=True)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        async with self.client() as client:
            try:
                response = await client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))
            except ClientError as error:
                if _missing(error):
                    raise FileNotFoundError(sha256) from None
                raise
            body = response["Body"]
            try:
                while chunk := await body.read(CHUNK_BYTES):
                    yield chunk
            finally:
                body.close()

    async def check_bucket(self) -> None:
        """Raise unless the bucket answers (HEAD bucket): what readiness asks."""
        async with self.client() as client:
            await client.head_bucket(Bucket=self.bucket)

    async def exists(self, sha256: str) -> bool:
        async with self.client() as client:
            return await _object_exists(client, self.bucket, self.key_of(sha256))

    async def delete(self, sha256: str) -> None:
        async with self.client() as client:
            # S3 answers a delete of a missing key with success too.
            await client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))

    async def blobs(self) -> AsyncIterator[StoredBlob]:
        async with self.client() as client:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            async for page in pages:
                for item in page.get("Contents", []):
                    key = item.get("Key", "")
                    name = key.rsplit("/", 1)[-1]
                    # Only what this store named: other tools' objects under the prefix are not ours to sweep.
                    if SHA256_HEX.fullmatch(name) and key == self.key_of(name) and "LastModified" in item:
                        yield StoredBlob(name, item["LastModified"])


async def _object_exists(client: S3Client, bucket: str, key: str) -> bool:
    try:
        await client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if _missing(error):
            return False
        raise
    return True


async def _upload_in_parts(client: S3Client, bucket: str, key: str, staged: Path) -> None:
    """A multipart upload, one part in memory at a time; aborted if anything fails."""
    upload_id = (await client.create_multipart_upload(Bucket=bucket, Key=key))["UploadId"]
    try:
        parts: list[Any] = []
        with staged.open("rb") as handle:
            number = 1
            while chunk := await asyncio.to_thread(handle.read, PART_BYTES):
                sent = await client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                number += 1
        await client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        with contextlib.suppress(Exception):
            await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in MISSING
