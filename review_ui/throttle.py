"""Slowing down one client address that keeps failing to log in (in memory, bounded in size).

The account lockout (cases/users.py) stops password guessing against one user, but anyone who
knows a name can trigger it. So each address is also slowed down on its own: after
`FREE_FAILURES` failures each further attempt must wait `FIRST_WAIT_S` after the last one,
doubled for every further failure, up to `MAX_WAIT_S`. One address then gets a few tries an
hour: too few to keep an account locked (`review.login_max_failures` failures within every
`review.lockout_seconds`), while a user behind another address logs in as usual. An attempt
made before its wait is over is refused without checking the password or counting against
the account.

Failures count when they happen, so people logging in at the same time from one address (an
office behind one router, reviewers on one SSH tunnel) are not refused. A burst of parallel
attempts would pass the check before any of them failed, so each address also gets at most
`MAX_IN_FLIGHT` attempts under way at once (`slot()`); the others wait their turn and are then
checked against the failures counted meanwhile. A success does not clear the failures: an
attacker with an account of their own could otherwise reset the count. An address is forgotten
`FORGET_AFTER_S` after its last failure, and at most `max_addresses` are remembered (the longest
quiet are forgotten first).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class LoginThrottle:
    """Per-address failure counter with exponential backoff (its counts are safe to share between
    threads; `slot()` is for the event loop)."""

    FREE_FAILURES = 5
    FIRST_WAIT_S = 1.0
    MAX_WAIT_S = 3600.0
    FORGET_AFTER_S = 24 * 3600.0
    MAX_IN_FLIGHT = 4

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_addresses: int = 10_000) -> None:
        self._clock = clock
        self._max = max_addresses
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()   # address -> (failures, last failure)
        self._gates: dict[str, tuple[asyncio.Semaphore, int]] = {}          # address -> (gate, attempts using it)

    @asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        """Hold one of the address's `MAX_IN_FLIGHT` attempt slots, waiting for one when all are taken
        (event loop only; an address's gate lives only while attempts use it)."""
        gate, users = self._gates.get(address, (asyncio.Semaphore(self.MAX_IN_FLIGHT), 0))
        self._gates[address] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._gates.pop(address)
            if users > 1:
                self._gates[address] = (gate, users - 1)

    def wait_s(self, address: str) -> int:
        """Seconds this address must wait before its next attempt (0: it may try now)."""
        with self._lock:
            now = self._clock()
            self._forget_quiet(now)
            failures, last = self._seen.get(address, (0, now))
            return self._wait(failures, last, now)

    def failed(self, address: str) -> None:
        """Count one failed attempt from this address (a wrong name or password, or a locked name)."""
        with self._lock:
            now = self._clock()
            failures, _last = self._seen.pop(address, (0, now))
            self._seen[address] = (failures + 1, now)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def _wait(self, failures: int, last: float, now: float) -> int:
        if failures < self.FREE_FAILURES:
            return 0
        wait = min(self.FIRST_WAIT_S * 2 ** min(failures - self.FREE_FAILURES, 32), self.MAX_WAIT_S)
        return max(0, math.ceil(last + wait - now))

    def _forget_quiet(self, now: float) -> None:
        while self._seen:
            _failures, last = next(iter(self._seen.values()))
            if now - last <= self.FORGET_AFTER_S:
                break
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        """Addresses remembered now."""
        with self._lock:
            self._forget_quiet(self._clock())
            return len(self._seen)
