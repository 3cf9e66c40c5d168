"""The upload benchmark's verdict and its files: a rise of a whole file's size fails the run."""

from __future__ import annotations

from bench.attachments import MIB, AttachmentsReport, text_file


def test_an_upload_that_raised_the_servers_memory_by_its_size_fails_the_run() -> None:
    # given: two uploads of 10 MiB, the second held whole by the server
    streamed = AttachmentsReport(file_bytes=10 * MIB, seconds=[0.5, 0.5], rss_growth_kib=[1800, 1200])
    held = AttachmentsReport(file_bytes=10 * MIB, seconds=[0.5, 0.5], rss_growth_kib=[1800, 10 * 1024])
    # then
    assert streamed.passed and not held.passed
    assert streamed.mib_per_second == 20.0
    assert "PASS" in streamed.table() and "FAIL" in held.table()


def test_a_run_without_uploads_does_not_pass() -> None:
    assert not AttachmentsReport(file_bytes=MIB).passed


def test_the_files_are_text_of_the_size_asked_and_differ_by_seed() -> None:
    # when
    first, second = text_file(MIB + 5, seed=1), text_file(MIB + 5, seed=2)
    # then
    assert len(first) == len(second) == MIB + 5 and first != second
    lines = first.decode().splitlines()
    assert len(lines) > 1 and all(line.isascii() and line.isprintable() for line in lines)
