"""Other projects' internals live only in ``casegraph/_compat``, each file pinned to what it follows.

Every module there names the upstream files it follows and their versions
(``# Follows upstream: <distribution> <version>, <file>``). When an upgrade changes an installed
version, or the pin in pyproject.toml, these tests fail and say which file to re-read; the rest
of the tree must not reach into another project's private names at all.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Final, NamedTuple

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
COMPAT: Final = ROOT / "casegraph" / "_compat"
OUR_PACKAGES: Final = ("casegraph", "schema", "resolvers", "models")
HEADER: Final = re.compile(r"^# Follows upstream: (?P<distribution>[A-Za-z0-9_.-]+) (?P<version>\S+), (?P<file>\S+)$")
# Import names of the projects whose internals we follow, and of those we merely depend on.
UPSTREAM_IMPORTS: Final = frozenset(
    {
        "strawberry",
        "graphql",
        "uvicorn",
        "starlette",
        "asyncpg",
        "broadcaster",
        "websockets",
        "tortoise",
        "pypika_tortoise",
        "redis",
        "httpx",
        "aiosqlite",
        "jwt",
        "prometheus_client",
        "orjson",
        "multipart",
        "cross_web",
        "opentelemetry",
    }
)


class Follows(NamedTuple):
    module: str
    distribution: str
    version: str
    file: str


def compat_modules() -> list[Path]:
    return sorted(path for path in COMPAT.glob("*.py") if path.name != "__init__.py")


def follows(path: Path) -> list[Follows]:
    found = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break  # the header is the comment block before the docstring
        match = HEADER.match(line)
        if match:
            found.append(Follows(path.name, match["distribution"], match["version"], match["file"]))
    return found


def all_follows() -> list[Follows]:
    return [entry for path in compat_modules() for entry in follows(path)]


def pinned_versions() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins: dict[str, str] = {}
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        pins[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return pins


def test_the_fenced_place_exists_and_every_module_in_it_names_what_it_follows() -> None:
    modules = compat_modules()
    assert modules, f"no modules in {COMPAT.relative_to(ROOT)}: other projects' internals belong there"
    unnamed = [path.name for path in modules if not follows(path)]
    assert not unnamed, f"{unnamed} must start with '# Follows upstream: <distribution> <version>, <file>' lines"


@pytest.mark.parametrize("entry", all_follows(), ids=lambda entry: f"{entry.module}:{entry.file}")
def test_the_installed_version_is_the_one_the_fenced_module_follows(entry: Follows) -> None:
    installed = importlib.metadata.version(entry.distribution)
    assert installed == entry.version, (
        f"casegraph/_compat/{entry.module} follows {entry.distribution} {entry.version} ({entry.file}), "
        f"but {installed} is installed: re-read {entry.file} in {entry.distribution} {installed}, "
        f"update the module and its header"
    )


@pytest.mark.parametrize("entry", all_follows(), ids=lambda entry: f"{entry.module}:{entry.file}")
def test_the_pinned_version_is_the_one_the_fenced_module_follows_and_the_file_exists(entry: Follows) -> None:
    pinned = pinned_versions().get(entry.distribution.lower())
    assert pinned == entry.version, (
        f"pyproject.toml pins {entry.distribution} to {pinned!r}, but casegraph/_compat/{entry.module} "
        f"follows {entry.version}: re-read {entry.file} for the new version, then update the header"
    )
    files = {str(file) for file in importlib.metadata.files(entry.distribution) or ()}
    assert entry.file in files, f"{entry.distribution} {entry.version} has no {entry.file} (header of {entry.module})"


def private_imports(source: str, name: str) -> list[str]:
    """``from x._y import z``, ``from x.y import _z`` and ``import x._y`` of an upstream project."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [
                f"{name}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if _is_private(alias.name.split("."), [])
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [alias.name for alias in node.names]
            if _is_private(node.module.split("."), names):
                found.append(f"{name}:{node.lineno}: from {node.module} import {', '.join(names)}")
    return found


def _is_private(parts: list[str], names: list[str]) -> bool:
    if parts[0] not in UPSTREAM_IMPORTS:
        return False
    return any(part.startswith("_") for part in parts[1:] + names if not part.startswith("__"))


