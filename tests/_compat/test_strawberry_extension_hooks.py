"""Extension hooks classified once per class (casegraph/_compat/strawberry_extension_hooks.py) run
as Strawberry's own classification runs them: the same hooks, in the same order, around the same
stages, for generator, async generator and plain-callable hooks alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase

from casegraph._compat import strawberry_extension_hooks
from schema import build_schema


class Recording(SchemaExtension):
    """A generator hook, an async generator hook and a plain coroutine hook; no parsing hook."""

    calls: list[str]

    def on_operation(self) -> Iterator[None]:
        self.calls.append("operation:enter")
        yield
        self.calls.append("operation:exit")

    async def on_execute(self) -> AsyncIterator[None]:
        self.calls.append("execute:enter")
        yield
        self.calls.append("execute:exit")

    async def on_validate(self) -> None:  # type: ignore[override]  # a plain callable hook
        self.calls.append("validate")


class Refusing(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise RuntimeError("refused before execution")
        yield  # pragma: no cover


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


async def _run(extension: type[SchemaExtension]) -> tuple[list[str], list[str]]:
    calls: list[str] = []

    def made() -> SchemaExtension:
        instance = extension()
        instance.calls = calls  # type: ignore[attr-defined]
        return instance

    result = await strawberry.Schema(query=Query, extensions=[made]).execute("{ hello }")
    return calls, [error.message for error in result.errors or ()]


async def test_hooks_run_as_strawberry_runs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    upstream = strawberry_extension_hooks._upstream_get_hook
    # when
    with monkeypatch.context() as patched:
        patched.setattr(ExtensionContextManagerBase, "get_hook", strawberry_extension_hooks.get_hook)
        ours = [await _run(Recording), await _run(Recording), await _run(Refusing)]
    with monkeypatch.context() as unpatched:
        unpatched.setattr(ExtensionContextManagerBase, "get_hook", upstream)
        theirs = [await _run(Recording), await _run(Recording), await _run(Refusing)]
    # then
    assert ours == theirs
    assert ours[0] == (["operation:enter", "validate", "execute:enter", "execute:exit", "operation:exit"], [])


def test_the_schema_uses_the_classified_hooks_once_a_schema_is_built() -> None:
    # when
    build_schema()
    # then
    assert ExtensionContextManagerBase.get_hook is strawberry_extension_hooks.get_hook
