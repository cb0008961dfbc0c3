"""The "nothing lost, nothing sent twice" issue, core side: each test fails on the
defect it names (bounded answers, aclose, outcome-unknown answers, the retry
budget, aiohttp's silent re-send, money text, cancelled writes, the outbox)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest
from brokerport import (
    BrokerportError,
    ClientClosed,
    DecodeError,
    InvalidRequest,
    UnknownOutcome,
    VendorUnavailable,
    hookimpl,
)
from brokerport.adapter import MAX_ANSWER_DEPTH, parse_json
from brokerport.catalog import money
from brokerport.client import Client
from brokerport.outbox import MemoryOutbox, OutboxEntry
from brokerport.pipeline import RetryBudget, RetryPolicy
from brokerport.signing import PreparedRequest
from brokerport.transport import RawResponse, TransportFailure, TransportSettings
from brokerport.types import canonical_money, parse_money
from fakex_vendor import FAST_RETRY, Fakex, FakexSandbox, envelope, mock_client, raw

ORDER = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}


def deep(levels: int) -> bytes:
    return b'{"code":"0","msg":"","data":' + b"[" * levels + b"1" + b"]" * levels + b"}"


# ------------------------------------------------------- 1. bounded answers


def test_parse_json_refuses_answers_nested_past_the_bound() -> None:
    assert parse_json(raw(deep(MAX_ANSWER_DEPTH - 2))) is not None
    with pytest.raises(DecodeError, match="nests deeper"):
        parse_json(raw(deep(500)))
    # brackets inside strings are text, not nesting
    text = b'{"a":"' + b"[" * 1000 + b'"}'
    assert parse_json(raw(text)) == {"a": "[" * 1000}


class _SeeAll:
    def __init__(self) -> None:
        self.results: list[Any] = []

    @hookimpl
    def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
        self.results.append(result)


@pytest.mark.parametrize("levels", [500, 5000, 100_000])
async def test_deep_answer_is_decode_error_for_reads_unknown_for_writes(levels: int) -> None:
    hook = _SeeAll()
    client, _ = mock_client(lambda r: raw(deep(levels)), hooks=[hook])
    async with client:
        with pytest.raises(DecodeError):
            await client.call("account.get", account_id="a1")
        with pytest.raises(UnknownOutcome):
            await client.call("order.place", **ORDER)
    assert hook.results == []


async def test_answer_larger_than_the_bound_is_not_read_past_it(sandbox: FakexSandbox) -> None:
    from aiohttp import web

    big = b'{"code":"0","msg":"","data":"' + b"x" * 300_000 + b'"}'

    async def handler(request: Any) -> Any:
        return web.Response(body=big, content_type="application/json")

    # a plain server of its own (the vendor sandbox answers only its catalog's routes)
    app = web.Application()
    app.router.add_get("/api/v1/big", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for engine in ("auto", "aiohttp"):
            settings = TransportSettings(max_answer_bytes=100_000, engine=engine)  # type: ignore[arg-type]
            async with Client(
                Fakex, sandbox.profile(), retry=FAST_RETRY, transport_settings=settings
            ) as c:
                request = PreparedRequest("GET", f"http://127.0.0.1:{port}", "/api/v1/big")
                answer = await c.transport.send(request)
            assert len(answer.body) == 100_001, engine  # one byte past says "too large"
    finally:
        await runner.cleanup()
    # and the pipeline refuses such an answer
    client, _ = mock_client(lambda r: raw(b" " * (16 * 1024 * 1024 + 1)))
    async with client:
        with pytest.raises(DecodeError, match="larger than"):
            await client.call("account.get", account_id="a1")


# ------------------------------------------------------------------ 2. aclose


@pytest.mark.parametrize("engine", ["auto", "aiohttp"])
async def test_aclose_ends_calls_in_flight_with_typed_errors(
    sandbox: FakexSandbox, engine: Any
) -> None:
    sandbox.faults.add("timeout", "account.get", times=-1, delay=30.0)
    sandbox.faults.add("timeout", "order.place", times=-1, delay=30.0, after_effect=True)
    settings = TransportSettings(engine=engine)
    client = Client(Fakex, sandbox.profile(), retry=FAST_RETRY, transport_settings=settings)
    await client.open()
    reads = [asyncio.create_task(client.call("account.get", account_id="a1")) for _ in range(3)]
    writes = [asyncio.create_task(client.call("order.place", **ORDER)) for _ in range(2)]
    while len(sandbox.journal) < 5:  # every call is on the wire
        await asyncio.sleep(0)
    transport = client.transport
    await client.aclose()
    # after aclose() returns: every call has ended, with a typed error
    assert all(t.done() for t in reads + writes)
    for t in reads:
        assert isinstance(t.exception(), ClientClosed)
    for t in writes:
        err = t.exception()
        assert isinstance(err, UnknownOutcome) and err.outbox_id
    assert len(await client.outbox.list()) == 2

    # no session or connection is open, and none can be opened again by a late call
    def nothing_open() -> bool:
        if engine == "aiohttp":
            return transport._session is None  # type: ignore[attr-defined,no-any-return]
        return not transport._all  # type: ignore[attr-defined]

    assert nothing_open()
    sent = len(sandbox.journal)
    with pytest.raises(BrokerportError):
        await client.call("account.get", account_id="a1")
    with pytest.raises(TransportFailure):
        await transport.send(PreparedRequest("GET", sandbox.base_url or "", "/api/v1/ping"))
    assert nothing_open()
    assert len(sandbox.journal) == sent


async def test_aclose_stops_a_call_waiting_to_retry() -> None:
    gate = asyncio.Event()
    sent = 0

    async def handler(request: PreparedRequest) -> RawResponse:
        nonlocal sent
        sent += 1
        gate.set()
        return raw(b"", status=503)

    slow = RetryPolicy(base_delay=3600.0, max_delay=3600.0)  # would sleep an hour
    client, _ = mock_client(handler, retry=slow)
    await client.open()
    task = asyncio.create_task(client.call("account.get", account_id="a1"))
    await gate.wait()
    await client.aclose()
    assert task.done() and isinstance(task.exception(), ClientClosed)
    assert sent == 1


# ---------------------------------------------------- 3. outcome-unknown answers


async def test_5xx_with_vendor_body_after_write_is_unknown_outcome() -> None:
    client, transport = mock_client(lambda r: raw(envelope(None, code="50001"), status=503))
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.call("order.place", **ORDER)
        assert not isinstance(info.value, VendorUnavailable)
        assert info.value.vendor_code == "50001" and info.value.http_status == 503
        assert len(transport.requests) == 1


# --------------------------------------------------------------- 5. retry budget


def test_budget_refunds_what_a_succeeding_call_spent() -> None:
    budget = RetryBudget(500)
    assert budget.spend(5) and budget.spend(5)
    budget.refund(10)
    assert budget.tokens == 500


async def test_budget_does_not_drain_under_sustained_faults() -> None:
    """30 % of requests fail (seeded): no read is cut short while it has attempts left."""
    rng = random.Random(7)
    calls: dict[str, int] = {}

    def handler(request: PreparedRequest) -> RawResponse:
        calls[request.path] = calls.get(request.path, 0) + 1
        if rng.random() < 0.3:
            return raw(b"", status=503)
        return raw(envelope({"id": "a1"}))

    policy = RetryPolicy(base_delay=0.0, max_delay=0.0)
    client, _ = mock_client(handler, retry=policy)
    failed_early = failed = 0
    async with client:
        for n in range(2000):
            try:
                await client.call("account.get", account_id=f"a{n}")
            except VendorUnavailable:
                failed += 1
                if calls[f"/api/v1/accounts/a{n}"] < policy.max_attempts:
                    failed_early += 1
        assert client.pipeline.budget.tokens > policy.budget // 2
    assert failed_early == 0
    assert failed < 2000 * 0.3**3 * 2  # only calls whose every attempt failed


# ----------------------------------------------------- 6. no silent re-send


async def test_every_attempt_on_the_wire_is_one_the_pipeline_made() -> None:
    """A kept-alive connection dropped under the second request: aiohttp used to
    re-send it by itself; now the pipeline sees the failure and decides."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            seen.append(head.split(b"\r\n", 1)[0])
            if len(seen) == 2:  # the second request: read, then drop the connection
                writer.close()
                return
            body = envelope({"id": "a1"})
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    attempts: list[int] = []

    class Count:
        @hookimpl
        def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
            attempts.append(call.attempts)

        @hookimpl
        def brokerport_on_error(self, call: Any, error: Any) -> None:
            attempts.append(call.attempts)

    from fakex_vendor import profile

    no_retry = RetryPolicy(max_attempts=1)
    try:
        async with Client(
            Fakex, profile(f"http://127.0.0.1:{port}"), retry=no_retry, hooks=[Count()]
        ) as c:
            await c.call("account.get", account_id="a1")
            with pytest.raises(VendorUnavailable):
                await c.call("account.get", account_id="a1")
    finally:
        server.close()
        await server.wait_closed()
    assert sum(attempts) == len(seen) == 2


