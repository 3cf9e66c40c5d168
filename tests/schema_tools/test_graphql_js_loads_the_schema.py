"""The committed ``schema.public.graphql`` loads in graphql-js as it is, with the whole API in it.

Runs the real graphql-js (pinned in ``js/package.json`` and ``js/package-lock.json``, installed
with ``npm ci`` once into ``.test-services/schema-tools-npm/``) on the committed files:
``buildSchema`` is what GraphQL Code Generator, graphql-inspector and @graphql-eslint load a
schema file with. The federation SDL (``schema.graphql``) is for gateways; graphql-js refuses
it, which is why the plain file exists. Without node/npm the tests are skipped (failed in CI).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final, NoReturn

import pytest

from casegraph._compat.strawberry_schema import graphql_schema
from schema import build_schema
from schema.public_sdl import FEDERATION_FIELDS
from tests.conftest import IN_CI
from tests.live.support import REPO_ROOT

JS_SOURCES: Final = Path(__file__).resolve().parent / "js"
NPM_CACHE: Final = REPO_ROOT / ".test-services" / "schema-tools-npm"
INSTALL_TIMEOUT: Final = 300.0
PUBLIC_SDL: Final = REPO_ROOT / "schema.public.graphql"
FEDERATION_SDL: Final = REPO_ROOT / "schema.graphql"
NPM_QUIET: Final = {"npm_config_audit": "false", "npm_config_fund": "false", "npm_config_update_notifier": "false"}


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI must run the graphql-js tests: {reason}")
    pytest.skip(reason)


def node_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env.update(NPM_QUIET)
    return env


@pytest.fixture(scope="module")
def graphql_js() -> Path:
    """A directory with the locked graphql-js installed and our script beside it (keyed by the lock)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed to load the schema with graphql-js")
    lock = (JS_SOURCES / "package-lock.json").read_bytes()
    target = NPM_CACHE / hashlib.sha256(lock).hexdigest()[:16]
    if not (target / "node_modules").is_dir():
        staging = NPM_CACHE / f"staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_SOURCES / name, staging / name)
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
            unavailable(f"npm ci of graphql-js took over {INSTALL_TIMEOUT:.0f}s")
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"npm ci of graphql-js failed:\n{result.stderr[-2000:]}")
        with contextlib.suppress(OSError):  # another run finished first: keep theirs
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    shutil.copyfile(JS_SOURCES / "build-schema.mjs", target / "build-schema.mjs")
    return target


def build_schema_in_node(directory: Path, sdl: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None
    return subprocess.run(
        [node, "build-schema.mjs", str(sdl)],
        cwd=directory,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def served_root_fields() -> dict[str, set[str]]:
    served = graphql_schema(build_schema())
    roots = {"query": served.query_type, "mutation": served.mutation_type, "subscription": served.subscription_type}
    return {kind: set(root.fields) if root is not None else set() for kind, root in roots.items()}


def test_build_schema_loads_the_committed_public_sdl_with_every_root_field(graphql_js: Path) -> None:
    # when
    loaded = build_schema_in_node(graphql_js, PUBLIC_SDL)
    # then: it loads, with the root fields the server serves (federation's own left out)
    assert loaded.returncode == 0, loaded.stderr
    found: dict[str, Any] = json.loads(loaded.stdout)
    served = served_root_fields()
    assert set(found["query"]) == served["query"] - FEDERATION_FIELDS
    assert set(found["mutation"]) == served["mutation"]
    assert set(found["subscription"]) == served["subscription"]
    assert found["types"] > 100


def test_build_schema_refuses_the_federation_sdl_which_is_why_the_public_one_exists(graphql_js: Path) -> None:
    loaded = build_schema_in_node(graphql_js, FEDERATION_SDL)
    assert loaded.returncode != 0
    assert 'Unknown directive "@link"' in loaded.stderr
