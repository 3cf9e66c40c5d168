"""axe-core in the browser under test: WCAG A/AA violations of a part of a page.

axe-core (exact version and lock in ``axe/``) is installed once with ``npm ci`` into
``.test-services/e2e-axe/<hash of the lock>/``, moved into place only when complete; the page
gets it as an init script, so nothing is fetched by the browser. Without npm, or when the install
fails, the test is skipped (CI refuses to skip it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final, NoReturn

import pytest
from playwright.sync_api import Page

from tests.conftest import IN_CI

SOURCES: Final = Path(__file__).resolve().parent / "axe"
CACHE: Final = SOURCES.parents[2] / ".test-services" / "e2e-axe"
INSTALL_TIMEOUT: Final = 600.0
WCAG_A_AA: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI must run the accessibility checks: {reason}")
    pytest.skip(reason)


def axe_script() -> Path:
    """axe.min.js of the pinned axe-core, installed on first use."""
    lock = (SOURCES / "package-lock.json").read_bytes()
    target = CACHE / hashlib.sha256(lock).hexdigest()[:16]
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is needed to install axe-core")
    staging = CACHE / f"staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SOURCES / name, staging / name)
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        unavailable(f"npm ci of axe-core took over {INSTALL_TIMEOUT:.0f}s")
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        unavailable(f"npm ci of axe-core failed:\n{result.stderr[-2000:]}")
    with contextlib.suppress(OSError):  # another run finished first: keep theirs
        staging.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return script


def with_axe(page: Page) -> None:
    """Give every document ``page`` loads from now on axe-core: an init script, which the pages'
    Content-Security-Policy (``script-src 'self'``) does not stop, where a script tag would be."""
    page.add_init_script(path=str(axe_script()))


def wcag_violations(page: Page, selector: str) -> list[str]:
    """The WCAG 2.1 A/AA rules ``selector``'s part of the page breaks, each with the nodes it names
    (``page`` was given axe-core with ``with_axe`` before it loaded)."""
    found: list[dict[str, Any]] = page.evaluate(
        "async ([selector, tags]) => (await window.axe.run(document.querySelector(selector),"
        " { runOnly: { type: 'tag', values: tags } })).violations"
        ".map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }))",
        [selector, WCAG_A_AA],
    )
    return [f"{v['id']}: {', '.join(v['nodes'])}" for v in found]
