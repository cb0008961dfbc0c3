"""The request pipeline over real aiohttp round trips and MockTransport.

Retries for idempotent reads, UnknownOutcome for writes that may have taken
effect, timeouts, refused connections, signing inside the retry loop, vendor
rate limits, the retry budget.
"""

from __future__ import annotations

import json
import socket
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest
from brokerport import (
    InvalidRequest,
    RateLimited,
    Timeout,
    UnknownOutcome,
    VendorUnavailable,
)
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.signing import PreparedRequest
from brokerport.transport import (
    AiohttpTransport,
    RawResponse,
    TransportFailure,
    TransportSettings,
)
from fakex_vendor import (
    FAST_RETRY,
    SECRET_KEY,
    Fakex,
    FakexSandbox,
    body_json,
    envelope,
    mock_client,
    ok_response,
    profile,
    raw,
    signature,
)

ORDER = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record the pipeline's backoff sleeps without waiting for them."""
    import asyncio

    import brokerport.pipeline as pipeline_module

    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)
        await real_sleep(0)

    # only the pipeline's view of asyncio changes, and only its sleep
    patched = types.SimpleNamespace(**{**vars(asyncio), "sleep": fake_sleep})
    monkeypatch.setattr(pipeline_module, "asyncio", patched)
    yield recorded


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


class CountingTransport(AiohttpTransport):
    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.sent: list[PreparedRequest] = []

    async def send(self, request: PreparedRequest) -> RawResponse:
        self.sent.append(
            PreparedRequest(
                request.method,
                request.base_url,
                request.path,
                request.query,
                dict(request.headers),
                request.body,
            )
        )
        return await super().send(request)


# ------------------------------------------------------- idempotent retries


async def test_get_retries_through_5xx(client: Client, sandbox: FakexSandbox) -> None:
    sandbox.faults.add("status", "account.get", times=2, status=503)
    result = await client.call("account.get", account_id="a1")
    assert result["account_id"] == "a1"
    entries = sandbox.journal.for_endpoint("account.get")
    assert [e.status for e in entries] == [503, 503, 200]


async def test_get_retries_through_connection_resets(client: Client, sandbox: FakexSandbox) -> None:
    fault = sandbox.faults.add("reset", "account.get", times=2)
    result = await client.call("account.get", account_id="a1")
    assert result["account_id"] == "a1"
    assert fault.fired == 2
    entries = sandbox.journal.for_endpoint("account.get")
    assert entries[-1].status == 200
    assert [e.fault for e in entries] == ["reset", "reset", None]


async def test_get_gives_up_after_max_attempts(client: Client, sandbox: FakexSandbox) -> None:
    sandbox.faults.add("status", "account.get", times=-1, status=502)
    with pytest.raises(VendorUnavailable) as info:
        await client.call("account.get", account_id="a1")
    assert info.value.http_status == 502 and info.value.endpoint == "account.get"
    assert len(sandbox.journal.for_endpoint("account.get")) == FAST_RETRY.max_attempts


async def test_idempotent_put_is_retried(client: Client, sandbox: FakexSandbox) -> None:
    sandbox.faults.add("reset", "order.replace", times=1)
    result = await client.call("order.replace", order_id="o1", qty="2")
    assert result == {"order_id": "o1", "status": "live"}


# ---------------------------------------------------- non-idempotent writes


async def test_lost_post_is_unknown_outcome_with_one_effect(
    client: Client, sandbox: FakexSandbox
) -> None:
    sandbox.faults.add("lost", "order.place")
    with pytest.raises(UnknownOutcome) as info:
        await client.call("order.place", **ORDER)
    err = info.value
    entries = sandbox.journal.for_endpoint("order.place")
    assert len(entries) == 1, "a write that may have taken effect is never re-sent"
    assert len(sandbox.journal.effects("order.place")) == 1
    sent_key = json.loads(entries[0].body)["client_id"]
    assert err.idempotency_key == sent_key
    assert sent_key in sandbox.orders  # the effect happened with that key
    assert err.reconcile_with["client_id"] == sent_key
    assert err.reconcile_with["symbol"] == "BTC-USD"
    assert sent_key in (err.how_to_reconcile or "")
    assert err.vendor == "fakex" and err.endpoint == "order.place"
    assert not err.retryable
    # reconciling: re-sending with the same key is refused by the vendor as a duplicate
    from brokerport import Conflict

    with pytest.raises(Conflict):
        await client.call("order.place", **ORDER, client_id=sent_key)
    assert len(sandbox.journal.effects("order.place")) == 1


