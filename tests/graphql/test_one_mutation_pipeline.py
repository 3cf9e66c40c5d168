"""One way through a mutation: only the runner (resolvers/pipeline.py) turns a refusal into data.

A resolver that catches ``DomainError`` itself grows its own idempotency, actor and payload
handling next to the runner's and drifts from it; the few places below the resolvers that
translate a refusal on purpose (one refusal into another, or a refusal into a log line or an
HTTP status) say why in a comment as the first line of the handler.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESOLVER_PACKAGES = ("resolvers", "schema")
PACKAGES = (*RESOLVER_PACKAGES, "casegraph")
RUNNER = Path("resolvers/pipeline.py")


@dataclass(frozen=True)
class Handler:
    path: Path
    line: int
    explained: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def _names_domain_error(node: ast.expr | None) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Tuple):
        return any(_names_domain_error(element) for element in node.elts)
    return (isinstance(node, ast.Name) and node.id == "DomainError") or (
        isinstance(node, ast.Attribute) and node.attr == "DomainError"
    )


def domain_error_handlers(source: str, path: Path) -> Iterator[Handler]:
    """Every ``except DomainError`` in ``source``; explained when the handler opens with a comment."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.ExceptHandler) and _names_domain_error(node.type):
            after = lines[node.lineno] if node.lineno < len(lines) else ""
            yield Handler(path, node.lineno, after.strip().startswith("#"))


def _handlers_in_tree() -> Iterator[Handler]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            yield from domain_error_handlers(path.read_text(encoding="utf-8"), relative)


def _misplaced(handlers: list[Handler]) -> list[Handler]:
    """Handlers in resolvers or schema other than the runner's, and unexplained ones elsewhere."""
    found = []
    for handler in handlers:
        if handler.path == RUNNER:
            continue
        if handler.path.parts[0] in RESOLVER_PACKAGES or not handler.explained:
            found.append(handler)
    return found


def test_only_the_runner_turns_refusals_into_payloads_and_errors() -> None:
    # given every `except DomainError` in the application
    handlers = list(_handlers_in_tree())

    # when those outside the runner are checked
    misplaced = _misplaced(handlers)

    # then none is in a resolver, and each of the rest says why it translates a refusal
    assert not misplaced, (
        "catch DomainError only in resolvers/pipeline.py (run_mutation, run_case_change, "
        "refusals_as_errors, hidden_as_none); below the resolvers, open the handler with a comment "
        "saying why the refusal is translated here: " + ", ".join(map(str, misplaced))
    )
    assert any(handler.path == RUNNER for handler in handlers), "the runner itself was not found"


def test_the_guard_sees_a_resolver_that_catches_a_refusal() -> None:
    # given a resolver that catches a refusal itself
    source = (
        "async def resolve(info):\n"
        "    try:\n"
        "        await service()\n"
        "    except (ValueError, errors.DomainError) as refusal:\n"
        "        return Payload(errors=refusal)\n"
    )

    # when the guard reads it
    handlers = list(domain_error_handlers(source, Path("schema/feature.py")))

    # then it is reported
    assert [handler.line for handler in _misplaced(handlers)] == [4]


def test_the_guard_sees_an_unexplained_translation_below_the_resolvers() -> None:
    # given one explained and one unexplained translation in a service
    source = (
        "try:\n"
        "    load()\n"
        "except DomainError:\n"
        "    # A hidden case reads as a missing step: the step's id must not reveal the case.\n"
        "    raise not_found('Step') from None\n"
        "try:\n"
        "    load()\n"
        "except DomainError:\n"
        "    raise not_found('Task') from None\n"
    )

    # when the guard reads it
    handlers = list(domain_error_handlers(source, Path("casegraph/services/feature.py")))

    # then only the unexplained one is reported
    assert [handler.line for handler in _misplaced(handlers)] == [8]