def test_no_module_outside_the_fenced_place_imports_another_project_s_private_names() -> None:
    outside = [
        path
        for package in OUR_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if COMPAT not in path.parents
    ]
    assert len(outside) > 50, "the package tree was not found"
    offenders = [line for path in outside for line in private_imports(path.read_text(), str(path.relative_to(ROOT)))]
    assert not offenders, (
        "other projects' private names belong in casegraph/_compat (with the version they follow):\n"
        + "\n".join(offenders)
    )


def test_the_guard_reports_private_imports_of_upstream_projects_and_nothing_else() -> None:
    # given a module that reaches into upstream internals three ways, and imports public or own names
    source = (
        "from starlette._utils import get_route_path\n"
        "from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation, _OperationStreamClosed\n"
        "import broadcaster._backends.redis\n"
        "from starlette.types import Scope\n"
        "from casegraph._compat.asyncpg_pool import FairPool\n"
        "from graphql import __version__\n"
    )
    # when the guard reads it
    found = private_imports(source, "sample.py")
    # then exactly the three private imports are reported, by line
    assert [line.split(": ", 1)[0] for line in found] == ["sample.py:1", "sample.py:2", "sample.py:3"]


def tortoise_private_names() -> frozenset[str]:
    """Tortoise's private names on models and query sets, read from the installed Tortoise, plus
    the instance attributes ``Model._init_from_db`` sets (they are not on the class)."""
    from tortoise.models import Model
    from tortoise.queryset import CountQuery, DeleteQuery, QuerySet, UpdateQuery, ValuesListQuery, ValuesQuery

    names = {
        name
        for cls in (Model, QuerySet, ValuesQuery, ValuesListQuery, UpdateQuery, CountQuery, DeleteQuery)
        for name in dir(cls)
        if name.startswith("_") and not name.startswith("__")
    }
    return frozenset(names | {"_saved_in_db", "_partial", "_custom_generated_pk", "_await_when_save"})


def private_tortoise_uses(source: str, name: str, private: frozenset[str], *, own_self: bool) -> list[str]:
    """Attribute uses of Tortoise's private names (``Case._meta``, ``query._make_query()``).

    With ``own_self``, ``self.<name>`` is the module's own class speaking of itself and is not
    reported; models subclass Tortoise's ``Model``, so there ``self`` is Tortoise's too.
    """
    uses = [
        node
        for node in ast.walk(ast.parse(source, name))
        if isinstance(node, ast.Attribute)
        and node.attr in private
        and not (own_self and isinstance(node.value, ast.Name) and node.value.id == "self")
    ]
    return [f"{name}:{node.lineno}: {ast.unparse(node)}" for node in sorted(uses, key=lambda node: node.lineno)]


def test_no_module_outside_the_fenced_place_uses_tortoise_s_private_model_and_query_set_names() -> None:
    private = tortoise_private_names()
    offenders = [
        line
        for package in OUR_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if COMPAT not in path.parents
        for line in private_tortoise_uses(
            path.read_text(), str(path.relative_to(ROOT)), private, own_self=package != "models"
        )
    ]
    assert not offenders, (
        "Tortoise's private model and query-set names belong in casegraph/_compat/tortoise_*.py "
        "(with the version they follow):\n" + "\n".join(offenders)
    )


def test_the_tortoise_guard_reports_private_uses_and_leaves_own_attributes_alone() -> None:
    # given a module that reaches into a model, a query set and a row builder, and keeps its own state
    source = (
        "columns = Case._meta.fields_db_projection\n"
        "query._make_query()\n"
        "case = Case._init_from_db(**row)\n"
        "self._limit = 3\n"
        "meta = Case.describe()\n"
    )
    private = tortoise_private_names()
    # when the guard reads it as one of our modules, and as a model module
    ours = private_tortoise_uses(source, "sample.py", private, own_self=True)
    model = private_tortoise_uses(source, "sample.py", private, own_self=False)
    # then the three private uses are reported, and a model's self._limit is Tortoise's too
    assert [line.split(": ", 1)[0] for line in ours] == ["sample.py:1", "sample.py:2", "sample.py:3"]
    assert [line.split(": ", 1)[0] for line in model] == ["sample.py:1", "sample.py:2", "sample.py:3", "sample.py:4"]