async def test_host_supplied_idempotency_key_is_used(client: Client, sandbox: FakexSandbox) -> None:
    sandbox.faults.add("lost", "order.place")
    with pytest.raises(UnknownOutcome) as info:
        await client.invoke("order.place", ORDER, idempotency_key="host-key-1")
    assert info.value.idempotency_key == "host-key-1"
    assert "host-key-1" in sandbox.orders
    # an explicit parameter wins over the keyword
    result = await client.invoke(
        "order.place", {**ORDER, "client_id": "param-key"}, idempotency_key="ignored"
    )
    assert result["client_order_id"] == "param-key"


async def test_lost_post_without_idempotency_param(client: Client, sandbox: FakexSandbox) -> None:
    sandbox.faults.add("lost", "sub.create")
    with pytest.raises(UnknownOutcome) as info:
        await client.call("sub.create", name="abcd1", label="desk")
    err = info.value
    assert err.idempotency_key is None
    assert err.reconcile_with == {"name": "abcd1", "label": "desk"}
    assert err.how_to_reconcile == "list sub-accounts and look for the name"
    assert len(sandbox.journal.for_endpoint("sub.create")) == 1
    assert "abcd1" in sandbox.subs


async def test_post_reset_before_handler_is_still_unknown(
    client: Client, sandbox: FakexSandbox
) -> None:
    # the client cannot tell a reset before the effect from one after it
    sandbox.faults.add("reset", "order.place")
    with pytest.raises(UnknownOutcome):
        await client.call("order.place", **ORDER)
    assert len(sandbox.journal.for_endpoint("order.place")) == 1
    assert sandbox.journal.effects("order.place") == []


async def test_5xx_answer_to_post_is_not_retried(client: Client, sandbox: FakexSandbox) -> None:
    # a vendor error body with a 5xx after a write: the write may have been applied
    sandbox.faults.add("status", "order.place", times=-1)
    with pytest.raises(UnknownOutcome):
        await client.call("order.place", **ORDER)
    assert len(sandbox.journal.for_endpoint("order.place")) == 1


# ------------------------------------------------------------------ timeouts


async def test_read_timeout(sandbox: FakexSandbox) -> None:
    settings = TransportSettings(read_timeout=0.2, total_timeout=5)
    async with Client(
        Fakex, sandbox.profile(), retry=FAST_RETRY, transport_settings=settings
    ) as client:
        sandbox.faults.add("timeout", "account.get", times=-1, delay=1.0)
        t0 = time.monotonic()
        with pytest.raises(Timeout) as info:
            await client.call("account.get", account_id="a1")
        assert time.monotonic() - t0 < 2.5
        assert info.value.endpoint == "account.get" and info.value.vendor == "fakex"
        assert len(sandbox.journal.for_endpoint("account.get")) == FAST_RETRY.max_attempts

        sandbox.faults.clear()
        sandbox.faults.add("timeout", "order.place", delay=1.0, after_effect=True)
        with pytest.raises(UnknownOutcome) as uo:
            await client.call("order.place", **ORDER)
        assert len(sandbox.journal.for_endpoint("order.place")) == 1
        assert uo.value.idempotency_key in sandbox.orders

        sandbox.faults.clear()
        sandbox.faults.add("timeout", "order.place", delay=1.0)  # held before any effect
        with pytest.raises(UnknownOutcome):
            await client.call("order.place", **ORDER)
        assert len(sandbox.journal.for_endpoint("order.place")) == 2

        # a timeout once, then an answer: the read recovers
        sandbox.faults.clear()
        sandbox.faults.add("timeout", "account.get", times=1, delay=1.0)
        assert (await client.call("account.get", account_id="a2"))["account_id"] == "a2"


# --------------------------------------------------------- refused connects


async def test_connect_refused_is_vendor_unavailable_and_retried_even_for_post() -> None:
    transport = CountingTransport(TransportSettings(connect_timeout=2))
    async with Client(
        Fakex, profile(f"http://127.0.0.1:{closed_port()}"), retry=FAST_RETRY, transport=transport
    ) as client:
        with pytest.raises(VendorUnavailable) as info:
            await client.call("account.get", account_id="a1")
        assert info.value.endpoint == "account.get"
        assert len(transport.sent) == FAST_RETRY.max_attempts
        transport.sent.clear()
        with pytest.raises(VendorUnavailable) as info2:
            await client.call("order.place", **ORDER)
        assert not isinstance(info2.value, UnknownOutcome)
        # never sent, so safe to retry: every attempt carries the same minted key
        assert len(transport.sent) == FAST_RETRY.max_attempts
        keys = {body_json(r)["client_id"] for r in transport.sent}
        assert len(keys) == 1
    await transport.aclose()


