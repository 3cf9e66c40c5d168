"""The test tree holds tests and what they share; the benchmark and profiling tools live in bench/.

Read from the source itself: a test that imports ``bench`` ties the suite to the benchmark's
harness (and its servers and installs), and a script under ``tests/`` is a tool nobody runs as a
test. Only ``tests/bench/``, which tests the benchmark's own harness, may import it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

TESTS: Final = Path(__file__).resolve().parent
BENCH_TESTS: Final = TESTS / "bench"


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.module


def runs_as_a_script(tree: ast.Module) -> bool:
    """``if __name__ == "__main__":`` at module level."""
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = [node.test.left, *node.test.comparators]
            if any(isinstance(name, ast.Name) and name.id == "__name__" for name in names):
                return True
    return False


def test_only_the_tests_of_the_benchmark_harness_import_bench() -> None:
    # when: every import of every module under tests/ is read
    offenders = [
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path, tree in modules()
        if BENCH_TESTS not in path.parents
        for name in imported(tree)
        if name == "bench" or name.startswith("bench.")
    ]
    # then
    assert not offenders, "tests import bench/ (move the shared piece under tests/):\n" + "\n".join(offenders)


def test_no_module_under_tests_is_a_script() -> None:
    # when
    scripts = [str(path.relative_to(TESTS.parent)) for path, tree in modules() if runs_as_a_script(tree)]
    # then: profiling and measuring tools belong in bench/
    assert not scripts, "scripts under tests/ (move them to bench/):\n" + "\n".join(scripts)
