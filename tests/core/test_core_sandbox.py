"""The sandbox toolkit itself: journal, faults, clock, JSON, rate limits, routing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from brokerport import RateLimited
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.ratelimit import LimiterRegistry
from brokerport.testing.sandbox import Fault, FaultPlan, SandboxClock, dumps_json, verify_digest
from fakex_vendor import FAST_RETRY, Fakex, FakexSandbox


def test_dumps_json_keeps_exact_decimal_digits() -> None:
    text = dumps_json(
        {"a": Decimal("1.10"), "b": [Decimal("0.00000001"), Decimal("-5")], "c": "x", "d": None}
    )
    assert text == b'{"a":1.10,"b":[0.00000001,-5],"c":"x","d":null}'
    assert json.loads(text, parse_float=Decimal)["a"] == Decimal("1.10")
    with pytest.raises(TypeError):
        dumps_json({"f": object()})
    # a string that looks like the placeholder is left alone
    assert json.loads(dumps_json({"s": "\x000\x00", "n": Decimal("2.5")})) == {
        "s": "\x000\x00",
        "n": 2.5,
    }


def test_verify_digest() -> None:
    assert verify_digest("abc", "abc") and verify_digest(b"abc", "abc")
    assert not verify_digest("abc", "abd") and not verify_digest("abc", None)


def test_sandbox_clock() -> None:
    clock = SandboxClock(frozen_at=1000.0)
    assert clock.now() == 1000.0 and clock.now_ms() == 1_000_000
    clock.advance(5)
    assert clock.now() == 1005.0
    clock.unfreeze()
    assert abs(clock.now() - 1005.0) < 1.0
    clock.advance(-3600)
    live = clock.now()
    clock.freeze()
    assert clock.now() == pytest.approx(live, abs=1.0)
    clock.reset()
    import time

    assert abs(clock.now() - time.time()) < 1.0


def test_fault_skip_and_times() -> None:
    plan = FaultPlan()
    f = plan.add("status", "ep", skip=1, times=2)
    other = plan.add("reset", None, times=-1)
    picks = [plan.pick("ep") for _ in range(5)]
    assert picks == [other, f, f, other, other]
    assert f.fired == 2 and f.seen == 5
    assert plan.pick("different") is other
    plan.clear()
    assert plan.pick("ep") is None
    assert Fault("lost").matches("anything")


async def test_unrouted_and_unknown_routes(sandbox: FakexSandbox) -> None:
    assert sandbox.unrouted() == []
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"{sandbox.base_url}/nope") as r:
        assert r.status == 404
    entry = sandbox.journal.last()
    assert entry is not None and entry.endpoint is None and entry.status == 404


async def test_sandbox_enforces_catalog_rate_limits(sandbox: FakexSandbox) -> None:
    class NoClientLimits(LimiterRegistry):
        def for_endpoint(self, endpoint, scope=""):  # type: ignore[no-untyped-def]
            return None

    async with Client(
        Fakex, sandbox.profile(), limiters=NoClientLimits(), retry=RetryPolicy(max_attempts=1)
    ) as client:
        await client.call("limited")
        await client.call("limited")
        with pytest.raises(RateLimited):
            await client.call("limited")
        sandbox.enforce_rate_limits = False
        await client.call("limited")
    assert len(sandbox.journal.rejections("rate_limit")) == 1


async def test_auth_rejections_are_journaled(sandbox: FakexSandbox) -> None:
    from brokerport import AuthenticationError
    from brokerport.profile import Profile

    prof = Profile(
        vendor="fakex",
        base_url=sandbox.base_url,
        credentials={**sandbox.credentials(), "secret_key": "wrong"},
    )
    async with Client(Fakex, prof, retry=FAST_RETRY) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.call("account.get", account_id="a1")
        assert info.value.vendor_code == "50113" and info.value.http_status == 401
        assert await client.call("ping") == {"pong": True}  # public endpoint: no auth
    assert [e.rejected for e in sandbox.journal] == ["auth", None]
    sandbox.reset()
    assert len(sandbox.journal) == 0


async def test_profile_requires_started_sandbox() -> None:
    sb = FakexSandbox()
    with pytest.raises(RuntimeError):
        sb.profile()
    async with sb:
        url = sb.base_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert await sb.start() == url  # idempotent
        p = sb.profile("desk", region="eu")
        assert p.base_url == url and p.name == "desk" and p.option("region") == "eu"
    assert sb.base_url is None