# -------------------------------------------------------------------- 7. money


@pytest.mark.parametrize(
    "text",
    ["1e2", " 100 ", "1_000", "١٠٠", "1e999999999", "+-1", "1.2.3", "", "0x10", "NaN", "1,5"],
)
def test_money_parser_refuses_text_that_is_not_plain_digits(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


def test_money_parser_bounds_and_canonical_text() -> None:
    with pytest.raises(ValueError, match="less than"):
        parse_money(Decimal("1E+200000"))
    with pytest.raises(ValueError, match="less than"):
        parse_money("1000", max_value=Decimal(1000))
    with pytest.raises(TypeError):
        parse_money(1.5)
    with pytest.raises(ValueError, match="decimal places"):
        parse_money("1.005", places=2)
    assert canonical_money(parse_money(Decimal("1E+2"))) == "100"
    assert canonical_money(parse_money("0100.500")) == "100.5"
    big = "9" * 17 + "." + "9" * 16
    assert canonical_money(parse_money(big, places=16)) == big  # exact, never rounded


def test_money_rule_carries_the_canonical_text() -> None:
    rule = money(2, max_value="1000")
    assert rule("999.99") is None
    assert rule("1000") and rule("1e2") and rule("١")
    assert rule.canonical("010.50") == "10.5"  # type: ignore[attr-defined]


# ----------------------------------------------- 8 / 10. cancelled writes, outbox


async def test_cancelled_write_is_recorded_and_reconcilable(sandbox: FakexSandbox) -> None:
    sandbox.faults.add("timeout", "order.place", delay=30.0, after_effect=True)
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as client:
        task = asyncio.create_task(client.call("order.place", **ORDER, client_id="c1"))
        while not sandbox.journal.effects("order.place"):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (entry,) = await client.outbox.list()
        assert entry.kind == "cancelled" and entry.endpoint == "order.place"
        assert entry.idempotency_key == "c1" and entry.params["symbol"] == "BTC-USD"
        verdict = await client.reconcile(entry)  # fakex declares no lookup: says so
        assert verdict.status == "unknown" and "no way" in verdict.detail
        assert await client.outbox.drain() == [entry]
        assert await client.outbox.list() == []


async def test_a_read_cancelled_is_not_recorded(sandbox: FakexSandbox) -> None:
    sandbox.faults.add("timeout", "account.get", delay=30.0)
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as client:
        task = asyncio.create_task(client.call("account.get", account_id="a1"))
        while not sandbox.journal.for_endpoint("account.get"):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await client.outbox.list() == []


async def test_every_unknown_outcome_goes_to_the_outbox() -> None:
    def lost(request: PreparedRequest) -> RawResponse:
        raise TransportFailure("disconnect", "connection lost")

    outbox = MemoryOutbox()
    client, _ = mock_client(lost, outbox=outbox)
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.call("sub.create", name="alice1", trade_password="pw")
    (entry,) = await outbox.list()
    assert entry.id == info.value.outbox_id and entry.kind == "unknown_outcome"
    assert entry.params == {"name": "alice1", "trade_password": "***"}
    assert OutboxEntry.from_json(entry.to_json()) == entry
    assert await outbox.remove(entry.id) and not await outbox.remove(entry.id)


async def test_invalid_money_never_reaches_the_wire() -> None:
    from brokerport.catalog import Endpoint, Param

    client, transport = mock_client(lambda r: raw(envelope({"ok": True})))
    async with client:
        ep = Endpoint("pay", "POST", "/pay", (Param("amount", rules=(money(2),)),))
        pipeline = client.pipeline
        pipeline._endpoints["pay"] = ep
        for bad in ("1e2", " 1 ", Decimal("1E+200000")):
            with pytest.raises(InvalidRequest):
                await client.call("pay", amount=bad)
        await client.call("pay", amount=Decimal("1E+2"))
        assert transport.requests[-1].body == b'{"amount":"100"}'
        assert len(transport.requests) == 1
