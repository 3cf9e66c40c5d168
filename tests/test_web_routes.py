"""The front ends' routes: pages, static files, and the development sign-in list.

The pages themselves are exercised in a real browser by tests/e2e; here: what the server sends
(content types a browser accepts for ES modules, no stale caching), that every file a page or a
module refers to exists, and that ``/dev/demo-users`` exists only in development and hands out
tokens that work.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.settings import DEV_SECRET, RateLimits, Settings
from casegraph.web import STATIC
from tests.conftest import TEST_SECRET
from tests.helpers import FakeClock, RecordingPublisher, World

JAVASCRIPT_TYPES = ("text/javascript", "application/javascript")
PAGES = {"/": "agent.html", "/portal": "portal.html"}

Serve = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(db: TortoiseContext, clock: FakeClock, publisher: RecordingPublisher) -> Serve:
    """An HTTP client of an app built with the given settings (on the test's database)."""

    @asynccontextmanager
    async def open_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        runtime = Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock, publisher=publisher)
        app = create_app(settings, manage_resources=False, runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield http

    return open_app


def development() -> Settings:
    return Settings(jwt_secret=DEV_SECRET, bind_host="127.0.0.1", rate_limits=RateLimits.off())


@pytest.mark.parametrize("path", sorted(PAGES))
async def test_pages_are_html_that_browsers_revalidate(serve: Serve, path: str) -> None:
    async with serve(development()) as http:
        response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == (STATIC / PAGES[path]).read_text(encoding="utf-8")
    assert '<script type="module"' in response.text


@pytest.mark.parametrize(
    ("path", "types"),
    [
        ("/static/lib/graphql.js", JAVASCRIPT_TYPES),
        ("/static/lib/dom.js", JAVASCRIPT_TYPES),
        ("/static/portal/main.js", JAVASCRIPT_TYPES),
        ("/static/lib/style.css", ("text/css",)),
        ("/static/portal/portal.css", ("text/css",)),
        # imported as a JSON module, which the browser refuses under any other type
        ("/static/portal/i18n/es.json", ("application/json",)),
    ],
)
async def test_static_files_carry_a_type_browsers_accept(serve: Serve, path: str, types: tuple[str, ...]) -> None:
    # A module script served as, say, text/plain is refused by the browser.
    async with serve(development()) as http:
        response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in types
    assert response.content == (STATIC / path.removeprefix("/static/")).read_bytes()


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/nothing-here.js"])
async def test_static_serves_nothing_outside_its_folder(serve: Serve, path: str) -> None:
    async with serve(development()) as http:
        response = await http.get(path)
    assert response.status_code == 404


# The references a page or module makes: <script src>, <link href>, import … from "…".
PAGE_REFERENCE = re.compile(r'(?:src|href)="(/static/[^"]+)"')
MODULE_IMPORT = re.compile(
    r"""(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)"""
)


def _static_files(suffix: str) -> list[Path]:
    return sorted(STATIC.rglob(f"*{suffix}"))


def test_every_file_a_page_refers_to_exists() -> None:
    for page in PAGES.values():
        text = (STATIC / page).read_text(encoding="utf-8")
        references = PAGE_REFERENCE.findall(text)
        assert references, f"{page} loads nothing"
        for reference in references:
            assert (STATIC / reference.removeprefix("/static/")).is_file(), f"{page} refers to missing {reference}"


def test_every_module_import_resolves_to_a_file() -> None:
    modules = _static_files(".js")
    assert modules
    for module in modules:
        for match in MODULE_IMPORT.finditer(module.read_text(encoding="utf-8")):
            target = match.group(1) or match.group(2)
            # No build step and no network but the same origin: only relative imports.
            assert target.startswith(("./", "../")), f"{module.relative_to(STATIC)} imports {target!r}"
            resolved = (module.parent / target).resolve()
            assert resolved.is_file(), f"{module.relative_to(STATIC)} imports missing {target}"
            assert resolved.is_relative_to(STATIC.resolve())


async def test_demo_users_give_working_tokens_in_development(serve: Serve, world: World) -> None:
    async with serve(development()) as http:
        response = await http.get("/dev/demo-users")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        users = {user["id"]: user for user in response.json()}
        assert set(users) == {person.sub for person in world.people.values()}
        for person in world.people.values():
            listed = users[person.sub]
            assert listed["name"] == person.name
            assert sorted(listed["roles"]) == sorted(role.value for role in person.roles)
            me = await http.post(
                "/graphql",
                json={"query": "{ me { id name roles } }"},
                headers={"Authorization": f"Bearer {listed['token']}"},
            )
            assert me.status_code == 200, me.text
            assert me.json()["data"]["me"] == {"id": person.sub, "name": person.name, "roles": listed["roles"]}


async def test_demo_users_are_not_offered_with_a_real_secret(serve: Serve, world: World) -> None:
    async with serve(Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off())) as http:
        response = await http.get("/dev/demo-users")
    assert response.status_code == 404
    assert "token" not in response.text


async def test_demo_users_are_not_offered_in_production(serve: Serve, world: World) -> None:
    settings = Settings(env="production", jwt_secret="x" * 64, metrics_token="m", rate_limits=RateLimits.off())
    async with serve(settings) as http:
        response = await http.get("/dev/demo-users")
        assert response.status_code == 404
        assert "token" not in response.text
        # The pages themselves are served in production too: they are the product.
        assert (await http.get("/portal")).status_code == 200


# --- what the pages allow a browser to do (issue 14 §2) ----------------------------------------------

INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def csp_directives(response: httpx.Response) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for directive in response.headers["content-security-policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = set(sources)
    return directives


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("path", sorted(PAGES))
async def test_pages_run_only_their_own_scripts_and_cannot_be_framed(serve: Serve, path: str, environment: str) -> None:
    # given
    settings = (
        development()
        if environment == "development"
        else Settings(env="production", jwt_secret="x" * 64, metrics_token="m", rate_limits=RateLimits.off())
    )
    # when
    async with serve(settings) as http:
        response = await http.get(path)
    # then: scripts from this origin only, never inline; no framing; no sniffing; no referrer
    directives = csp_directives(response)
    assert directives["script-src"] == {"'self'"}
    assert directives["default-src"] == {"'none'"}
    assert "'unsafe-inline'" not in directives["style-src"] | directives["script-src"]
    assert directives["frame-ancestors"] == {"'none'"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("page", sorted(PAGES.values()))
def test_pages_have_no_inline_script_for_the_policy_to_block(page: str) -> None:
    text = (STATIC / page).read_text(encoding="utf-8")
    assert all(" src=" in tag for tag in SCRIPT_TAG.findall(text)), "every <script> loads a file"
    assert not INLINE_HANDLER.search(text), "no on…= attributes"
    assert " style=" not in text


async def test_static_files_are_never_sniffed(serve: Serve) -> None:
    async with serve(development()) as http:
        response = await http.get("/static/lib/graphql.js")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_pages_learn_the_file_size_limit_they_check_before_sending(serve: Serve) -> None:
    # given: a server whose files may be up to 3 MiB
    settings = Settings(jwt_secret=TEST_SECRET, attachment_max_bytes=3 * 1024 * 1024, rate_limits=RateLimits.off())
    async with serve(settings) as http:
        # when: a page asks (before anyone signed in: the number is in the README anyway)
        response = await http.get("/pages/limits.json")
    # then
    assert response.status_code == 200
    assert response.json() == {"attachmentMaxBytes": 3 * 1024 * 1024}
    assert response.headers["x-content-type-options"] == "nosniff"
