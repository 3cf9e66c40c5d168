"""``casegraph serve`` as deployed (README *Production setup*), one worker, for a benchmark.

One process by default, like PostGraphile's one Node process (``workers`` for more). Production settings: CASEGRAPH_ENV=production
(no GraphiQL or introspection, a real secret), JSON logs at WARNING, metrics on behind a token,
the SLA evaluator and webhook dispatcher running at their defaults. Rate limits are off: the
benchmark is one client sending far more than an agent would.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx

from bench.processes import ServerProcess, running, start_process
from bench.services import free_port
from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings

SECRET: Final = "casegraph-bench-secret-with-at-least-32-bytes"
SETTINGS: Final = Settings(jwt_secret=SECRET)


def token(sub: str, *roles: Role, name: str | None = None) -> str:
    return issue_token(SETTINGS, sub=sub, roles=list(roles), name=name or sub)


def production_env(*, database_url: str, broadcast_url: str, workers: int = 1) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    return {
        **env,
        "CASEGRAPH_ENV": "production",
        "CASEGRAPH_JWT_SECRET": SECRET,
        "CASEGRAPH_DATABASE_URL": database_url,
        "CASEGRAPH_BROADCAST_URL": broadcast_url,
        "CASEGRAPH_WORKERS": str(workers),
        "CASEGRAPH_RATE_LIMITS": "off",
        "CASEGRAPH_LOG_LEVEL": "WARNING",
        "CASEGRAPH_METRICS_TOKEN": "casegraph-bench-metrics-token",
    }


@contextlib.contextmanager
def casegraph_server(
    *, database_url: str, broadcast_url: str, log_dir: Path, workers: int = 1
) -> Iterator[ServerProcess]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_process(
        "casegraph",
        [
            sys.executable,
            "-m",
            "casegraph.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=production_env(database_url=database_url, broadcast_url=broadcast_url, workers=workers),
        # Not the repository: a developer's .env there must not change the deployment.
        cwd=log_dir,
        url=url,
        log_path=log_dir / "casegraph.log",
    )

    def ready(http: httpx.Client) -> bool:
        return http.get(f"{url}/readyz").status_code == 200

    with running(server, ready) as started:
        yield started
