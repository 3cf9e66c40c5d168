"""Server processes the benchmark starts: started as our children, always stopped by us.

Each child gets PR_SET_PDEATHSIG, so even if the harness itself is killed outright the kernel
sends the server SIGTERM; a normal exit, an exception or Ctrl-C stops it through ``stop``.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import httpx

from bench.procstat import peak_rss_kib, process_tree

PR_SET_PDEATHSIG: Final = 1
START_TIMEOUT: Final = 60.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def tree(self) -> list[int]:
        return process_tree(self.pid)

    def peak_rss_kib(self) -> int:
        return peak_rss_kib(self.tree())

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_process(
    name: str, command: Sequence[str], *, env: dict[str, str], cwd: Path | None, url: str, log_path: Path
) -> ServerProcess:
    log = log_path.open("wb")
    process = subprocess.Popen(
        list(command),
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    return ServerProcess(name=name, process=process, url=url, log_path=log_path, log=log)


def wait_until_ready(server: ServerProcess, ready: Callable[[httpx.Client], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if ready(http):
                    return
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} was not ready within {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def running(server: ServerProcess, ready: Callable[[httpx.Client], bool]) -> Iterator[ServerProcess]:
    try:
        wait_until_ready(server, ready)
        yield server
    finally:
        server.stop()
