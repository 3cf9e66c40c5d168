"""``casegraph mail failed`` and ``casegraph mail retry`` against a real server process: a mail
the SMTP server refused for good is listed with its reason, re-queued by id, and then sent by the
server's own dispatcher; a wrong id changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import BACKENDS
from tests.live.support import (
    GraphQLHttp,
    ServerProcess,
    create_case,
    live_world,
    postgres_database,
    run_cli,
    server_env,
    start_server,
)
from tests.mail.smtp_server import SmtpServer, running_smtp_server

DEADLINE: Final = 30.0
INTERVAL: Final = 0.05


def wait_until(condition: Callable[[], bool], server: ServerProcess) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(INTERVAL)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture(params=BACKENDS)
def desk(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer
) -> Iterator[tuple[ServerProcess, dict[str, str], Path]]:
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            database_url = stack.enter_context(postgres_database())
        else:
            database_url = f"sqlite://{tmp_path / 'casegraph.sqlite3'}"
        env = server_env(
            database_url=database_url,
            smtp_url=smtp.url(),
            mail_from="Roads desk <desk@city.example>",
            outbox_interval=str(INTERVAL),
        )
        server = start_server(f"mail-cli-{request.param}", env, tmp_path, wait_ready=True)
        stack.callback(server.stop)
        yield server, env, tmp_path


def cli(args: list[str], env: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it (a non-zero exit is an answer too)."""
    return subprocess.run(
        [sys.executable, "-m", "casegraph.cli", *args],
        env={**{key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}, **env},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_operator_lists_a_mail_that_gave_up_and_retries_it(
    desk: tuple[ServerProcess, dict[str, str], Path], smtp: SmtpServer
) -> None:
    server, env, workdir = desk
    # given: alice's acknowledgement, refused for good by the SMTP server
    smtp.recorder.refusals_left = 1
    smtp.recorder.refusal = "550 5.1.1 No such mailbox"
    world = live_world(server)

    async def file() -> None:
        async with GraphQLHttp(server.http_url) as gql:
            await create_case(gql, world, "alice", "Hole on Main St")

    asyncio.run(file())
    wait_until(lambda: smtp.recorder.refused == 1, server)
    wait_until(lambda: "alice@example.org" in run_cli(["mail", "failed"], env, workdir), server)

    # when: the operator lists the failed mails
    listed = run_cli(["mail", "failed"], env, workdir)
    # then: one line with its id, recipient, template, case and the server's answer
    [line] = [line for line in listed.splitlines() if "\t" in line]
    delivery, _, recipient, template, number, attempts, error = line.split("\t")
    assert (recipient, template, attempts) == ("alice@example.org", "received", "1")
    assert number.startswith("CS") and "550" in error and "No such mailbox" in error
    assert "1 failed mail deliveries" in listed

    # when: a wrong id is given beside it
    refused = cli(["mail", "retry", delivery, "3f2b6f1e-0000-4000-8000-000000000000"], env, workdir)
    # then: refused, nothing queued
    assert refused.returncode == 1 and "nothing queued" in refused.stderr
    assert delivery in run_cli(["mail", "failed"], env, workdir)

    # when: the cause is fixed (the server takes mail again) and the operator retries it
    retried = run_cli(["mail", "retry", delivery], env, workdir)
    # then: the server's dispatcher sends it, and nothing is left failed
    assert f"queued\t{delivery}" in retried
    wait_until(lambda: len(smtp.recorder.to("alice@example.org")) == 1, server)
    assert "0 failed mail deliveries" in run_cli(["mail", "failed"], env, workdir)