async def test_post_retried_after_connect_failure_then_succeeds() -> None:
    answers: list[Any] = [
        TransportFailure("connect", "refused"),
        TransportFailure("connect", "refused"),
    ]

    def handler(request: PreparedRequest) -> RawResponse:
        if answers:
            raise answers.pop(0)
        key = body_json(request)["client_id"]
        return ok_response({"order_id": "o1", "client_order_id": key})

    client, transport = mock_client(handler)
    async with client:
        result = await client.call("order.place", **ORDER)
    keys = [body_json(r)["client_id"] for r in transport.requests]
    assert len(keys) == 3 and len(set(keys)) == 1 and result["client_order_id"] == keys[0]


@pytest.mark.parametrize("kind", ["timeout", "disconnect"])
async def test_maybe_sent_failures_on_post_are_unknown(kind: str) -> None:
    def handler(request: PreparedRequest) -> RawResponse:
        raise TransportFailure(kind, "boom")  # type: ignore[arg-type]

    client, transport = mock_client(handler)
    async with client:
        with pytest.raises(UnknownOutcome):
            await client.call("order.place", **ORDER)
        with pytest.raises(Timeout if kind == "timeout" else VendorUnavailable):
            await client.call("account.get", account_id="a1")
    assert [r.endpoint for r in transport.requests] == ["order.place"] + ["account.get"] * 3


# --------------------------------------------------- signing per attempt


async def test_each_attempt_is_signed_with_a_fresh_timestamp() -> None:
    ticks = iter(range(1_700_000_000, 1_700_001_000, 7))
    statuses = [503, 503, 200]

    def handler(request: PreparedRequest) -> RawResponse:
        status = statuses.pop(0)
        if status != 200:
            return raw(envelope(None, code="50001", msg="busy"), status)
        return ok_response({"account_id": "a1"})

    client, transport = mock_client(handler, clock=lambda: float(next(ticks)))
    async with client:
        await client.call("account.get", account_id="a1")
    assert len(transport.requests) == 3
    stamps = [r.headers["X-FX-TS"] for r in transport.requests]
    assert stamps == ["1700000000.000", "1700000007.000", "1700000014.000"]
    for r in transport.requests:
        assert r.headers["X-FX-SIGN"] == signature(
            SECRET_KEY,
            r.headers["X-FX-TS"],
            r.method,
            r.path_with_query,
            r.headers,
            r.body or b"",
        )
    assert len({r.headers["X-FX-SIGN"] for r in transport.requests}) == 3
    # the bytes signed are the bytes sent: fixed once, before the loop
    assert len({(r.path_with_query, r.body) for r in transport.requests}) == 1


async def test_fresh_signatures_accepted_by_sandbox(sandbox: FakexSandbox) -> None:
    base = time.time()
    ticks = iter(range(100))
    async with Client(
        Fakex, sandbox.profile(), retry=FAST_RETRY, clock=lambda: base + next(ticks)
    ) as client:
        sandbox.faults.add("status", "account.get", times=2)
        await client.call("account.get", account_id="a1")
    entries = sandbox.journal.for_endpoint("account.get")
    assert len(entries) == 3 and entries[-1].status == 200 and not entries[-1].rejected
    assert len({e.headers["X-FX-TS"] for e in entries}) == 3


async def test_clock_offset_is_applied(sandbox: FakexSandbox) -> None:
    async with Client(
        Fakex, sandbox.profile(), retry=FAST_RETRY, clock=lambda: time.time() - 3600
    ) as client:
        from brokerport import AuthenticationError

        with pytest.raises(AuthenticationError):
            await client.call("account.get", account_id="a1")  # an hour behind: refused
        client.clock_offset = 3600.0
        assert (await client.call("account.get", account_id="a1"))["account_id"] == "a1"


# ------------------------------------------------------------ vendor 429s


def _rate_limited(retry_after: str | None = "0.25") -> RawResponse:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return RawResponse(
        429,
        {"Content-Type": "application/json", **headers},
        envelope(None, code="50011", msg="Too Many Requests"),
    )


@pytest.mark.parametrize("endpoint", ["account.get", "order.place"])
async def test_rate_limited_is_retried_after_retry_after(
    endpoint: str, sleeps: list[float]
) -> None:
    answers = [_rate_limited(), ok_response({"account_id": "a1", "order_id": "o1"})]
    client, transport = mock_client(lambda r: answers.pop(0))
    params = {"account_id": "a1"} if endpoint == "account.get" else ORDER
    async with client:
        await client.call(endpoint, **params)
    # a vendor's rate-limit refusal never took effect: safe even for a write
    assert len(transport.requests) == 2
    assert sleeps and max(sleeps) >= 0.25
    if endpoint == "order.place":
        keys = {body_json(r)["client_id"] for r in transport.requests}
        assert len(keys) == 1


