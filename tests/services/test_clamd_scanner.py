"""The clamd client (issue 18) against a real clamd: INSTREAM over TCP and a Unix socket, EICAR
found, a clean file cleared, clamd away reported as unavailable (never as clean)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from casegraph.domain.attachments import ScanStatus
from casegraph.services.attachment_store import LocalDirectoryStore
from casegraph.services.clamd_scanner import ClamdScanner, ScanFailed, ScannerUnavailable, Verdict, parse_reply
from casegraph.settings import ClamdAddress, parse_clamd_address
from tests.services.clamd_server import EICAR, SIGNATURE, ClamdServer


async def kept(tmp_path: Path, content: bytes) -> tuple[LocalDirectoryStore, str]:
    store = LocalDirectoryStore(tmp_path / "store")
    staged = store.new_staging_file()
    staged.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    await store.keep(staged, digest)
    return store, digest


@pytest.mark.parametrize("transport", ["tcp", "unix"])
async def test_clamd_finds_the_eicar_file_and_clears_a_letter(
    clamd_server: ClamdServer, tmp_path: Path, transport: str
) -> None:
    # given: clamd at its address; the EICAR test file and a letter in a store
    scanner = ClamdScanner(clamd_server.tcp if transport == "tcp" else clamd_server.unix)
    store, eicar = await kept(tmp_path, EICAR)
    _, letter = await kept(tmp_path, b"Dear city, the pothole on Elm Street is back.\n" * 4000)
    # when
    infected = await scanner.verdict(store, eicar)
    clean = await scanner.verdict(store, letter)
    # then
    assert infected.status is ScanStatus.INFECTED and infected.signature is not None
    assert infected.signature.startswith(SIGNATURE)
    assert clean == Verdict(ScanStatus.CLEAN)
    assert await scanner.scan(store, eicar) is ScanStatus.INFECTED


async def test_clamd_away_is_unavailable_not_clean(tmp_path: Path) -> None:
    # given: addresses where no clamd listens
    store, letter = await kept(tmp_path, b"A letter.\n")
    for address in (ClamdAddress(host="127.0.0.1", port=1), ClamdAddress(socket_path=str(tmp_path / "none.sock"))):
        # when / then
        with pytest.raises(ScannerUnavailable):
            await ClamdScanner(address).verdict(store, letter)


async def test_bytes_missing_from_the_store_are_not_blamed_on_clamd(clamd_server: ClamdServer, tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(FileNotFoundError):
        await ClamdScanner(clamd_server.tcp).verdict(store, hashlib.sha256(b"gone").hexdigest())


def test_clamds_answers_are_read_strictly() -> None:
    assert parse_reply(b"stream: OK\0") == Verdict(ScanStatus.CLEAN)
    assert parse_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\0") == Verdict(ScanStatus.INFECTED, "Win.Test.EICAR_HDB-1")
    for reply in (b"INSTREAM size limit exceeded. ERROR\0", b"stream: lstat() failed ERROR\0", b""):
        # clamd could not scan this file: the file's failure, not clamd away (the others go on).
        with pytest.raises(ScanFailed):
            parse_reply(reply)


def test_the_clamd_address_is_tcp_or_a_unix_socket() -> None:
    assert parse_clamd_address("tcp://127.0.0.1:3310") == ClamdAddress(host="127.0.0.1", port=3310)
    assert parse_clamd_address("unix:///run/clamav/clamd.ctl") == ClamdAddress(socket_path="/run/clamav/clamd.ctl")
    assert parse_clamd_address("") is None and parse_clamd_address(None) is None
    for wrong in ("tcp://127.0.0.1", "http://clamd:3310", "clamd:3310", "unix://host/path"):
        with pytest.raises(ValueError, match="CASEGRAPH_CLAMD_URL"):
            parse_clamd_address(wrong)
