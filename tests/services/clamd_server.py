"""A real ClamAV daemon for the scanning tests (Debian's ``clamav-daemon``), started on a Unix
socket and a loopback port with a configuration and a signature database the test writes: the
EICAR test file's MD5 signature alone (no freshclam, no download), so it starts in well under a
second."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from casegraph.settings import ClamdAddress

CLAMD: Final = "/usr/sbin/clamd"
START_TIMEOUT: Final = 60.0
# The industry's harmless test file every scanner detects (eicar.org): 68 bytes.
EICAR: Final = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE: Final = "Casegraph-Test-EICAR"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clamd_binary() -> str | None:
    return CLAMD if Path(CLAMD).is_file() else shutil.which("clamd")


@dataclass
class ClamdServer:
    workdir: Path
    binary: str
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.workdir / "clamd.sock"

    @property
    def tcp(self) -> ClamdAddress:
        return ClamdAddress(host="127.0.0.1", port=self.port)

    @property
    def unix(self) -> ClamdAddress:
        return ClamdAddress(socket_path=str(self.socket_path))

    def start(self) -> None:
        database = self.workdir / "db"
        database.mkdir(parents=True, exist_ok=True)
        # A hash signature: MD5:size:name (ClamAV's .hdb format).
        (database / "casegraph-test.hdb").write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{SIGNATURE}\n")
        config = self.workdir / "clamd.conf"
        config.write_text(
            "\n".join(
                [
                    f"DatabaseDirectory {database}",
                    f"LocalSocket {self.socket_path}",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    "Foreground yes",
                    f"LogFile {self.workdir / 'clamd.log'}",
                    f"PidFile {self.workdir / 'clamd.pid'}",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [self.binary, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"clamd exited with {self.process.returncode}: {self.log_tail()}")
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError(f"clamd did not answer within {START_TIMEOUT}s: {self.log_tail()}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"zPING\0")
                return sock.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def log_tail(self) -> str:
        log = self.workdir / "clamd.log"
        return log.read_text()[-2000:] if log.is_file() else "(no log)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
