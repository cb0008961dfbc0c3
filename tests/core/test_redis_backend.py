"""The Redis backend against a real redis-server (never a fake): shared windows,
token rotation across processes, the shared outbox, and selection by profile.

Skipped when no server answers at ``BROKERPORT_TEST_REDIS_URL`` (default
redis://127.0.0.1:6379/15), unless ``BROKERPORT_REQUIRE_REDIS`` is set (CI,
whose .ci/run starts one): then a missing server fails the suite.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from brokerport import UnknownOutcome
from brokerport.catalog import Endpoint, RateLimit
from brokerport.client import Client
from brokerport.outbox import OutboxEntry
from brokerport.signing import BearerToken, TokenPair
from brokerport.transport import TransportFailure
from brokerport.types import Secret
from fakex_vendor import mock_client, profile

redis_asyncio = pytest.importorskip("redis.asyncio")
from brokerport.redis_backend import (  # noqa: E402
    RedisBackend,
    RedisLimiterRegistry,
    RedisOutbox,
    RedisTokenStore,
)

URL = os.environ.get("BROKERPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _reachable() -> bool:
    r = redis_asyncio.from_url(URL)
    try:
        return bool(await r.ping())
    except Exception:
        return False
    finally:
        await r.aclose()


@pytest.fixture
async def backends() -> AsyncIterator[list[RedisBackend]]:
    """Two backends (two "processes": two connection pools) on one fresh prefix."""
    if not await _reachable():
        if os.environ.get("BROKERPORT_REQUIRE_REDIS"):
            pytest.fail(f"no Redis server at {URL} (BROKERPORT_REQUIRE_REDIS is set)")
        pytest.skip(f"no Redis server reachable at {URL}: start redis-server to run these")
    prefix = f"bptest:{secrets.token_hex(6)}"
    made = [RedisBackend(URL, prefix=prefix) for _ in range(2)]
    try:
        yield made
    finally:
        keys = [k async for k in made[0].redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await made[0].redis.delete(*keys)
        for b in made:
            await b.aclose()


class FakeTime:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def now(self) -> int:
        return self.ms

    async def sleep(self, seconds: float) -> None:
        self.ms += max(1, round(seconds * 1000))
        await asyncio.sleep(0)


async def test_two_processes_share_one_window(backends: list[RedisBackend]) -> None:
    clock = FakeTime()
    ep = Endpoint("x", "GET", "/x", rate_limit=RateLimit(3, 1.0, margin=0.0))
    regs = [RedisLimiterRegistry(b, now_ms=clock.now, sleep=clock.sleep) for b in backends]
    granted: list[int] = []
    for i in range(9):
        limiter = regs[i % 2].for_endpoint(ep, "key1")
        assert limiter is not None
        await limiter.acquire()
        granted.append(clock.ms)
        limiter.release()  # answered at once
    # never more than 3 grants in any 1000 ms window, across both "processes"
    for i in range(len(granted) - 3):
        assert granted[i + 3] - granted[i] >= 1000
    assert granted[:3] == [1_000_000] * 3 and granted[3] == 1_001_000
    # another scope (another vendor key) has its own window
    other = regs[0].for_endpoint(ep, "key2")
    assert other is not None
    before = clock.ms
    await other.acquire()
    assert clock.ms == before


async def test_shared_window_holds_slots_until_answered(backends: list[RedisBackend]) -> None:
    """A slot counts from its answer, across processes; a waiter polls while all are held."""
    clock = FakeTime()
    ep = Endpoint("x", "GET", "/x", rate_limit=RateLimit(2, 1.0))
    a, b = (RedisLimiterRegistry(x, now_ms=clock.now, sleep=clock.sleep) for x in backends)
    la, lb = a.for_endpoint(ep, "k"), b.for_endpoint(ep, "k")
    assert la is not None and lb is not None
    await la.acquire()
    await la.acquire()  # both slots held by "process" a, no answer yet
    waiter = asyncio.create_task(lb.acquire())
    for _ in range(2000):  # let a few polls reach Redis
        if clock.ms > 1_000_030:
            break
        await asyncio.sleep(0.001)
    assert not waiter.done() and clock.ms > 1_000_000  # it polls while only holds are ahead
    clock.ms = 1_000_500
    la.release()  # the first answer is in at 1_000_500
    await asyncio.sleep(0.05)  # the release script runs (real Redis round trips)
    await asyncio.wait_for(waiter, 2.0)
    # b's slot came free a full window after that answer, not after the acquire
    assert clock.ms >= 1_001_500
    la.release()
    lb.release()


async def test_flush_writes_every_release_before_the_backend_closes(
    backends: list[RedisBackend],
) -> None:
    ep = Endpoint("x", "GET", "/x", rate_limit=RateLimit(5, 1.0))
    registry = RedisLimiterRegistry(backends[0])
    limiter = registry.for_endpoint(ep, "k")
    assert limiter is not None
    for _ in range(3):
        await limiter.acquire()
    key = backends[0].key("rl", "k|x")
    (_, held_score), *_ = await backends[0].redis.zrange(key, -1, -1, withscores=True)
    for _ in range(3):
        limiter.release()  # answered: each is re-scored in the background
    await registry.flush()  # what Client.aclose() awaits
    (_, score), *_ = await backends[0].redis.zrange(key, -1, -1, withscores=True)
    assert score < held_score  # no slot left held (scored hold_timeout ahead)
    assert await backends[0].redis.zcard(key) == 3


async def test_outbox_is_shared_and_drains_atomically(backends: list[RedisBackend]) -> None:
    a, b = (RedisOutbox(x) for x in backends)
    e1 = OutboxEntry(
        vendor="okx", endpoint="trade.place_order", kind="unknown_outcome", message="m"
    )
    e2 = OutboxEntry(vendor="lwork", endpoint="account.withdraw", kind="cancelled", message="m")
    await a.add(e1)
    await a.add(e2)
    assert {e.id for e in await b.list()} == {e1.id, e2.id}
    assert await b.list("okx") == [e1]
    taken = await asyncio.gather(b.drain("lwork"), a.drain("lwork"))
    assert sorted(len(t) for t in taken) == [0, 1]  # one worker gets it, never both
    assert await b.remove(e1.id) and await a.list() == []


async def test_token_rotation_is_single_flight_across_processes(
    backends: list[RedisBackend],
) -> None:
    issued = 0
    used: list[str] = []

    async def refresher(pair: TokenPair) -> TokenPair:
        nonlocal issued
        assert pair.refresh_token is not None
        used.append(pair.refresh_token.reveal())
        await asyncio.sleep(0.01)  # the other workers pile up meanwhile
        issued += 1
        return TokenPair(Secret(f"access{issued}"), Secret(f"refresh{issued}"), expires_at=1e12)

    stale = TokenPair(Secret("access0"), Secret("refresh0"), expires_at=0.0)
    tokens = [
        BearerToken(
            stale, refresher, store=RedisTokenStore(b, "okx:k", poll=0.005), clock=lambda: 1.0
        )
        for b in backends * 2  # four workers, two connection pools
    ]
    got = await asyncio.gather(*(t.current() for t in tokens))
    assert {g.reveal() for g in got} == {"access1"}
    assert used == ["refresh0"]  # one refresh for all four
    # the next rotation starts from the stored pair: refresh1, never refresh0 again
    await tokens[3].refresh(tokens[3].tokens.access_token)
    assert used == ["refresh0", "refresh1"]
    # a worker still holding the old pair adopts the stored one instead of refreshing
    old = BearerToken(
        stale, refresher, store=RedisTokenStore(backends[0], "okx:k"), clock=lambda: 1.0
    )
    assert (await old.current()).reveal() == "access2"
    assert len(set(used)) == len(used) == 2


async def test_a_spent_refresh_token_is_never_sent_again(backends: list[RedisBackend]) -> None:
    from brokerport import AuthenticationError

    store = RedisTokenStore(backends[0], "okx:spent")
    pair = TokenPair(Secret("a0"), Secret("r0"), expires_at=0.0)
    await store.seed(pair)
    await backends[0].redis.sadd(store.spent_key, __import__("hashlib").sha256(b"r0").hexdigest())
    calls: list[Any] = []

    async def refresher(p: TokenPair) -> TokenPair:
        calls.append(p)
        return p

    with pytest.raises(AuthenticationError, match="already used"):
        await store.refresh(Secret("a0"), refresher)
    assert calls == []


async def test_a_replaced_pair_is_shared_and_adopted_without_a_refresh(
    backends: list[RedisBackend],
) -> None:
    calls: list[TokenPair] = []

    async def refresher(p: TokenPair) -> TokenPair:
        calls.append(p)
        return TokenPair(Secret("never"), Secret("never"), expires_at=9e9)

    first = TokenPair(Secret("a1"), Secret("r1"), expires_at=9e9)
    here = BearerToken(first, refresher, store=RedisTokenStore(backends[0], "okx:replaced"))
    there = BearerToken(first, refresher, store=RedisTokenStore(backends[1], "okx:replaced"))
    assert (await here.current()).reveal() == (await there.current()).reveal() == "a1"
    # a fresh authorization-code exchange in this process
    here.replace(TokenPair(Secret("a2"), Secret("r2"), expires_at=9e9))
    assert (await here.current()).reveal() == "a2"
    _, stored = await here.store.load()
    assert stored is not None and stored.access_token == Secret("a2")
    # the other process's a1 is refused: it adopts a2 instead of spending r1
    assert (await there.refresh(Secret("a1"))).access_token == Secret("a2")
    assert calls == []


async def test_profile_option_selects_the_redis_backend(backends: list[RedisBackend]) -> None:
    def lost(request: Any) -> Any:
        raise TransportFailure("disconnect", "connection lost")

    prefix = backends[0].prefix
    opts = {"redis_url": URL, "redis_prefix": prefix}
    client, _ = mock_client(lost)
    client._given_profile = profile(**opts)
    async with client:
        assert isinstance(client.limiters, RedisLimiterRegistry)
        assert isinstance(client.outbox, RedisOutbox)
        with pytest.raises(UnknownOutcome) as info:
            await client.call("sub.create", name="alice1")
    # another worker sees the entry and can settle it
    (entry,) = await RedisOutbox(backends[1]).list()
    assert entry.id == info.value.outbox_id
    # without the option (and no environment variable), the in-process backend
    plain = Client(client.adapter_cls, profile())
    async with plain:
        assert not isinstance(plain.outbox, RedisOutbox)
