"""Files on a case (issue 18): who may add and remove them, which kinds, under which names.

Pure: standard library only. The two actions are not rows of ``spec/lifecycle.md``; like the
desk's actions (``domain/desk_actions.py``) they are held in a table of the life-cycle table's
own shape, so the services judge a caller and ``Case.attachmentActions`` offers the file picker
alike (beside ``availableActions``, whose buttons are the case's own actions).
Adding a file is a kind of update: whoever may update the case may attach (the requester on their
own case, the case's staff), from the states where they may update it. Removing one purges a file
that should not be there (a wrong upload, personal data); that is the staff's call.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from enum import Enum
from typing import Final

from casegraph.domain import lifecycle
from casegraph.domain.enums import CaseAction, Relation, Role, Workflow
from casegraph.domain.lifecycle import Facts, Grant, Rule, State, Target
from casegraph.domain.relations import Actor

A, R = CaseAction, Relation
# Staff who may see the case's internal files and remove files: the staff relations of UPDATE.
STAFF_RELATIONS: Final = frozenset({R.ASSIGNEE, R.MANAGER, R.GROUP_AGENT})

ATTACHMENT_RULES: Final[Mapping[CaseAction, Rule]] = {
    rule.action: rule
    for rule in (
        # The grants of UPDATE, landing where the case stands: a file alone does not answer an
        # information request (the comment sent with it may, through updateCase).
        Rule(A.ADD_ATTACHMENT, Target.SAME, tuple(Grant(g.who, g.frm) for g in lifecycle.RULES[A.UPDATE].grants)),
        Rule(A.REMOVE_ATTACHMENT, Target.SAME, (Grant(STAFF_RELATIONS, lifecycle.SUBMITTED_NON_TERMINAL),)),
    )
}


class ScanStatus(str, Enum):
    """Where a file stands with the malware scanner."""

    PENDING = "PENDING"  # stored, waiting for the scanner: not served yet
    CLEAN = "CLEAN"  # the scanner found nothing
    INFECTED = "INFECTED"  # quarantined: never served
    NOT_SCANNED = "NOT_SCANNED"  # no scanner is configured: served as it is, and said so
    UNSCANNABLE = "UNSCANNABLE"  # the scanner failed on this file several times: never served


SERVABLE_SCAN_STATUSES: Final = frozenset({ScanStatus.CLEAN, ScanStatus.NOT_SCANNED})


class Variant(str, Enum):
    """What the download route serves of an attachment."""

    ORIGINAL = "original"
    THUMBNAIL = "thumbnail"


JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
PDF, TEXT = "application/pdf", "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
IMAGE_TYPES: Final = frozenset({JPEG, PNG, GIF, WEBP})
OFFICE_TYPES: Final = frozenset({DOCX, XLSX, PPTX, ODT, ODS, ODP})
# What may be attached: what the bytes say, never what the client claims. Office formats that
# carry macros (.docm, legacy OLE .doc/.xls) are not here: they are how documents run code.
ALLOWED_TYPES: Final = IMAGE_TYPES | OFFICE_TYPES | {PDF, TEXT}
# The extension a stored file is offered under when its name has none of its type's.
EXTENSIONS: Final[Mapping[str, tuple[str, ...]]] = {
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    GIF: (".gif",),
    WEBP: (".webp",),
    PDF: (".pdf",),
    TEXT: (".txt", ".text", ".log", ".csv"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    ODT: (".odt",),
    ODS: (".ods",),
    ODP: (".odp",),
}
# Formats told apart by their first bytes alone; ZIP containers and text need a closer look.
MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
)
ZIP_MAGIC: Final = b"PK\x03\x04"
SNIFF_BYTES: Final = 512

FILENAME_LIMIT: Final = 200
FALLBACK_NAME: Final = "attachment"
# Characters a file name must not carry: path separators, and those Windows refuses.
FORBIDDEN_IN_NAMES: Final = frozenset('/\\:*?"<>|')


def sniff_head(head: bytes) -> str | None:
    """The type the first bytes prove, for the formats that such bytes identify; else None.

    ZIP containers (office documents) and plain text are judged from the whole file by the
    caller: a ZIP's kind is in its directory, text is text only if every byte is.
    """
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def clean_filename(raw: str | None, content_type: str) -> str:
    """A name safe to show and to offer for saving: no path, no control or bidi characters.

    What is left of the name the client sent: its last path segment, NFC-normalised, without
    control and format characters (a right-to-left override makes ``photo\u202egpj.exe`` look like
    ``photoexe.jpg``), separators or leading dots, at most ``FILENAME_LIMIT`` characters with its
    extension kept; and it ends in an extension of the type the bytes proved.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if unicodedata.category(ch)[0] not in {"C"} and ch not in FORBIDDEN_IN_NAMES
    )
    name = " ".join(name.split()).lstrip(".").strip()
    extensions = EXTENSIONS.get(content_type, ())
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    if f".{extension.lower()}" not in extensions:
        stem = name
        extension = extensions[0].lstrip(".") if extensions else ""
    stem = stem[: FILENAME_LIMIT - len(extension) - 1].rstrip(" .") or FALLBACK_NAME
    return f"{stem}.{extension}" if extension else stem


def shown_inline(content_type: str, variant: Variant) -> bool:
    """Images (re-encoded by us) may be shown in the page; everything else is saved, never rendered."""
    return variant is Variant.THUMBNAIL or content_type in IMAGE_TYPES


# Who sees internal files: those who see work notes (schema/context.STAFF_VIEW_ROLES).
INTERNAL_VIEW_ROLES: Final = frozenset({Role.AGENT, Role.MANAGER, Role.FIELD_AGENT, Role.ADMIN})


def sees_internal(actor: Actor) -> bool:
    return bool(actor.roles & INTERNAL_VIEW_ROLES)


def available_actions(
    *, workflow: Workflow, state: State, relations: frozenset[Relation], facts: Facts
) -> list[CaseAction]:
    """The attachment actions the viewer may take now, in table order (``Case.attachmentActions``)."""
    if facts.deleted:
        return []
    return [
        action
        for action in ATTACHMENT_RULES
        if lifecycle.decide(
            action=action, workflow=workflow, state=state, relations=relations, facts=facts, rules=ATTACHMENT_RULES
        ).allowed
    ]
