"""An upload's bytes: received in chunks, judged by what they are, images made safe to publish.

Nothing the client says about the file is believed: its type is sniffed from the bytes and must
be on the allow-list (``domain/attachments.ALLOWED_TYPES``); an image is decoded and encoded again
by Pillow, which writes none of the original's metadata (EXIF, GPS, XMP, comments) and leaves no
trailing payload, and a thumbnail is made from it. Pillow works on local files in a thread, so
the event loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import zipfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from casegraph.domain import attachments as kinds
from casegraph.domain.errors import DomainError, validation_failed
from casegraph.services.attachment_store import CHUNK_BYTES, AttachmentStore

THUMBNAIL_SIZE: Final = (320, 320)
# A small file may still decode to an enormous bitmap (a "decompression bomb"): refused past this.
MAX_IMAGE_PIXELS: Final = 40_000_000
PILLOW_FORMATS: Final = {kinds.JPEG: "JPEG", kinds.PNG: "PNG", kinds.GIF: "GIF", kinds.WEBP: "WEBP"}
OOXML_MAIN_PARTS: Final = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": kinds.DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": kinds.XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": kinds.PPTX,
}
ODF_TYPES: Final = frozenset({kinds.ODT, kinds.ODS, kinds.ODP})


class Readable(Protocol):
    """An upload as Starlette hands it over (``UploadFile``): read in chunks, rewound."""

    filename: str | None

    def read(self, size: int = -1) -> Awaitable[bytes]: ...

    def seek(self, offset: int) -> Awaitable[None]: ...


@dataclass(frozen=True)
class Received:
    path: Path
    size: int
    sha256: str
    filename: str | None = None  # as the client named it (unsafe until cleaned)


@dataclass(frozen=True)
class Prepared:
    """What will be kept: the (re-encoded) file, its type and digest, and a thumbnail if an image."""

    path: Path
    content_type: str
    size: int
    sha256: str
    thumbnail: Received | None


async def receive(upload: Readable, store: AttachmentStore, *, max_bytes: int) -> Received:
    """Copy the upload into a staging file in chunks, hashing and counting; over ``max_bytes`` refused."""
    path = store.new_staging_file()
    digest = hashlib.sha256()
    size = 0
    try:
        await upload.seek(0)
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise validation_failed("file", f"The file is over the limit of {max_bytes} bytes.", "TOO_LARGE")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise validation_failed("file", "The file is empty.", "EMPTY")
    return Received(path, size, digest.hexdigest(), upload.filename)


async def upload_digest(upload: Readable) -> str:
    """The SHA-256 of an upload's bytes (what an idempotent repeat must send again), rewound after."""
    digest = hashlib.sha256()
    await upload.seek(0)
    while chunk := await upload.read(CHUNK_BYTES):
        digest.update(chunk)
    await upload.seek(0)
    return digest.hexdigest()


async def prepare(received: Received, store: AttachmentStore) -> Prepared:
    """Sniff the received file; make an image safe (re-encoded, thumbnail). Refusals leave nothing."""
    content_type = await asyncio.to_thread(sniff, received.path)
    if content_type not in kinds.IMAGE_TYPES:
        return Prepared(received.path, content_type, received.size, received.sha256, None)
    clean, thumbnail = store.new_staging_file(), store.new_staging_file()
    try:
        await asyncio.to_thread(_reencode, received.path, clean, thumbnail, content_type)
        return Prepared(clean, content_type, *_measure(clean), thumbnail=Received(thumbnail, *_measure(thumbnail)))
    except BaseException:
        clean.unlink(missing_ok=True)
        thumbnail.unlink(missing_ok=True)
        raise
    finally:
        received.path.unlink(missing_ok=True)


def sniff(path: Path) -> str:
    """The allowed type the bytes are, or VALIDATION_FAILED (an executable named photo.jpg, a macro
    document, anything else off the allow-list)."""
    with path.open("rb") as handle:
        head = handle.read(kinds.SNIFF_BYTES)
    found = kinds.sniff_head(head)
    if found is None and head.startswith(kinds.ZIP_MAGIC):
        found = _office_kind(path)
    if found is None and _is_text(path):
        found = kinds.TEXT
    if found is None or found not in kinds.ALLOWED_TYPES:
        raise validation_failed(
            "file",
            "This kind of file cannot be attached: images, PDF, plain text and office documents can.",
            "TYPE",
        )
    return found


def _office_kind(path: Path) -> str | None:
    """OOXML (its main part's type) or OpenDocument (its ``mimetype`` entry); macros refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
                found = [kind for part, kind in OOXML_MAIN_PARTS.items() if f'ContentType="{part}"' in types]
                return found[0] if len(found) == 1 and "macroEnabled" not in types else None
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return None


def _is_text(path: Path) -> bool:
    """UTF-8 throughout, with no NUL and no control characters but tab, line feed, carriage return."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    allowed = {"\t", "\n", "\r", "\f"}
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                text = decoder.decode(chunk)
                if any(ch < " " and ch not in allowed for ch in text):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _reencode(source: Path, clean: Path, thumbnail: Path, content_type: str) -> None:
    """Decode and encode again: only pixels cross over. Orientation is applied first, so the
    picture stands as taken although its EXIF (which said how to turn it) is gone."""
    try:
        with Image.open(source) as opened:
            if opened.width * opened.height > MAX_IMAGE_PIXELS:
                raise validation_failed("file", "The image has too many pixels.", "UNREADABLE")
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            image = _without_metadata(upright, content_type)
    except DomainError:
        # Our own refusal (too many pixels) passes as it is; only Pillow's errors are translated below.
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise validation_failed("file", "The image could not be read.", "UNREADABLE") from None
    pillow_format = PILLOW_FORMATS[content_type]
    image.save(clean, format=pillow_format, **_save_options(content_type))
    small = image.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    small.save(thumbnail, format=pillow_format, **_save_options(content_type))


def _without_metadata(image: Image.Image, content_type: str) -> Image.Image:
    """A fresh image holding only the pixels (and a palette): no ``info`` is carried to the save."""
    mode = image.mode
    if content_type == kinds.JPEG and mode not in {"RGB", "L", "CMYK"}:
        mode = "RGB"
    elif mode not in {"RGB", "RGBA", "L", "LA", "P", "CMYK", "1"}:
        mode = "RGBA"
    converted = image.convert(mode) if mode != image.mode else image
    fresh = Image.new(converted.mode, converted.size)
    fresh.paste(converted)
    if converted.mode == "P":
        palette = converted.getpalette()
        if palette is not None:
            fresh.putpalette(palette)
        if "transparency" in converted.info:
            fresh.info["transparency"] = converted.info["transparency"]
    return fresh


def _save_options(content_type: str) -> dict[str, object]:
    if content_type == kinds.JPEG:
        return {"quality": 90}
    if content_type == kinds.WEBP:
        return {"quality": 90}
    return {}


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


class HeldBytes:
    """Bytes already in memory (an e-mail's part) read like an upload, so they take the same path."""

    def __init__(self, content: bytes, filename: str | None) -> None:
        self.filename = filename
        self._content = content
        self._offset = 0

    async def read(self, size: int = -1) -> bytes:
        end = len(self._content) if size < 0 else self._offset + size
        chunk = self._content[self._offset : end]
        self._offset += len(chunk)
        return chunk

    async def seek(self, offset: int) -> None:
        self._offset = offset
