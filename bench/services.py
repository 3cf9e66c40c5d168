"""Private PostgreSQL 15 (with pg_stat_statements) and Redis servers on loopback for one run.

Like ``scripts/test-services``, but PostgreSQL preloads ``pg_stat_statements``: both GraphQL
servers' SQL is then counted the same way, by the database (``sum(calls)`` over the run). Each
server lives in a fresh temporary directory that ``stop`` removes; the context managers stop
them on any exit, Ctrl-C included, so a run leaves no server behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import asyncpg

PG_MAJOR: Final = "15"
PG_USER: Final = "casegraph"
BENCH_DATABASE: Final = "casegraph_bench"


class ServiceUnavailable(RuntimeError):
    """A server binary the benchmark needs is not installed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pg_bin_dir() -> Path:
    """PostgreSQL 15's server binaries (the issue's version), else the newest installed."""
    preferred = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
    if (preferred / "postgres").exists():
        return preferred
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ServiceUnavailable("PostgreSQL server binaries not found (apt-get install -y postgresql)")
    return found[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the bench runs as root in CI, like the test services.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PrivatePostgres:
    directory: Path
    port: int
    bin_dir: Path

    @property
    def admin_url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        """The benchmark database (created by ``create_bench_database``)."""
        return self.database_url(BENCH_DATABASE)

    def database_url(self, database: str) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def version(self) -> str:
        out = subprocess.run([str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True)
        return out.stdout.strip().removeprefix("postgres (PostgreSQL) ")

    def server_pids(self) -> list[int]:
        """The postmaster's pid (its backends are its children)."""
        pid_file = self.directory / "data" / "postmaster.pid"
        return [int(pid_file.read_text().splitlines()[0])] if pid_file.exists() else []

    def stop(self) -> None:
        data = self.directory / "data"
        if data.exists():
            subprocess.run(
                _as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> PrivatePostgres:
    bin_dir = pg_bin_dir()
    if shutil.which("runuser") is None and os.geteuid() == 0:
        raise ServiceUnavailable("running as root needs runuser to start PostgreSQL as 'postgres'")
    directory = Path(tempfile.mkdtemp(prefix="casegraph-bench-pg."))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
    server = PrivatePostgres(directory=directory, port=free_port(), bin_dir=bin_dir)
    try:
        data = directory / "data"
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8"]),
            capture_output=True,
            check=True,
        )
        # Durability settings do not matter to a read benchmark and speed up the data load;
        # max_connections leaves room for 32 wrk connections' worth of server pools.
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {server.port}",
                f"-k {directory}",
                "-c shared_preload_libraries=pg_stat_statements",
                "-c pg_stat_statements.track=top",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c shared_buffers=256MB",
            ]
        )
        subprocess.run(
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            capture_output=True,
            check=True,
        )
    except BaseException:
        server.stop()
        raise
    return server


async def create_bench_database(server: PrivatePostgres, database: str = BENCH_DATABASE) -> None:
    """An empty database ``database`` (dropped first if it exists) with pg_stat_statements."""
    connection = await asyncpg.connect(server.admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    bench = await asyncpg.connect(server.database_url(database).replace("postgres://", "postgresql://", 1))
    try:
        await bench.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await bench.close()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class PrivateRedis:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_redis() -> PrivateRedis:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceUnavailable("redis-server not found (apt-get install -y redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="casegraph-bench-redis."))
    port = free_port()
    # In the foreground as our child: stopping it is a plain terminate of a pid we own.
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = PrivateRedis(directory=directory, port=port, process=process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return server
        time.sleep(0.05)
    server.stop()
    raise ServiceUnavailable("redis-server did not start listening within 10 s")


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis | None]:
    """A Redis server, or None (with the reason printed) when redis-server is missing."""
    try:
        server = start_redis()
    except ServiceUnavailable as missing:
        print(f"note: {missing}; casegraph uses the memory:// broadcast channel instead")
        yield None
        return
    try:
        yield server
    finally:
        server.stop()
