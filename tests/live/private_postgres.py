"""A PostgreSQL cluster of a test's own, which the test may stop and start (an outage, a restart).

The session's test server (``scripts/test-services``) is shared by every test; stopping it would
fail the others. This one lives in a directory of its own under the system's temporary directory
(pytest's are private to their owner, and as root the cluster runs as ``postgres``), on a fixed
loopback port so that servers configured with its URL find it again after a restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.live.support import free_port


class PrivatePostgres:
    def __init__(self) -> None:
        pg_bin = os.environ.get("CASEGRAPH_TEST_PG_BIN")
        if not pg_bin or not Path(pg_bin, "pg_ctl").exists():
            if IN_CI:
                pytest.fail("CI must provide CASEGRAPH_TEST_PG_BIN (scripts/with-test-services)")
            pytest.skip("PostgreSQL server binaries not available: run the tests through scripts/with-test-services")
        self.bin = Path(pg_bin)
        self.dir = Path(tempfile.mkdtemp(prefix="casegraph-private-pg."))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root

    @property
    def url(self) -> str:
        return f"postgres://casegraph@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if not self.data.exists():
            if self._as_postgres:
                shutil.chown(self.dir, "postgres")
            self._run("initdb", "-D", str(self.data), "-U", "casegraph", "--auth=trust", "-E", "UTF8")
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (a restart); ``immediate`` is a crash of the server."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if self.data.exists():
            subprocess.run(
                [
                    *(["runuser", "-u", "postgres", "--"] if self._as_postgres else []),
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
