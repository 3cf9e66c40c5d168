"""Attachments: upload throughput, and does a 10 MiB upload raise the server's memory by 10 MiB?

Starts ``casegraph serve`` as deployed (``bench.casegraph_server``: production settings, SQLite,
the local directory store), and uploads ``files`` files of ``size`` bytes one after another to one
case through ``addAttachment`` as a GraphQL multipart request, as the pages send them. Before each
upload the server's high-water mark (VmHWM) is started afresh from its resident set
(``bench.procstat.reset_peak_rss``); after it, the rise of that peak is that upload's memory. A
server that streams the file to its store stays far below the file's size; one that holds it whole
(or copies it) rises by the file's size or more (``passed``: every rise under ``size``).

The files are plain text (the sniffer reads them through, as it does every upload): an image is
decoded into a bitmap to strip its metadata, whose memory is the picture's pixels, not the upload's.

    python -m bench.run --only attachments
    python -m bench.attachments [--files N] [--size-mib M]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

from bench.casegraph_server import casegraph_server, token
from bench.procstat import peak_rss_growth_kib, reset_peak_rss, rss_kib
from bench.report import table
from casegraph.domain.enums import Role

MIB: Final = 1024 * 1024
FILE_BYTES: Final = 10 * MIB
FILES: Final = 5
ADD: Final = """mutation Add($input: AddAttachmentInput!) {
  addAttachment(input: $input) { attachment { id size } errors { code message } }
}"""


@dataclass
class AttachmentsReport:
    file_bytes: int
    seconds: list[float] = field(default_factory=list)
    # Per upload: how far the server's resident set peaked above where it stood before (KiB).
    rss_growth_kib: list[int] = field(default_factory=list)
    baseline_rss_kib: int = 0

    @property
    def mib_per_second(self) -> float:
        return len(self.seconds) * self.file_bytes / MIB / sum(self.seconds) if self.seconds else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.rss_growth_kib) and max(self.rss_growth_kib) * 1024 < self.file_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "file_bytes": self.file_bytes,
            "seconds": self.seconds,
            "mib_per_second": self.mib_per_second,
            "rss_growth_kib": self.rss_growth_kib,
            "baseline_rss_kib": self.baseline_rss_kib,
            "passed": self.passed,
        }

    def table(self) -> str:
        size = self.file_bytes / MIB
        title = (
            f"Attachments: {len(self.seconds)} uploads of {size:g} MiB (multipart, one after another) to a "
            f"server of {self.baseline_rss_kib / 1024:,.1f} MiB resident "
            f"({'PASS' if self.passed else 'FAIL'}: each upload raises the server's peak RSS by less than {size:g} MiB)"
        )
        rows = [
            [f"upload {number}", f"{seconds * 1000:,.0f}", f"{size / seconds:,.1f}", f"{growth / 1024:+,.1f}"]
            for number, (seconds, growth) in enumerate(zip(self.seconds, self.rss_growth_kib, strict=True), 1)
        ]
        rows.append(["all", f"{sum(self.seconds) * 1000:,.0f}", f"{self.mib_per_second:,.1f}", ""])
        return title + "\n" + table(["", "time (ms)", "MiB/s", "peak RSS rise (MiB)"], rows)


def text_file(size: int, seed: int) -> bytes:
    """``size`` bytes of printable text, different for each seed (no two uploads share their bytes)."""
    line = "".join(random.Random(seed).choices(string.ascii_letters + " ", k=127)) + "\n"
    whole, rest = divmod(size, len(line))
    return (line * whole + line[:rest]).encode()


async def _gql(http: httpx.AsyncClient, tok: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {tok}"}
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def _a_case(http: httpx.AsyncClient) -> str:
    """A case type and a constituent's case to attach to; its id."""
    admin = token("admin", Role.ADMIN)
    await _gql(http, admin, "{ me { id } }")
    await _gql(
        http, admin, 'mutation { createAssignmentGroup(input: {code: "ROADS", name: "Roads"}) { errors { code } } }'
    )
    await _gql(
        http,
        admin,
        'mutation { createCaseType(input: {code: "POTHOLE", name: "Pothole", '
        'workflow: PUBLIC_SERVICE, assignmentGroupCode: "ROADS"}) { errors { code } } }',
    )
    data = await _gql(
        http,
        token("alice", Role.CONSTITUENT),
        'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Files", description: "Photos follow", '
        "impact: 2, urgency: 2}) { case { id } errors { code } } }",
    )
    return str(data["createCase"]["case"]["id"])


async def upload(http: httpx.AsyncClient, tok: str, case_id: str, name: str, content: bytes) -> dict[str, Any]:
    """One addAttachment as the GraphQL multipart request spec sends it; the attachment."""
    operations = {"query": ADD, "variables": {"input": {"caseId": case_id, "file": None}}}
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (name, content, "text/plain")},
        headers={"Authorization": f"Bearer {tok}"},
    )
    response.raise_for_status()
    payload = response.json()["data"]["addAttachment"]
    if payload["errors"]:
        raise RuntimeError(payload["errors"])
    return dict(payload["attachment"])


async def measure_uploads(base_url: str, pid: int, *, files: int, size: int) -> AttachmentsReport:
    """Upload ``files`` files of ``size`` bytes to a fresh case on the server at ``base_url``
    (process ``pid``), each timed and with the server's peak RSS rise."""
    report = AttachmentsReport(file_bytes=size)
    alice = token("alice", Role.CONSTITUENT)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        case_id = await _a_case(http)
        # One small upload first: what the first upload loads once (modules, the store's folders)
        # is not what an upload costs.
        await upload(http, alice, case_id, "warm-up.txt", text_file(4096, seed=-1))
        report.baseline_rss_kib = rss_kib(pid)
        for number in range(files):
            content = text_file(size, seed=number)
            before = rss_kib(pid)
            reset_peak_rss(pid)
            started = time.perf_counter()
            attachment = await upload(http, alice, case_id, f"file-{number}.txt", content)
            report.seconds.append(time.perf_counter() - started)
            report.rss_growth_kib.append(peak_rss_growth_kib(pid, before))
            if attachment["size"] != size:
                raise RuntimeError(f"stored {attachment['size']} bytes of {size}")
    return report


def run_attachments(*, files: int = FILES, size: int = FILE_BYTES) -> AttachmentsReport:
    """The upload benchmark against a fresh server; raises if the server or an upload fails."""
    with tempfile.TemporaryDirectory(prefix="casegraph-bench-attachments.") as tmp:
        workdir = Path(tmp)
        with casegraph_server(
            database_url=f"sqlite://{workdir / 'attachments.sqlite3'}", broadcast_url="memory://", log_dir=workdir
        ) as server:
            return asyncio.run(measure_uploads(server.url, server.pid, files=files, size=size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--size-mib", type=float, default=FILE_BYTES / MIB)
    args = parser.parse_args()
    report = run_attachments(files=args.files, size=int(args.size_mib * MIB))
    print(report.table())
    print(f"(on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
