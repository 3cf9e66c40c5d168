"""The Dockerfile cannot be built here (no Docker engine), so its shape is checked instead.

Issue 5 *Deployment*: a multi-stage build, non-root, no build tools in the final image, a health
check — and its install and start commands are the ones the README documents.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from casegraph.app import create_app
from casegraph.cli import build_parser
from casegraph.settings import Settings
from tests.live.support import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "libpq-dev", "python3-dev")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for word, argument in self.instructions if word == keyword]


def dockerfile_stages() -> list[Stage]:
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n\s*", " ", text)  # join continuation lines
    stages: list[Stage] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, argument = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = argument.split()
            stages.append(Stage(base=parts[0], name=parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None))
        else:
            stages[-1].instructions.append((word, argument.strip()))
    return stages


def readme_commands() -> set[str]:
    """Every command line inside the README's shell code blocks."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    commands: set[str] = set()
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, flags=re.DOTALL):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                try:
                    commands.add(" ".join(shlex.split(line)))
                except ValueError:  # part of a multi-line quoted argument (the curl walk-through)
                    commands.add(" ".join(line.split()))
    return commands


def pip_installs(stage: Stage) -> list[str]:
    """The ``pip install`` commands of a stage, with the venv path prefix dropped."""
    found = []
    for run in stage.all("RUN"):
        for command in run.split("&&"):
            words = shlex.split(command)
            if len(words) >= 2 and Path(words[0]).name == "pip" and words[1] == "install":
                found.append(" ".join(["pip", *words[1:]]))
    return found


def start_command(stage: Stage) -> str:
    (cmd,) = stage.all("CMD")
    return " ".join(json.loads(cmd))


def test_the_image_is_built_in_stages_and_the_final_one_has_no_build_tools() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert any(tool in run for run in build.all("RUN") for tool in BUILD_TOOLS)
    assert not any(tool in run for run in final.all("RUN") for tool in BUILD_TOOLS)
    assert any(f"--from={build.name}" in copy for copy in final.all("COPY"))


def test_the_final_image_runs_as_an_unprivileged_user_with_a_health_check() -> None:
    final = dockerfile_stages()[-1]
    (user,) = final.all("USER")
    assert user not in {"root", "0", "0:0"}
    (healthcheck,) = final.all("HEALTHCHECK")
    paths = {route.path for route in create_app(Settings(bind_host="127.0.0.1"), manage_resources=False).routes}  # type: ignore[attr-defined]
    probed = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", healthcheck)
    assert probed is not None and probed.group(2) in paths
    assert probed.group(1) in final.all("EXPOSE")
    assert f"--port {probed.group(1)}" in start_command(final)


def test_the_install_and_start_commands_are_the_ones_the_readme_documents() -> None:
    stages = dockerfile_stages()
    documented = readme_commands()
    installs = [command for stage in stages for command in pip_installs(stage) if "--upgrade pip" not in command]
    assert installs, "the Dockerfile installs casegraph with pip"
    assert set(installs) <= documented
    assert start_command(stages[-1]) in documented


def test_the_start_command_is_one_the_cli_accepts() -> None:
    words = start_command(dockerfile_stages()[-1]).split()
    assert words[0] == "casegraph"
    args = build_parser().parse_args(words[1:])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8000)


def test_the_image_copies_every_package_the_distribution_includes() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {copy.split()[0].removeprefix("./") for copy in dockerfile_stages()[0].all("COPY")}
    assert included <= copied


def test_the_distribution_ships_every_front_end_file() -> None:
    # `pip install .` (the image) must carry the static front ends, not only the Python modules.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["casegraph.web"]
    package = REPO_ROOT / "casegraph" / "web"
    files = [path.relative_to(package) for path in (package / "static").rglob("*") if path.is_file()]
    assert files
    unshipped = [
        str(f) for f in files if not any(f.full_match(p) if hasattr(f, "full_match") else f.match(p) for p in patterns)
    ]
    assert unshipped == []


def image_environment(stage: Stage) -> dict[str, str]:
    """The final stage's ENV settings (``$PATH`` references are left out: the test keeps its own)."""
    values: dict[str, str] = {}
    for env in stage.all("ENV"):
        for assignment in shlex.split(env):
            name, _, value = assignment.partition("=")
            if "$" not in value:
                values[name] = value
    return values


def test_the_image_runs_in_production_and_refuses_to_start_without_a_real_secret(tmp_path: Path) -> None:
    # given: the image's own environment and start command (on a free port, a database of the test's)
    final = dockerfile_stages()[-1]
    environment = image_environment(final)
    words = start_command(final).split()
    port = words.index("--port") + 1
    words[port] = str(free_port())
    database = tmp_path / "casegraph.sqlite3"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env = {**clean, **environment, "CASEGRAPH_DATABASE_URL": f"sqlite://{database}"}
    # when: `docker run casegraph` without an env file
    completed = subprocess.run(
        [sys.executable, "-m", "casegraph.cli", *words[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then
    assert environment["CASEGRAPH_ENV"] == "production"
    assert completed.returncode == 2, completed.stderr
    assert "CASEGRAPH_JWT_SECRET" in completed.stderr
    assert not database.exists()
