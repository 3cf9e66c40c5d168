"""Presence boards: announcements, folding tabs, expiry, and watchers."""

from __future__ import annotations

import asyncio
from typing import Any

from casegraph.events.presence import PresenceBoard, present


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def here(key: str, user: str, editing: bool = False, case: str = "c1") -> dict[str, Any]:
    return {"op": "here", "case": case, "conn": key, "user": user, "name": user.title(), "editing": editing}


def test_tabs_of_one_person_fold_into_one_viewer_editing_if_any_tab_is() -> None:
    board = PresenceBoard(clock=Clock())
    board.apply(here("k1", "dana"))
    board.apply(here("k2", "dana", editing=True))
    board.apply(here("k3", "eli"))
    assert [(v.user_id, v.editing) for v in board.viewers("c1")] == [("dana", True), ("eli", False)]


def test_leaving_and_expiry_remove_viewers() -> None:
    clock = Clock()
    board = PresenceBoard(ttl=30, clock=clock)
    board.apply(here("k1", "dana"))
    board.apply(here("k2", "eli"))
    board.apply({"op": "gone", "case": "c1", "conn": "k1"})
    assert [v.user_id for v in board.viewers("c1")] == ["eli"]
    clock.now += 29
    board.sweep()
    assert [v.user_id for v in board.viewers("c1")] == ["eli"]
    clock.now += 2  # no heartbeat: eli's client (or server) is gone
    board.sweep()
    assert board.viewers("c1") == []


def test_editing_announcements_change_every_tab_of_that_person() -> None:
    board = PresenceBoard(clock=Clock())
    board.apply(here("k1", "dana"))
    board.apply({"op": "editing", "case": "c1", "user": "dana", "editing": True})
    assert board.viewers("c1")[0].editing is True


def test_malformed_announcements_are_ignored() -> None:
    board = PresenceBoard(clock=Clock())
    for junk in (
        {},
        {"op": "here"},
        {"op": "here", "case": "c1"},
        {"op": "nope", "case": "c1"},
        {"case": 5, "op": "gone"},
    ):
        board.apply(junk)
    assert board.viewers("c1") == []


async def test_watchers_see_people_arrive_and_leave_and_leaving_happens_however_the_block_ends() -> None:
    # given: a board wired to itself, as one process with a memory channel
    board = PresenceBoard()

    async def announce(message: dict[str, Any]) -> None:
        board.apply(message)

    seen: list[list[str]] = []

    async def watch() -> None:
        async for viewers in board.watch("c1"):
            seen.append([v.user_id for v in viewers])
            if len(seen) == 4:
                return

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    # when
    async with present(board, announce, case_id="c1", key="a", user_id="dana", name="Dana", editing=False):
        await asyncio.sleep(0)
        try:
            async with present(board, announce, case_id="c1", key="b", user_id="eli", name="Eli", editing=True):
                await asyncio.sleep(0)
                raise RuntimeError("the client went away")
        except RuntimeError:
            pass
        await asyncio.sleep(0)
    await asyncio.wait_for(watcher, 5)
    # then
    assert seen == [[], ["dana"], ["dana", "eli"], ["dana"]]
    assert board.viewers("c1") == []
