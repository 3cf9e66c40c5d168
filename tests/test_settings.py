"""Where configuration comes from: the environment first, then an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from casegraph.settings import Settings


def test_a_dotenv_file_supplies_what_the_environment_does_not(tmp_path: Path) -> None:
    # given: a .env with a comment, a quoted value and a value the environment also sets
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        '# local overrides\nCASEGRAPH_AGENCY_CODE="METRO"\nCASEGRAPH_MAX_DEPTH = 9\nCASEGRAPH_MAX_ALIASES=8\n',
        encoding="utf-8",
    )
    # when
    settings = Settings.from_env({"CASEGRAPH_MAX_ALIASES": "12"}, dotenv=dotenv)
    # then: the file fills the gaps, its quotes and spaces dropped; the environment wins
    assert settings.agency_code == "METRO"
    assert settings.query_limits.max_depth == 9
    assert settings.query_limits.max_aliases == 12


def test_without_a_dotenv_file_only_the_environment_counts(tmp_path: Path) -> None:
    # when: the file named does not exist
    settings = Settings.from_env({"CASEGRAPH_AGENCY_CODE": "METRO"}, dotenv=tmp_path / ".env")
    # then: no error, no warning (warnings are errors under pytest here), the environment's value
    assert settings.agency_code == "METRO"
    assert settings.query_limits.max_depth == Settings.from_env({}, dotenv=tmp_path / ".env").query_limits.max_depth


def test_an_empty_value_counts_as_unset(tmp_path: Path) -> None:
    # given: a variable exported empty, as shells and compose files often leave them
    settings = Settings.from_env({"CASEGRAPH_AGENCY_CODE": ""}, dotenv=tmp_path / ".env")
    # then: the default, not an empty agency code
    assert settings.agency_code == Settings.from_env({}, dotenv=tmp_path / ".env").agency_code
