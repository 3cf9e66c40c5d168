"""A real OpenID provider on loopback for the sign-in tests: the certified ``oidc-provider`` npm
package (exact versions in ``js/package-lock.json``) run by ``js/provider.mjs``.

The packages are installed once with ``npm ci`` into ``.test-services/oidc-provider-npm/<hash>``
(keyed by the lock file, moved into place only when complete, like tests/federation); nothing
but the npm registry (for that install) and loopback is used. Without node/npm, or when the
install fails, the tests that need the provider are skipped (failed in CI).

Its login and consent pages are oidc-provider's development interactions: any password, the
login names the account (``accounts`` maps logins to their claims). Every client must use PKCE.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, NoReturn

import pytest

from tests.conftest import IN_CI
from tests.live.support import REPO_ROOT, free_port

JS_SOURCES: Final = Path(__file__).resolve().parent / "js"
NPM_CACHE: Final = REPO_ROOT / ".test-services" / "oidc-provider-npm"
INSTALL_TIMEOUT: Final = 600.0
READY_TIMEOUT: Final = 60.0
STOP_TIMEOUT: Final = 10.0
MIN_NODE_MAJOR: Final = 20
NPM_QUIET: Final = {"npm_config_audit": "false", "npm_config_fund": "false", "npm_config_update_notifier": "false"}
CLIENT_ID: Final = "casegraph"
CLIENT_SECRET: Final = "casegraph-test-client-secret"
# The development pages of oidc-provider import a web font; a test browser has no Internet.
FONT_URLS: Final = "https://fonts.googleapis.com/**"


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI must run the OpenID provider tests: {reason}")
    pytest.skip(reason)


def node_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env.update(NPM_QUIET)
    return env


def node_binary() -> str:
    binary, npm = shutil.which("node"), shutil.which("npm")
    if binary is None or npm is None:
        unavailable("node and npm are needed for the OpenID provider tests")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE_MAJOR:
        unavailable(f"node {version} is older than {MIN_NODE_MAJOR}")
    return binary


def installed_provider() -> Path:
    """A directory with the locked packages installed and ``provider.mjs`` beside them."""
    lock = (JS_SOURCES / "package-lock.json").read_bytes()
    target = NPM_CACHE / hashlib.sha256(lock).hexdigest()[:16]
    if not (target / "node_modules").is_dir():
        staging = NPM_CACHE / f"staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_SOURCES / name, staging / name)
        npm = shutil.which("npm")
        assert npm is not None
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=staging,
                env=node_env(),
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"npm ci of oidc-provider took over {INSTALL_TIMEOUT:.0f}s")
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"npm ci of oidc-provider failed:\n{result.stderr[-2000:]}")
        with contextlib.suppress(OSError):  # another run finished first: keep theirs
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    shutil.copyfile(JS_SOURCES / "provider.mjs", target / "provider.mjs")
    return target


@dataclass
class OpenIdProvider:
    """A running provider: its issuer URL, and the client registered for one casegraph server."""

    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def server_env(self, **more: str) -> dict[str, str]:
        """The CASEGRAPH_OIDC_* settings of a casegraph server signing people in here."""
        env = {
            "CASEGRAPH_OIDC_ISSUER": self.issuer,
            "CASEGRAPH_OIDC_CLIENT_ID": self.client_id,
            "CASEGRAPH_OIDC_CLIENT_SECRET": self.client_secret,
        }
        env.update({f"CASEGRAPH_OIDC_{key.upper()}": value for key, value in more.items()})
        return env

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.log_file.close()


@contextlib.contextmanager
def running_provider(
    workdir: Path, *, redirect_uris: list[str], accounts: Mapping[str, Mapping[str, Any]]
) -> Iterator[OpenIdProvider]:
    """The provider on a free loopback port, with one confidential client for ``redirect_uris``."""
    node = node_binary()
    directory = installed_provider()
    port = free_port()
    config = {
        "port": port,
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris}],
        "accounts": accounts,
    }
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"oidc-provider-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [node, str(directory / "provider.mjs"), json.dumps(config)],
        cwd=directory,
        env=node_env(),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    provider = OpenIdProvider(issuer=f"http://127.0.0.1:{port}", process=process, log_path=log_path, log_file=log_file)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while f"listening {provider.issuer}" not in provider.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the OpenID provider did not start:\n{provider.log()[-4000:]}")
            time.sleep(0.1)
        yield provider
    finally:
        provider.stop()
