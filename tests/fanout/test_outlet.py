"""The outlet: frames written at once when the socket takes them, queued in order when it does
not, and a bounded queue whose overflow tells each subscriber where to resume."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from casegraph.fanout.outlet import Outlet


@dataclass
class Peer:
    """An ASGI send that completes at once while ``open`` is set, and waits otherwise."""

    sent: list[str] = field(default_factory=list)
    open: asyncio.Event = field(default_factory=asyncio.Event)
    broken: bool = False

    def __post_init__(self) -> None:
        self.open.set()

    async def send(self, frame: str) -> None:
        if self.broken:
            raise ConnectionResetError("gone")
        await self.open.wait()
        self.sent.append(frame)


@dataclass
class Owner:
    behind: list[int] = field(default_factory=list)

    def fell_behind(self, after: int) -> None:
        self.behind.append(after)


async def test_a_frame_the_socket_takes_is_written_at_once_without_a_task() -> None:
    # given
    peer = Peer()
    outlet = Outlet(peer.send)
    tasks = len(asyncio.all_tasks())
    # when
    outlet.write("a")
    # then: written before the writer ever yielded to the loop
    assert peer.sent == ["a"]
    assert not outlet.busy and len(asyncio.all_tasks()) == tasks


async def test_frames_wait_in_order_behind_a_send_the_socket_cannot_take_yet() -> None:
    # given: a socket whose buffer is full
    peer = Peer()
    peer.open.clear()
    outlet = Outlet(peer.send)
    # when
    for frame in ("a", "b", "c"):
        outlet.write(frame)
    assert outlet.busy and peer.sent == []
    peer.open.set()
    await asyncio.wait_for(outlet.drained(), 5)
    outlet.write("d")
    # then
    assert peer.sent == ["a", "b", "c", "d"]
    assert not outlet.busy


async def test_an_overflowing_backlog_is_dropped_and_each_owner_told_where_it_fell_behind() -> None:
    # given: a stuck socket and an outlet that queues three frames at most
    peer = Peer()
    peer.open.clear()
    outlet = Outlet(peer.send, backlog_limit=3)
    first, second = Owner(), Owner()
    outlet.write("event 1 for first", first, 1)  # the send that waits
    # when: more than three frames queue behind it
    outlet.write("event 2 for first", first, 2)
    outlet.write("event 2 for second", second, 2)
    outlet.write("event 3 for first", first, 3)
    outlet.write("event 3 for second", second, 3)
    # then: both resume from before the first frame they lost
    assert first.behind == [1] and second.behind == [1]
    peer.open.set()
    await asyncio.wait_for(outlet.drained(), 5)
    assert peer.sent == ["event 1 for first"]


async def test_a_synchronous_send_is_used_when_the_server_offers_one() -> None:
    # given
    peer = Peer()
    taken: list[str] = []
    full = False

    def send_now(frame: str) -> bool:
        if full:
            return False
        taken.append(frame)
        return True

    outlet = Outlet(peer.send, send_now)
    # when
    outlet.write("a")
    full = True
    outlet.write("b")  # the socket is full: sent the ASGI way, which waits for it
    full = False
    outlet.write("c")  # behind "b", whatever the socket says now
    await asyncio.wait_for(outlet.drained(), 5)
    # then
    assert taken == ["a"] and peer.sent == ["b", "c"]


async def test_a_socket_that_failed_takes_no_more_frames() -> None:
    # given
    peer = Peer(broken=True)
    outlet = Outlet(peer.send)
    # when
    outlet.write("a")
    peer.broken = False
    outlet.write("b")
    # then
    assert outlet.closed and peer.sent == []
