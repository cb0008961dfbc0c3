"""Client-side rate limiting: a sliding-window log per bucket, injectable clock.

Why not aiolimiter: its leaky bucket lets a full burst through at t=0 and keeps
draining, so a window of ``per`` seconds can see close to ``2 * count``
requests — exactly what a vendor counting a fixed or sliding window rejects.

**A slot is held until the answer comes back.** A vendor counts a request when
it *arrives*, which we cannot see; we only know it arrived no later than its
answer came back. So :meth:`Limiter.acquire` holds a slot (it counts as taken,
with no time yet) and :meth:`Limiter.release` records it at the moment the
answer (or the failure) came back — the latest time the vendor can have
counted it. Request *n* then leaves no earlier than the answer to request
*n - count* plus ``per``, so it arrives after the vendor's window has moved
past its predecessor however late that one arrived, with no margin guessed
for network jitter or a busy event loop: the whole limit is used, never
exceeded. ``RateLimit.margin`` still adds a fixed gap when a catalog asks for
one. Clock and sleep are injectable, so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from .catalog import Endpoint, RateLimit
from .errors import RateLimited

__all__ = ["Limiter", "LimiterRegistry", "SlidingWindow"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: :meth:`SlidingWindow.delay` when only a release (an answer) can make room
UNTIL_RELEASED = float("inf")


class SlidingWindow:
    """At most ``count`` grants in any ``per``-second window; ``held`` grants
    (sent, not answered yet) count as the newest ones."""

    __slots__ = ("_grants", "count", "held", "margin", "per")

    def __init__(self, count: int, per: float, margin: float = 0.0) -> None:
        self.count = count
        self.per = per
        self.margin = margin
        self.held = 0
        self._grants: deque[float] = deque()

    def delay(self, now: float, cost: int = 1) -> float:
        """Seconds to wait before ``cost`` grants fit; 0 when they fit now;
        :data:`UNTIL_RELEASED` when they fit only after a held grant is released."""
        grants = self._grants
        horizon = now - self.per - self.margin
        while grants and grants[0] <= horizon:
            grants.popleft()
        if len(grants) + self.held + cost <= self.count:
            return 0.0
        # the grant that must leave the window before we fit
        idx = len(grants) + self.held + cost - self.count - 1
        if idx >= len(grants):
            return UNTIL_RELEASED
        return grants[idx] + self.per + self.margin - now

    def take(self, now: float, cost: int = 1) -> None:
        self._grants.extend([now] * cost)

    def hold(self, cost: int = 1) -> None:
        self.held += cost

    def release(self, now: float, cost: int = 1) -> None:
        """``cost`` held grants are answered: they count from ``now``."""
        self.held = max(0, self.held - cost)
        self._grants.extend([now] * cost)

    def reset(self) -> None:
        self._grants.clear()
        self.held = 0


class Limiter:
    """A bucket with FIFO fairness: callers are served in arrival order.

    ``acquire()`` holds ``cost`` slots and returns the seconds it waited;
    ``release()`` must follow once the request's answer (or failure) is in.
    """

    __slots__ = (
        "_clock",
        "_lock",
        "_queued",
        "_released",
        "_sleep",
        "max_wait",
        "waited",
        "waits",
        "window",
    )

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        margin: float | None = None,
        max_wait: float | None = None,
    ) -> None:
        if margin is None:
            margin = limit.margin
        # no jitter allowance by default: slots are held until answered
        self.window = SlidingWindow(limit.count, limit.per, margin or 0.0)
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        #: callers holding or waiting for the lock (a woken waiter has not re-locked yet)
        self._queued = 0
        #: set by release() while a caller waits for one
        self._released: asyncio.Future[None] | None = None
        self.waits = 0
        #: seconds callers spent waiting, in total
        self.waited = 0.0
        #: Raise RateLimited instead of sleeping longer than this (None: always wait).
        self.max_wait = max_wait

    async def acquire(self, cost: int = 1) -> float:
        """Hold ``cost`` slots; the seconds waited for them."""
        window = self.window
        if not self._queued and window.delay(self._clock(), cost) == 0.0:
            window.held += cost
            return 0.0
        self._queued += 1
        start = self._clock()
        try:
            async with self._lock:
                while True:
                    now = self._clock()
                    wait = window.delay(now, cost)
                    if wait <= 0:
                        window.held += cost
                        waited = now - start
                        self.waited += waited
                        return waited
                    if self.max_wait is not None and wait > self.max_wait:
                        shown = window.per if wait == UNTIL_RELEASED else wait
                        raise RateLimited(
                            "client-side rate limit: the next slot is "
                            f"{'more than ' if wait == UNTIL_RELEASED else ''}{shown:.1f} s away",
                            retry_after=shown,
                        )
                    self.waits += 1
                    if wait == UNTIL_RELEASED:
                        released = self._released
                        if released is None or released.done():
                            released = self._released = asyncio.get_running_loop().create_future()
                        await released
                    else:
                        await self._sleep(wait)
        finally:
            self._queued -= 1

    def release(self, cost: int = 1) -> None:
        """The held request's answer (or failure) is in: its slots count from now."""
        self.window.release(self._clock(), cost)
        released = self._released
        if released is not None:
            self._released = None
            if not released.done():
                released.set_result(None)


class LimiterRegistry:
    """One limiter per bucket key. Share one registry between clients that
    share a vendor credential, so they share its limits."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_wait: float | None = None,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self._limiters: dict[str, Limiter] = {}

    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        limit = endpoint.rate_limit
        if limit is None:
            return None
        key = f"{scope}|{limit.group or endpoint.name}"
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = Limiter(
                limit, clock=self.clock, sleep=self.sleep, max_wait=self.max_wait
            )
        return limiter

    def reset(self) -> None:
        for limiter in self._limiters.values():
            limiter.window.reset()

    async def flush(self) -> None:
        """Finish recording what was answered (a shared window is written in the
        background): the client awaits this when it closes."""
