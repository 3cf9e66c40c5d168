"""The pure rules of attachments: names made safe, types told by their first bytes, inline or saved."""

from __future__ import annotations

import pytest

from casegraph.domain.attachments import (
    FILENAME_LIMIT,
    GIF,
    JPEG,
    PDF,
    PNG,
    TEXT,
    WEBP,
    Variant,
    clean_filename,
    shown_inline,
    sniff_head,
)


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("IMG_0042.jpg", JPEG, "IMG_0042.jpg"),
        ("C:\\Users\\alice\\Pictures\\hole.JPEG", JPEG, "hole.JPEG"),
        ("../../etc/passwd", TEXT, "passwd.txt"),
        ("photo\u202egpj.exe", JPEG, "photogpj.exe.jpg"),  # a right-to-left override hid ".exe"
        ("in\x00voice\r\n.pdf", PDF, "invoice.pdf"),
        (".htaccess", TEXT, "htaccess.txt"),
        ("report.pdf", PNG, "report.pdf.png"),  # the bytes decide the extension
        ("", GIF, "attachment.gif"),
        (None, WEBP, "attachment.webp"),
        ("a<b>:c|d?.txt", TEXT, "abcd.txt"),
        ("Cafe\u0301 menu.txt", TEXT, "Caf\u00e9 menu.txt"),  # NFC
    ],
)
def test_a_filename_keeps_its_words_and_loses_what_could_mislead_or_escape(
    raw: str | None, content_type: str, expected: str
) -> None:
    assert clean_filename(raw, content_type) == expected


def test_a_long_filename_is_cut_keeping_its_extension() -> None:
    # when
    name = clean_filename("x" * 1000 + ".pdf", PDF)
    # then
    assert len(name) == FILENAME_LIMIT and name.endswith(".pdf")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"GIF89a\x01\x00", GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
        (b"%PDF-1.7\n", PDF),
        (b"MZ\x90\x00", None),
        (b"\x7fELF", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"plain words", None),  # text is judged on the whole file, not its head
    ],
)
def test_the_first_bytes_name_the_formats_they_prove(head: bytes, expected: str | None) -> None:
    assert sniff_head(head) == expected


def test_only_images_and_thumbnails_are_shown_in_the_page() -> None:
    assert shown_inline(JPEG, Variant.ORIGINAL)
    assert shown_inline(PDF, Variant.THUMBNAIL)
    assert not shown_inline(PDF, Variant.ORIGINAL)
    assert not shown_inline(TEXT, Variant.ORIGINAL)
