"""Where attachments' bytes are kept, and who looks at them for malware: the two seams of issue 18.

``AttachmentStore`` keeps bytes under their SHA-256, so the same file sent twice is kept once and
a name can never reach outside the store. ``LocalDirectoryStore`` (one machine: a directory,
``CASEGRAPH_ATTACHMENTS_DIR``) is the first implementation; an object store for several machines
implements the same protocol. Files are received into the store's staging directory first (to be
sniffed, re-encoded, hashed) and only then kept: a rename, so a reader never sees half a file.

``Scanner`` says what an arriving file's scan status is and scans it. ``NoScanner`` is the
embedded default: nothing scans, and every file says so (``NOT_SCANNED``) instead of claiming
``CLEAN``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

from casegraph.domain.attachments import ScanStatus

CHUNK_BYTES: Final = 64 * 1024
SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
STAGING: Final = ".staging"


@dataclass(frozen=True)
class StoredBlob:
    key: str  # a kept file's SHA-256; a staging file's name
    stored_at: datetime


class AttachmentStore(Protocol):
    staging_dir: Path

    async def keep(self, staged: Path, sha256: str) -> None:
        """Move a staged file in under its digest (it is gone from staging afterwards)."""

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        """The kept bytes in chunks; FileNotFoundError when there are none."""

    async def exists(self, sha256: str) -> bool: ...

    async def delete(self, sha256: str) -> None:
        """Forget the bytes (nothing happens if there were none)."""

    def blobs(self) -> AsyncIterator[StoredBlob]:
        """Every kept file, for the orphan sweep."""

    def staged(self) -> Iterator[StoredBlob]:
        """Staging files (their names, not digests), for the sweep of a crash's leftovers."""

    def new_staging_file(self) -> Path:
        """An empty local file to receive or convert an upload into."""

    def remove_staged(self, name: str) -> None: ...


class LocalStaging:
    """A local directory uploads are received into and converted in, before they are kept.

    Every store has one: the bytes are sniffed, re-encoded and hashed here, whatever keeps them.
    """

    def __init__(self, staging_dir: Path) -> None:
        self.staging_dir = staging_dir

    def prepare(self) -> None:
        self.staging_dir.mkdir(parents=True, exist_ok=True)

    def staged(self) -> Iterator[StoredBlob]:
        if not self.staging_dir.is_dir():
            return
        for path in sorted(self.staging_dir.iterdir()):
            if path.is_file():
                yield StoredBlob(path.name, _modified(path))

    def remove_staged(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.staging_dir / Path(name).name).unlink()

    def new_staging_file(self) -> Path:
        self.prepare()
        handle, name = tempfile.mkstemp(dir=self.staging_dir, prefix="upload-")
        os.close(handle)
        return Path(name)


def check_digest(sha256: str) -> str:
    if not SHA256_HEX.fullmatch(sha256):
        raise ValueError("not a SHA-256 digest")
    return sha256


class LocalDirectoryStore(LocalStaging):
    """``root/ab/cd/abcd…``: content-addressed files in a directory of one machine."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        super().__init__(self.root / STAGING)

    def path_of(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def keep(self, staged: Path, sha256: str) -> None:
        target = self.path_of(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same filesystem (staging is inside the root): atomic, and a second copy of the same
        # bytes simply replaces the first.
        os.replace(staged, target)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path_of(sha256).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    async def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(sha256).unlink()

    async def blobs(self) -> AsyncIterator[StoredBlob]:
        for path in sorted(self.root.glob("??/??/*")):
            if SHA256_HEX.fullmatch(path.name) and path.is_file():
                yield StoredBlob(path.name, _modified(path))


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


class Scanner(Protocol):
    """Malware scanning: the status a file arrives with, and the verdict on it."""

    arrival_status: ScanStatus

    async def scan(self, store: AttachmentStore, sha256: str) -> ScanStatus: ...


class NoScanner:
    """No scanner is configured: files are served unscanned, and their status says so."""

    arrival_status = ScanStatus.NOT_SCANNED

    async def scan(self, store: AttachmentStore, sha256: str) -> ScanStatus:
        return ScanStatus.NOT_SCANNED
