"""The transition checks and change hooks: a contract in ``services/extensions.py``, the list of
features at the composition root (``casegraph/composition.py``)."""

from __future__ import annotations

from typing import cast

import pytest

from casegraph import composition
from casegraph.services import extensions
from casegraph.services.records import CaseRecord, EventRecord


def test_the_composition_root_installs_every_check_and_hook_in_its_order() -> None:
    # when the root installs them (again: every app built in a process does)
    composition.install_case_extensions()
    composition.install_case_extensions()
    # then each runs once, in the root's order
    assert list(composition.TRANSITION_CHECKS) == extensions.TRANSITION_CHECKS
    assert list(composition.CHANGE_HOOKS) == extensions.CHANGE_HOOKS
    assert len(set(composition.CHANGE_HOOKS)) == len(composition.CHANGE_HOOKS) == 10


async def test_a_case_change_before_the_hooks_are_installed_is_refused_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a process that never installed the checks and hooks
    monkeypatch.setattr(extensions, "_installed", False)
    # when a change would run them, then it stops, naming what to call, before reading anything
    unread_case = cast(CaseRecord, object())
    with pytest.raises(extensions.ExtensionsNotInstalled, match="install_case_extensions"):
        await extensions.run_change_hooks(unread_case, unread_case, cast(EventRecord, object()))
