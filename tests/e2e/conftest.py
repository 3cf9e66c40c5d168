"""End-to-end fixtures: a real ``casegraph serve`` process, headless Chromium, browser windows.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or ``CASEGRAPH_TEST_CHROMIUM``),
driven by Playwright for Python through ``executable_path``: nothing downloads a browser of its
own (``playwright install`` is never run). In CI a missing browser fails the run; elsewhere these
tests are skipped with the reason.

Each window records console errors, uncaught page errors and failed requests; a test fails if
there were any. Screenshots go to ``test-artifacts/screenshots/<test>/`` (git-ignored), named
after the step, plus a ``failure-…`` one per window when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import BACKENDS, IN_CI
from tests.e2e.world import E2EWorld, set_up_e2e_world
from tests.live.support import (
    REPO_ROOT,
    START_TIMEOUT,
    ServerProcess,
    postgres_database,
    run_sync,
    server_env,
    start_server,
    wait_for_status,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Request

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
# Generous for a loaded 2-core machine; auto-waiting returns as soon as the condition holds.
EXPECT_TIMEOUT_MS = 15_000
ACTION_TIMEOUT_MS = 15_000
# The e2e server's CASEGRAPH_AGENCY_CODE: what a partner agency registers it as (referral tests).
E2E_AGENCY_CODE = "CITY"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must be able to run the browser tests: {reason} (.ci/run installs chromium)")
    pytest.skip(reason)


def chromium_executable() -> str:
    candidate = os.environ.get("CASEGRAPH_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(candidate).is_file():
        _unavailable(f"no Chromium at {candidate}: apt-get install chromium")
    return candidate


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import expect, sync_playwright  # a dev dependency, like pytest itself

    chromium_executable()  # skip (or fail in CI) before starting anything
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True)
    yield browser
    browser.close()


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class E2EServer:
    process: ServerProcess
    world: E2EWorld
    backend: str
    env: dict[str, str]
    workdir: Path

    @property
    def url(self) -> str:
        return self.process.http_url

    def restart(self) -> None:
        """Stop the server (SIGTERM) and start it again on the same port and database."""
        self.process.stop()
        port = self.process.port
        log_path = self.workdir / f"{self.process.name}-{port}-restarted.log"
        log_file = log_path.open("wb")
        command = [sys.executable, "-m", "casegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            command,
            env=server_process_env(self.env),
            cwd=self.workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.process = ServerProcess(
            name=self.process.name, port=port, process=process, log_path=log_path, log_file=log_file
        )
        wait_for_status(self.process, "/readyz", 200, timeout=START_TIMEOUT)


def server_process_env(env: dict[str, str]) -> dict[str, str]:
    """What ``start_server`` runs a server with: this environment, none of the caller's CASEGRAPH_*."""
    full = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    full.update(env)
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full.get("PYTHONPATH")]))
    full["PYTHONUNBUFFERED"] = "1"
    return full


@contextlib.contextmanager
def running_e2e_server(
    backend: str, workdir: Path, *, port: int | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[E2EServer]:
    """A server on the backend with the world of tests/e2e/world.py.

    It runs with the development JWT secret, as `make run` does, so the sign-in screens offer
    the people in the database (``/dev/demo-users``) and the tests sign in the way a developer does.
    ``port``: where it listens (an identity provider must know the address to send people back
    to); ``extra_env``: more CASEGRAPH_* settings.
    """
    with _database(backend, workdir) as database_url:
        env = server_env(database_url=database_url, agency_code=E2E_AGENCY_CODE)
        del env["CASEGRAPH_JWT_SECRET"]  # the development secret
        env.update(extra_env or {})
        process = start_server(f"e2e-{backend}", env, workdir, wait_ready=True, port=port)
        server: E2EServer | None = None
        try:
            world = run_sync(lambda: set_up_e2e_world(process.http_url))
            server = E2EServer(process=process, world=world, backend=backend, env=env, workdir=workdir)
            yield server
        finally:
            (server.process if server else process).stop()  # a restart replaced the process


@pytest.fixture(scope="module", params=BACKENDS)
def e2e_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    """One server per backend for the test module."""
    backend = str(request.param)
    with running_e2e_server(backend, tmp_path_factory.mktemp(f"e2e-{backend}")) as server:
        yield server


@pytest.fixture
def server_under_test(e2e_server: E2EServer) -> E2EServer:
    """The server the windows open; a module needing a server of its own overrides this."""
    return e2e_server


class _database:
    """A database URL for the backend: a SQLite file, or a fresh PostgreSQL database."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self._postgres: Any = None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite://{self.workdir / 'e2e.sqlite3'}"
        self._postgres = postgres_database()
        return str(self._postgres.__enter__())

    def __exit__(self, *exc: object) -> None:
        if self._postgres is not None:
            self._postgres.__exit__(*exc)


# --------------------------------------------------------------------------------------------
# Browser windows


@dataclass
class Window:
    """One browser context with one page, and the problems it reported."""

    name: str
    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect console errors matching ``pattern`` (e.g. the browser logging an expected 401)."""
        self.allowed.append(re.compile(pattern))

    def record(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._request_failed)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _request_failed(self, request: Request) -> None:
        # ERR_ABORTED is the browser cancelling a request itself (a reload or navigation while
        # it ran, the page closing): not an answer from the server, nor a fault of the page.
        if request.resource_type != "websocket" and "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def set_marker(self) -> str:
        """A value on `window` that only survives as long as the page is not reloaded."""
        marker = f"{self.name}-{id(self)}"
        self.page.evaluate("(marker) => { window.__marker = marker; }", marker)
        return marker

    def marker(self) -> Any:
        return self.page.evaluate("() => window.__marker ?? null")


@dataclass
class Screens:
    """Numbered screenshots of every window, per step."""

    directory: Path
    windows: list[Window] = field(default_factory=list)
    count: int = 0

    def shoot(self, step: str) -> None:
        self.count += 1
        for window in self.windows:
            path = self.directory / f"{self.count:02d}-{_slug(step)}-{window.name}.png"
            window.page.screenshot(path=str(path), full_page=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    directory = SCREENSHOTS / _slug(request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return Screens(directory)


@pytest.fixture
def open_window(
    browser: Browser, server_under_test: E2EServer, screens: Screens, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """``open_window(name, locale=…)``: a fresh browser context (its own storage) with one page.

    At the end: a failed test gets a screenshot of each window and the server's log tail; a
    test whose windows reported console errors, page errors or failed requests fails.
    """
    windows: list[Window] = []

    def open_(name: str, *, width: int = 1280, height: int = 900, locale: str | None = None) -> Window:
        # `locale` is the browser's language (navigator.languages, Accept-Language); None: Chromium's.
        context = browser.new_context(
            base_url=server_under_test.url, viewport={"width": width, "height": height}, locale=locale
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        window = Window(name=name, context=context, page=context.new_page())
        window.record()
        windows.append(window)
        screens.windows.append(window)
        return window

    yield open_

    try:
        if request.node.stash.get(_CALL_FAILED, False):
            for window in windows:
                window.page.screenshot(path=str(screens.directory / f"failure-{window.name}.png"), full_page=True)
            print(f"--- server log ({server_under_test.backend}) ---\n{server_under_test.process.log_tail(80)}")
        problems = [f"{window.name}: {problem}" for window in windows for problem in window.problems]
    finally:
        for window in windows:
            window.context.close()
    assert not problems, "the pages reported problems:\n" + "\n".join(problems)