async def test_rate_limited_exhausted_carries_retry_after(sleeps: list[float]) -> None:
    client, transport = mock_client(lambda r: _rate_limited("1.5"))
    async with client:
        with pytest.raises(RateLimited) as info:
            await client.call("account.get", account_id="a1")
    assert info.value.retry_after == 1.5 and info.value.http_status == 429
    assert info.value.vendor_code == "50011"
    assert len(transport.requests) == FAST_RETRY.max_attempts
    assert sleeps == [1.5] * (FAST_RETRY.max_attempts - 1)


async def test_sandbox_rate_limit_answer_is_rate_limited(sandbox: FakexSandbox) -> None:
    # a second client-side limiter-free path: call the limited endpoint directly,
    # with the client's limiter set far wider than the vendor's
    from brokerport.ratelimit import LimiterRegistry

    class NoLimits(LimiterRegistry):
        def for_endpoint(self, endpoint: Any, scope: str = "") -> None:
            return None

    async with Client(
        Fakex, sandbox.profile(), limiters=NoLimits(), retry=RetryPolicy(max_attempts=1)
    ) as client:
        await client.call("limited")
        await client.call("limited")
        with pytest.raises(RateLimited) as info:
            await client.call("limited")
    assert info.value.retry_after == 0.05
    assert [e.rejected for e in sandbox.journal.for_endpoint("limited")] == [
        None,
        None,
        "rate_limit",
    ]


async def test_client_limiter_keeps_under_vendor_limit(sandbox: FakexSandbox) -> None:
    import asyncio

    from brokerport.ratelimit import LimiterRegistry

    now = [0.0]

    async def fake_sleep(delay: float) -> None:
        now[0] += delay
        await asyncio.sleep(0)

    limiters = LimiterRegistry(clock=lambda: now[0], sleep=fake_sleep)
    async with Client(
        Fakex, sandbox.profile(), limiters=limiters, retry=RetryPolicy(max_attempts=1)
    ) as client:
        sandbox.enforce_rate_limits = False  # the sandbox's real-time window is not faked
        await asyncio.gather(*[client.call("limited") for _ in range(6)])
    limiter = limiters.for_endpoint(Fakex.catalog()["limited"], client.limiter_scope)
    assert limiter is not None
    assert limiter.waits >= 2
    assert now[0] >= 2.0  # 6 calls at 2/s: at least two full windows waited


# -------------------------------------------------------------- retry budget


async def test_retry_budget_stops_retries(sleeps: list[float]) -> None:
    policy = RetryPolicy(max_attempts=10, budget=10, retry_cost=5, base_delay=0.001)
    client, transport = mock_client(
        lambda r: raw(envelope(None, code="50001", msg="down"), 503), retry=policy
    )
    async with client:
        with pytest.raises(VendorUnavailable):
            await client.call("account.get", account_id="a1")
        assert len(transport.requests) == 3  # 10 tokens: two retries of 5
        assert client.pipeline.budget.tokens == 0
        transport.requests.clear()
        with pytest.raises(VendorUnavailable):
            await client.call("account.get", account_id="a1")
        assert len(transport.requests) == 1  # budget empty: no retry at all
        transport.handler = lambda r: ok_response({"account_id": "a1"})
        await client.call("account.get", account_id="a1")
        assert client.pipeline.budget.tokens == 1  # a success refunds one token


async def test_timeout_spends_more_budget(sleeps: list[float]) -> None:
    policy = RetryPolicy(max_attempts=10, budget=20, retry_cost=5, timeout_cost=10)

    def handler(request: PreparedRequest) -> RawResponse:
        raise TransportFailure("timeout", "slow")

    client, transport = mock_client(handler, retry=policy)
    async with client:
        with pytest.raises(Timeout):
            await client.call("account.get", account_id="a1")
    assert len(transport.requests) == 3


def test_backoff_is_bounded_full_jitter() -> None:
    import random

    policy = RetryPolicy(base_delay=0.1, max_delay=0.5)
    rng = random.Random(7)
    for attempt in range(1, 10):
        cap = min(0.5, 0.1 * 2 ** (attempt - 1))
        for _ in range(50):
            assert 0 <= policy.backoff(attempt, rng) <= cap


# ------------------------------------------------------------- call errors


async def test_unknown_endpoint_name(client: Client, sandbox: FakexSandbox) -> None:
    with pytest.raises(InvalidRequest, match=r"no endpoint named 'orders\.nuke'"):
        await client.call("orders.nuke")
    assert len(sandbox.journal) == 0
