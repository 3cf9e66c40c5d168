"""One loader mechanism: a class per loader kind, its DataLoader made once per request.

Ad-hoc loaders (a string key and a factory, a dict of lambdas, loaders made inside resolvers)
are what this replaced; a second ``Loaders`` per request threw away the first one's batches.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from casegraph.settings import Settings
from resolvers import loaders as loaders_module
from resolvers.loaders import Loaders, UserById
from tests.helpers import GraphQLClient, World, insert_case

ROOT = Path(__file__).resolve().parents[2]
MECHANISM = Path("resolvers/loaders.py")

# Work notes and tasks are outside the compiled path's plans: resolvers run, and use loaders.
CASE = """
query Case($id: ID!) { case(id: $id) { id requester { id } caseType { code } workNotes { body } tasks { title } } }
"""


def _dataloaders_made(source: str, path: Path) -> Iterator[int]:
    """Lines that build a DataLoader themselves."""
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "DataLoader":
                yield node.lineno


def test_only_the_loader_mechanism_builds_dataloaders() -> None:
    # given every module of the GraphQL layer and the application
    made = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("schema", "resolvers", "casegraph")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) != MECHANISM
        for line in _dataloaders_made(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    ]

    # then none builds a DataLoader of its own: loaders are Loader classes, got with loaders[Kind]
    assert made == [], (
        "declare a Loader subclass (resolvers/loaders.py) and use info.context.loaders[Kind]: " + ", ".join(made)
    )


def test_a_loader_kind_is_made_once_per_set_of_loaders() -> None:
    # given one set of loaders
    loaders = Loaders(actor=None)

    # when the same kind is asked for twice
    first, second = loaders[UserById], loaders[UserById]

    # then both are the same DataLoader (one batch, one cache), and another set has its own
    assert first is second
    assert Loaders(actor=None)[UserById] is not first


async def test_an_http_request_builds_its_loaders_once(
    client: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an agent, and a count of loader sets built
    built: list[Loaders] = []
    original = loaders_module.Loaders.__init__

    def counting(self: Loaders, actor: object) -> None:
        built.append(self)
        original(self, actor)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders_module.Loaders, "__init__", counting)
    case = await insert_case(world)
    token = world.token(settings, "agent")

    # when one authenticated query that resolves relations runs over HTTP
    data = await client.data(CASE, {"id": case.id}, token=token)

    # then it built one set of loaders, for the authenticated agent
    assert data["case"]["id"] == case.id
    assert len(built) == 1
    assert built[0].actor is not None and built[0].actor.user_id == "dana"
