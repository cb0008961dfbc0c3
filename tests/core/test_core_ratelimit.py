"""The sliding-window limiter, with a fake clock and a fake sleep (no real waiting).

A slot is held from ``acquire()`` until ``release()`` (the answer came back);
the tests that only look at admission release at once, as an instant answer."""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Callable

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
        limiter.release()

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
        limiter.release()

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
        limiter.release(cost)
        order.append(i)
        tokens.extend([ft.now] * cost)

    costs = [4, 4, 4, 1, 5, 5, 2, 10, 3]
    await asyncio.gather(*[worker(i, c) for i, c in enumerate(costs)])
    assert order == list(range(len(costs)))
    assert len(tokens) == sum(costs)
    assert_window(tokens, 10, 1.0)


async def test_limiter_default_margin_is_zero_and_catalog_margin_is_kept() -> None:
    ft = FakeTime()
    limiter = Limiter(RateLimit(2, 1.0), clock=ft.clock, sleep=ft.sleep)
    assert limiter.window.margin == 0.0  # slots are held until answered instead
    limiter = Limiter(RateLimit(2, 1.0, margin=0.02), clock=ft.clock, sleep=ft.sleep)
    grants: list[float] = []
    for _ in range(6):
        await limiter.acquire()
        limiter.release()
        grants.append(ft.now)
    assert_window(grants, 2, 1.02)


async def test_limiter_is_deterministic() -> None:
    async def run() -> list[float]:
        ft = FakeTime()
        limiter = Limiter(RateLimit(4, 2.0), clock=ft.clock, sleep=ft.sleep)
        out: list[float] = []

        async def worker(cost: int) -> None:
            await limiter.acquire(cost)
            limiter.release(cost)
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
        limiter.release()
        grants.append(ft.now)

    await asyncio.gather(*[call(a if i % 2 else b) for i in range(12)])
    assert_window(grants, 3, 1.0)
    reg.reset()
    limiter = reg.for_endpoint(a, "s")
    assert limiter is not None and limiter.window.delay(ft.now) == 0.0


# ------------------------------------------------ held until answered


async def test_slot_is_held_until_answered() -> None:
    """The next slot opens a full window after the *answer*, not after the send."""
    ft = FakeTime()
    limiter = Limiter(RateLimit(2, 1.0), clock=ft.clock, sleep=ft.sleep)
    await limiter.acquire()
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done()  # no time passing frees a held slot
    ft.now += 0.3
    limiter.release()  # the first answer is in at 1000.3
    assert await waiter == pytest.approx(1.3)
    assert ft.now == pytest.approx(1001.3)
    assert limiter.waits == 2 and limiter.waited == pytest.approx(1.3)


async def test_max_wait_with_every_slot_held() -> None:
    from brokerport.errors import RateLimited

    ft = FakeTime()
    limiter = Limiter(RateLimit(1, 2.0), clock=ft.clock, sleep=ft.sleep, max_wait=1.0)
    await limiter.acquire()
    with pytest.raises(RateLimited) as info:
        await limiter.acquire()
    assert info.value.retry_after == 2.0  # at least a window after the pending answer


async def test_cancelled_release_waiter_leaves_the_bucket_usable() -> None:
    ft = FakeTime()
    limiter = Limiter(RateLimit(1, 1.0), clock=ft.clock, sleep=ft.sleep)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    ft.now += 1.0
    assert await limiter.acquire() == 0.0


class EventTime:
    """Discrete-event fake time: sleepers wake in time order; time jumps to the
    next wake-up once the event loop has nothing else to run."""

    def __init__(self) -> None:
        self.now = 0.0
        self._wakes: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._wakes, (self.now + delay, self._seq, fut))
        await fut

    async def run(self, done: Callable[[], bool]) -> None:
        while not done():
            for _ in range(20):  # let every runnable task run
                await asyncio.sleep(0)
            if self._wakes:
                at, _, fut = heapq.heappop(self._wakes)
                self.now = max(self.now, at)
                if not fut.done():
                    fut.set_result(None)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_vendor_counting_arrivals_never_rejects_and_limit_is_used(seed: int) -> None:
    """Simulated network: each request arrives at the vendor at a random point
    between leaving and its answer (busy loops, slow links, queued sockets). The
    vendor's window counts arrivals and never sees more than ``count``; and the
    achieved rate stays close to the limit: a window plus one answer latency per
    ``count`` requests."""
    rng = random.Random(seed)
    et = EventTime()
    limit = RateLimit(40, 1.0)
    limiter = Limiter(limit, clock=et.clock, sleep=et.sleep)
    vendor = SlidingWindow(limit.count, limit.per)
    rejected = 0
    arrivals: list[float] = []

    async def one() -> None:
        nonlocal rejected
        await limiter.acquire()
        latency = rng.choice([0.001, 0.002, 0.005, 0.01, 0.03])
        arrive = et.now + rng.uniform(0, latency)
        await et.sleep(latency)  # the answer comes back
        if vendor.delay(arrive) > 0:
            rejected += 1
        else:
            vendor.take(arrive)
        arrivals.append(arrive)
        limiter.release()

    await asyncio.gather(et.run(lambda: len(arrivals) == 200), *(one() for _ in range(200)))
    assert rejected == 0
    arrivals.sort()
    assert_window(arrivals, 40, 1.0)
    steady = (200 - 40) / (arrivals[-1] - arrivals[0])
    assert steady >= 0.97 * 40, steady
