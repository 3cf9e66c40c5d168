"""Wrong intake secrets, counted per client address: past the limit the address is refused.

The intake endpoint is reachable by anyone who can reach the server, so without this a secret
could be guessed at the speed of the network. The count lives in this process (each worker of
``serve --workers N`` keeps its own); a refused address is refused whatever it sends, so a right
guess inside a refused window is not told apart from a wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from casegraph.clock import Clock
from casegraph.settings import Rate

# Addresses remembered at most; past it, windows that have ended are forgotten first.
MAX_ADDRESSES: Final = 10_000


@dataclass
class _Window:
    started: float  # seconds, from the clock
    wrong: int = 0


class WrongGuesses:
    def __init__(self, rate: Rate | None, clock: Clock) -> None:
        self.rate = rate
        self.clock = clock
        self._windows: dict[str, _Window] = {}

    def _now(self) -> float:
        return self.clock().timestamp()

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may try now."""
        if self.rate is None:
            return None
        window = self._windows.get(address)
        if window is None or window.wrong < self.rate.count:
            return None
        left = window.started + self.rate.seconds - self._now()
        if left <= 0:
            del self._windows[address]
            return None
        return max(1, math.ceil(left))

    def record(self, address: str) -> None:
        """One wrong secret from ``address``."""
        if self.rate is None:
            return
        now = self._now()
        window = self._windows.get(address)
        if window is None or now >= window.started + self.rate.seconds:
            if len(self._windows) >= MAX_ADDRESSES:
                self._forget_ended(now)
            window = self._windows[address] = _Window(started=now)
        window.wrong += 1

    def _forget_ended(self, now: float) -> None:
        assert self.rate is not None
        seconds = self.rate.seconds
        self._windows = {a: w for a, w in self._windows.items() if now < w.started + seconds}
        if len(self._windows) >= MAX_ADDRESSES:
            # Still full of live windows (many addresses at once): drop the oldest half.
            kept = sorted(self._windows.items(), key=lambda item: item[1].started)[MAX_ADDRESSES // 2 :]
            self._windows = dict(kept)
