"""The sliding-window limiter, with a fake clock and a fake sleep (no real waiting)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from brokerport.catalog import Endpoint, RateLimit
from brokerport.ratelimit import Limiter, LimiterRegistry, SlidingWindow


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        assert delay > 0, "the limiter never sleeps for nothing"
        self.slept.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def assert_window(grants: list[float], count: int, per: float) -> None:
    """No window of ``per`` seconds holds more than ``count`` grants."""
    grants = sorted(grants)
    for i in range(len(grants) - count):
        assert grants[i + count] - grants[i] >= per - 1e-9, (
            f"{count + 1} grants within {per}s: {grants[i : i + count + 1]}"
        )


# ------------------------------------------------------------ SlidingWindow


def test_sliding_window_delay_and_take() -> None:
    w = SlidingWindow(3, 1.0)
    for t in (0.0, 0.1, 0.2):
        assert w.delay(t) == 0.0
        w.take(t)
    assert w.delay(0.3) == pytest.approx(0.7)  # the grant at 0.0 must leave first
    assert w.delay(1.0) == 0.0  # exactly per seconds later: the window has moved on
    assert w.delay(0.5, cost=2) == pytest.approx(0.6)  # 0.0 and 0.1 must leave
    assert w.delay(0.5, cost=3) == pytest.approx(0.7)
    w.reset()
    assert w.delay(0.3, cost=3) == 0.0


def test_sliding_window_margin() -> None:
    w = SlidingWindow(1, 1.0, margin=0.1)
    w.take(0.0)
    assert w.delay(1.0) == pytest.approx(0.1)
    assert w.delay(1.1) == 0.0


def test_sliding_window_random_schedule_never_exceeds() -> None:
    rng = random.Random(1234)
    w = SlidingWindow(5, 2.0)
    now = 0.0
    grants: list[float] = []
    for _ in range(500):
        now += rng.choice([0.0, 0.01, 0.1, 0.5, 1.0])
        cost = rng.choice([1, 1, 1, 2, 3])
        wait = w.delay(now, cost)
        now += wait
        assert w.delay(now, cost) == 0.0
        w.take(now, cost)
        grants.extend([now] * cost)
    assert_window(grants, 5, 2.0)


# ----------------------------------------------------------------- Limiter


async def test_limiter_never_exceeds_and_is_fifo() -> None:
    ft = FakeTime()
    limiter = Limiter(RateLimit(5, 1.0), clock=ft.clock, sleep=ft.sleep, margin=0.0)
    arrivals: list[int] = []
    granted: list[tuple[int, float]] = []

    async def worker(i: int) -> None:
        arrivals.append(i)
        await limiter.acquire()
        granted.append((i, ft.now))

    t0 = time.monotonic()
    await asyncio.gather(*[worker(i) for i in range(40)])
    assert time.monotonic() - t0 < 0.5  # fake time: no real waiting
    assert [i for i, _ in granted] == arrivals == list(range(40))
    assert_window([t for _, t in granted], 5, 1.0)
    # and it is not needlessly slow: 40 grants at 5/s take 7 seconds of fake time
    assert ft.now - 1000.0 == pytest.approx(7.0)
    assert limiter.waits > 0


async def test_limiter_fifo_with_staggered_arrivals() -> None:
    """Callers arriving while others wait are served after them, in arrival order."""
    ft = FakeTime()
    limiter = Limiter(RateLimit(3, 1.0), clock=ft.clock, sleep=ft.sleep, margin=0.0)
    arrivals: list[int] = []
    granted: list[tuple[int, float]] = []

    async def worker(i: int, spins: int) -> None:
        for _ in range(spins):
            await asyncio.sleep(0)  # arrive at different points of the event loop
        arrivals.append(i)
        await limiter.acquire()
        granted.append((i, ft.now))

    rng = random.Random(99)
    await asyncio.gather(*[worker(i, rng.randrange(0, 12)) for i in range(60)])
    assert [i for i, _ in granted] == arrivals
    assert_window([t for _, t in granted], 3, 1.0)


async def test_limiter_cost_greater_than_one() -> None:
    ft = FakeTime()
    limiter = Limiter(RateLimit(10, 1.0), clock=ft.clock, sleep=ft.sleep, margin=0.0)
    tokens: list[float] = []
    order: list[int] = []

    async def worker(i: int, cost: int) -> None:
        await limiter.acquire(cost)
        order.append(i)
        tokens.extend([ft.now] * cost)

    costs = [4, 4, 4, 1, 5, 5, 2, 10, 3]
    await asyncio.gather(*[worker(i, c) for i, c in enumerate(costs)])
    assert order == list(range(len(costs)))
    assert len(tokens) == sum(costs)
    assert_window(tokens, 10, 1.0)


async def test_limiter_default_margin_keeps_clear_of_vendor_window() -> None:
    ft = FakeTime()
    limiter = Limiter(RateLimit(2, 1.0), clock=ft.clock, sleep=ft.sleep)
    grants: list[float] = []
    for _ in range(6):
        await limiter.acquire()
        grants.append(ft.now)
    # a 2% margin: at least 1.02 s between grant n and grant n+2
    assert_window(grants, 2, 1.02)


async def test_limiter_is_deterministic() -> None:
    async def run() -> list[float]:
        ft = FakeTime()
        limiter = Limiter(RateLimit(4, 2.0), clock=ft.clock, sleep=ft.sleep)
        out: list[float] = []

        async def worker(cost: int) -> None:
            await limiter.acquire(cost)
            out.append(ft.now)

        await asyncio.gather(*[worker(1 + i % 3) for i in range(20)])
        return out

    assert await run() == await run()


# ---------------------------------------------------------------- registry


def test_registry_shares_groups_and_scopes() -> None:
    reg = LimiterRegistry()
    shared = RateLimit(10, 1.0, group="orders")
    a = Endpoint("a", "POST", "/a", rate_limit=shared)
    b = Endpoint("b", "POST", "/b", rate_limit=RateLimit(10, 1.0, group="orders"))
    c = Endpoint("c", "GET", "/c", rate_limit=RateLimit(10, 1.0))
    d = Endpoint("d", "GET", "/d", rate_limit=RateLimit(10, 1.0))
    none = Endpoint("n", "GET", "/n")
    la = reg.for_endpoint(a, "key1")
    assert la is not None
    assert reg.for_endpoint(b, "key1") is la  # same group, same credential
    assert reg.for_endpoint(a, "key1") is la  # stable
    assert reg.for_endpoint(a, "key2") is not la  # another credential counts apart
    assert reg.for_endpoint(c, "key1") is not reg.for_endpoint(d, "key1")
    assert reg.for_endpoint(none, "key1") is None


async def test_registry_shared_bucket_limits_both_endpoints() -> None:
    ft = FakeTime()
    reg = LimiterRegistry(clock=ft.clock, sleep=ft.sleep)
    a = Endpoint("a", "POST", "/a", rate_limit=RateLimit(3, 1.0, group="g"))
    b = Endpoint("b", "POST", "/b", rate_limit=RateLimit(3, 1.0, group="g"))
    grants: list[float] = []

    async def call(ep: Endpoint) -> None:
        limiter = reg.for_endpoint(ep, "s")
        assert limiter is not None
        await limiter.acquire()
        grants.append(ft.now)

    await asyncio.gather(*[call(a if i % 2 else b) for i in range(12)])
    assert_window(grants, 3, 1.0)
    reg.reset()
    limiter = reg.for_endpoint(a, "s")
    assert limiter is not None and limiter.window.delay(ft.now) == 0.0
