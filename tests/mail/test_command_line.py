"""``casegraph mail failed`` and ``casegraph mail retry`` against a real server process: a mail
the SMTP server refused for good is listed with its reason, re-queued by id, and then sent by the
server's own dispatcher; a wrong id changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
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


INTAKE_SECRET: Final = "an-intake-secret-long-enough-for-production-0123"
SAVED_MAIL: Final = b"""From: Nora Neighbour <nora@example.org>
To: desk@city.example
Subject: Broken streetlight on Elm Street
Message-ID: <fed-1@mail.example>
Content-Type: text/plain; charset=utf-8

The streetlight outside number 12 has been dark for a week.
"""


@pytest.fixture
def intake_desk(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str], Path]]:
    """A server taking mail at /intake/email (as `make run` with an intake secret), on SQLite."""
    env = server_env(
        database_url=f"sqlite://{tmp_path / 'casegraph.sqlite3'}",
        intake_secret=INTAKE_SECRET,
        intake_case_type="POTHOLE",
    )
    server = start_server("mail-feed", env, tmp_path, wait_ready=True)
    try:
        env["CASEGRAPH_PUBLIC_URL"] = server.http_url
        yield server, env, tmp_path
    finally:
        server.stop()


def fed(args: list[str], env: dict[str, str], workdir: Path, mail: bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "casegraph.cli", "mail", "feed", *args],
        env={**{key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}, **env},
        cwd=workdir,
        input=mail.decode(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_saved_mail_fed_to_the_running_server_becomes_a_request(
    intake_desk: tuple[ServerProcess, dict[str, str], Path],
) -> None:
    server, env, workdir = intake_desk
    live_world(server)  # the POTHOLE type the intake files under
    saved = workdir / "light.eml"
    saved.write_bytes(SAVED_MAIL)
    # when: the mail is fed from its file, then the same mail again from stdin
    first = fed([str(saved)], env, workdir, b"")
    again = fed(["-"], env, workdir, SAVED_MAIL)
    # then: taken in as a new request; the repeat (same Message-ID) is the same request, not a second
    assert first.returncode == 0, first.stderr + server.log_tail()
    status, _, body = first.stdout.strip().partition("\t")
    answer = json.loads(body)
    assert status == "201" and answer["action"] == "created" and answer["number"]
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().partition("\t")[2])["caseId"] == answer["caseId"]


def test_a_feed_with_the_wrong_intake_secret_is_refused_and_files_nothing(
    intake_desk: tuple[ServerProcess, dict[str, str], Path],
) -> None:
    server, env, workdir = intake_desk
    live_world(server)
    # when
    refused = fed(
        ["-"], {**env, "CASEGRAPH_INTAKE_SECRET": "not-the-servers-secret-0123456789abcdef"}, workdir, SAVED_MAIL
    )
    without = fed(["-"], {k: v for k, v in env.items() if k != "CASEGRAPH_INTAKE_SECRET"}, workdir, SAVED_MAIL)
    # then
    assert refused.returncode == 1 and refused.stdout.startswith("401\t")
    assert without.returncode == 1 and "CASEGRAPH_INTAKE_SECRET" in without.stderr
