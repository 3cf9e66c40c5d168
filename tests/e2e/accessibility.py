"""axe-core in the e2e pages: WCAG 2 A and AA rules over a part of the page.

axe-core (its exact version in ``js/package.json``, locked by ``js/package-lock.json``) is
installed once with ``npm ci`` into ``.test-services/e2e-npm/<hash of the lock>/``, moved into
place only once complete, as tests/federation does with its packages. Without npm, or when the
install fails, the check is skipped locally and fails in CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import Page

from tests.conftest import IN_CI
from tests.live.support import REPO_ROOT

JS_SOURCES: Final = Path(__file__).resolve().parent / "js"
NPM_CACHE: Final = REPO_ROOT / ".test-services" / "e2e-npm"
INSTALL_TIMEOUT: Final = 300.0
WCAG_AA: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the accessibility checks: {reason}")
    pytest.skip(reason)


@cache
def axe_source() -> str:
    """The text of axe.min.js, installed on first use."""
    lock = (JS_SOURCES / "package-lock.json").read_bytes()
    target = NPM_CACHE / hashlib.sha256(lock).hexdigest()[:16]
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is needed to install axe-core")
        assert npm is not None
        staging = NPM_CACHE / f"staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_SOURCES / name, staging / name)
        env = {
            **os.environ,
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            "npm_config_update_notifier": "false",
        }
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=staging,
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            _unavailable(f"npm ci of axe-core took over {INSTALL_TIMEOUT:.0f}s")
            raise
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            _unavailable(f"npm ci of axe-core failed:\n{result.stderr[-2000:]}")
        with contextlib.suppress(OSError):  # another run finished first: keep theirs
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return script.read_text(encoding="utf-8")


def wcag_violations(page: Page, selector: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations inside ``selector``: rule id, impact and the nodes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugging protocol, which the pages' CSP (no inline script)
        # does not govern, unlike a <script> added to the page.
        page.evaluate(f"{axe_source()}\n;undefined")
    results: dict[str, Any] = page.evaluate(
        "([selector, tags]) => axe.run(document.querySelector(selector), { runOnly: { type: 'tag', values: tags } })",
        [selector, WCAG_AA],
    )
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results["violations"]
    ]
