"""Client-side rate limiting: a sliding-window log per bucket, injectable clock.

Why not aiolimiter: its leaky bucket lets a full burst through at t=0 and keeps
draining, so a window of ``per`` seconds can see close to ``2 * count``
requests — exactly what a vendor counting a fixed or sliding window rejects.
A window log admits request *n* no earlier than request *n - count* plus
``per`` (plus a small margin for network jitter), which no vendor window can
fault. It also takes an injectable clock and sleep, so tests run without
waiting.
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


class SlidingWindow:
    """At most ``count`` grants in any ``per``-second window."""

    __slots__ = ("_grants", "count", "margin", "per")

    def __init__(self, count: int, per: float, margin: float = 0.0) -> None:
        self.count = count
        self.per = per
        self.margin = margin
        self._grants: deque[float] = deque()

    def delay(self, now: float, cost: int = 1) -> float:
        """Seconds to wait before ``cost`` grants fit; 0 when they fit now."""
        grants = self._grants
        horizon = now - self.per - self.margin
        while grants and grants[0] <= horizon:
            grants.popleft()
        if len(grants) + cost <= self.count:
            return 0.0
        # the grant that must leave the window before we fit
        idx = len(grants) + cost - self.count - 1
        return grants[idx] + self.per + self.margin - now

    def take(self, now: float, cost: int = 1) -> None:
        self._grants.extend([now] * cost)

    def reset(self) -> None:
        self._grants.clear()


class Limiter:
    """A bucket with FIFO fairness: callers are served in arrival order."""

    __slots__ = ("_clock", "_lock", "_queued", "_sleep", "max_wait", "waits", "window")

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
        if margin is None:
            # jitter allowance: 2% of the window, at least 5 ms, at most 250 ms
            margin = min(max(limit.per * 0.02, 0.005), 0.25)
        self.window = SlidingWindow(limit.count, limit.per, margin)
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        #: callers holding or waiting for the lock (a woken waiter has not re-locked yet)
        self._queued = 0
        self.waits = 0
        #: Raise RateLimited instead of sleeping longer than this (None: always wait).
        self.max_wait = max_wait

    async def acquire(self, cost: int = 1) -> None:
        window = self.window
        if not self._queued:
            now = self._clock()
            if window.delay(now, cost) == 0.0:
                window.take(now, cost)
                return
        self._queued += 1
        try:
            async with self._lock:
                while True:
                    now = self._clock()
                    wait = window.delay(now, cost)
                    if wait <= 0:
                        window.take(now, cost)
                        return
                    if self.max_wait is not None and wait > self.max_wait:
                        raise RateLimited(
                            f"client-side rate limit: the next slot is {wait:.1f} s away",
                            retry_after=wait,
                        )
                    self.waits += 1
                    await self._sleep(wait)
        finally:
            self._queued -= 1


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
