"""OKX's private ``orders`` channel: the client's protocol against the sandbox's socket.

The sandbox verifies the login with its own code from OKX's document; fills
follow its deterministic schedule (``tick``); faults drop sockets and
duplicate pushes. Nothing waits on wall-clock time: reconnect sleeps are
injected, and the tests wait for events.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.ratelimit import LimiterRegistry
from brokerport.streams import OrderStream, StreamError
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox
from brokerport_okx.streams import order_event

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)


class NoLimits(LimiterRegistry):
    def for_endpoint(self, endpoint: Any, scope: str = "") -> None:
        return None


async def instant(delay: float) -> None:
    await asyncio.sleep(0)


@pytest_asyncio.fixture
async def filling() -> AsyncIterator[OkxSandbox]:
    sb = OkxSandbox(enforce_rate_limits=False, fill_steps=2, fill_every=1)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


def limit(n: int, qty: str = "0.02") -> m.PlaceOrder:
    return m.PlaceOrder(
        instrument="BTC-USDT",
        side="buy",
        order_type="limit",
        quantity=Decimal(qty),
        price=Decimal(100 + n),
        client_order_id=f"st{n}",
        extra={"tdMode": "cash"},
    )


async def events_until(stream: OrderStream, n: int) -> list[m.OrderEvent]:
    return [await anext(stream) for _ in range(n)]


async def test_order_lifecycle_is_pushed(sandbox: OkxSandbox) -> None:
    async with Client(OkxAdapter, sandbox.profile(), retry=FAST) as client:
        assert "streams.orders" in client.capabilities
        async with client.streams.orders() as stream:
            ack = await client.trading.place_order(limit(1))
            live = await anext(stream)
            assert (live.order_id, live.client_order_id, live.status) == (
                ack.order_id,
                "st1",
                "live",
            )
            assert live.remaining_quantity == Decimal("0.02") and live.average_price is None
            assert live.at.tzinfo is not None and live.raw["instId"] == "BTC-USDT"
            ref = m.AmendOrder(
                instrument="BTC-USDT", order_id=ack.order_id, new_quantity=Decimal("0.03")
            )
            await client.trading.amend_order(ref)
            amended = await anext(stream)
            assert amended.quantity == Decimal("0.03") and amended.status == "live"
            await client.trading.cancel_order(
                m.OrderRef(instrument="BTC-USDT", order_id=ack.order_id)
            )
            cancelled = await anext(stream)
            assert cancelled.status == "cancelled" and cancelled.final
            assert cancelled.vendor_status == "canceled"
            assert live.version < amended.version < cancelled.version
    assert [e.endpoint for e in sandbox.journal if e.endpoint and "websocket" in e.endpoint] == [
        "websocket:/ws/v5/private"
    ]


async def test_the_fill_schedule_pushes_partial_fills(filling: OkxSandbox) -> None:
    client = Client(OkxAdapter, filling.profile(), retry=FAST)
    spot = m.OrderStreamQuery(instrument_type="SPOT")
    async with client, client.streams.orders(spot) as stream:
        await client.trading.place_order(limit(1))  # tick 1: nothing resting before it
        assert (await anext(stream)).status == "live"
        filling.tick()
        part = await anext(stream)
        assert (part.status, part.filled_quantity, part.remaining_quantity) == (
            "partially_filled",
            Decimal("0.01"),
            Decimal("0.01"),
        )
        assert part.average_price == Decimal(101)
        filling.tick()
        done = await anext(stream)
        assert (done.status, done.filled_quantity, done.remaining_quantity) == (
            "filled",
            Decimal("0.02"),
            Decimal(0),
        )


async def test_a_market_order_is_pushed_filled(sandbox: OkxSandbox) -> None:
    client = Client(OkxAdapter, sandbox.profile(), retry=FAST)
    async with client, client.streams.orders() as stream:
        order = m.PlaceOrder(
            instrument="BTC-USDT",
            side="buy",
            order_type="market",
            quantity=Decimal("0.01"),
            extra={"tdMode": "cash"},
        )
        await client.trading.place_order(order)
        event = await anext(stream)
        assert event.status == "filled" and event.average_price == Decimal(100)


async def test_instrument_filter(sandbox: OkxSandbox) -> None:
    async with Client(OkxAdapter, sandbox.profile(), retry=FAST) as client:
        query = m.OrderStreamQuery(instrument_type="SPOT", instrument="ETH-USDT")
        async with client.streams.orders(query) as stream:
            await client.trading.place_order(limit(1))  # BTC-USDT: not for this socket
            eth = m.PlaceOrder(
                instrument="ETH-USDT",
                side="sell",
                order_type="limit",
                quantity=Decimal("1"),
                price=Decimal("3000"),
                extra={"tdMode": "cash"},
            )
            ack = await client.trading.place_order(eth)
            assert (await anext(stream)).order_id == ack.order_id


@pytest.mark.parametrize(
    ("change", "code"),
    [("secret_key", "60007"), ("passphrase", "60024"), ("api_key", "60005")],
)
async def test_the_sandbox_refuses_a_bad_login(sandbox: OkxSandbox, change: str, code: str) -> None:
    profile = sandbox.profile()
    creds = {k: v.reveal() for k, v in profile.credentials.items()} | {change: "wrong-" + change}
    bad = type(profile)(vendor="okx", name="bad", base_url=profile.base_url, credentials=creds)
    async with Client(OkxAdapter, bad, retry=FAST) as client:
        with pytest.raises(StreamError) as err:
            await client.streams.orders().ready()
    assert err.value.vendor_code == code


async def test_a_stale_login_timestamp_is_refused(sandbox: OkxSandbox) -> None:
    async with Client(
        OkxAdapter, sandbox.profile(), retry=FAST, clock=lambda: time.time() - 60
    ) as c:
        with pytest.raises(StreamError) as err:
            await c.streams.orders().ready()
    assert err.value.vendor_code == "60006"


async def test_demo_keys_log_in_on_the_demo_url_only() -> None:
    async with OkxSandbox(demo=True) as sb:
        async with Client(OkxAdapter, sb.profile(), retry=FAST) as client:
            stream = await client.streams.orders().ready()
            assert "brokerId=9999" in sb.journal.entries[-1].query
            await stream.aclose()
        profile = sb.profile(simulated="0")
        creds = {k: v.reveal() for k, v in profile.credentials.items() if k != "simulated"}
        live = type(profile)(vendor="okx", name="l", base_url=profile.base_url, credentials=creds)
        async with Client(OkxAdapter, live, retry=FAST) as client:
            with pytest.raises(StreamError) as err:
                await client.streams.orders().ready()
            assert err.value.vendor_code == "60009"


async def test_raw_socket_rules(sandbox: OkxSandbox) -> None:
    """ping/pong, subscribe before login (60011), a bad channel (60018), OKX's login."""
    creds = sandbox.live_credentials()
    url = sandbox.base_url + "/ws/v5/private"  # type: ignore[operator]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str("ping")
        assert await ws.receive_str() == "pong"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        assert (await ws.receive_json())["code"] == "60011"
        ts = str(int(time.time()))
        mac = hmac.new(
            creds["secret_key"].encode(), (ts + "GET/users/self/verify").encode(), hashlib.sha256
        )
        login = {"apiKey": creds["api_key"], "passphrase": creds["passphrase"], "timestamp": ts}
        login["sign"] = base64.b64encode(mac.digest()).decode()
        await ws.send_json({"op": "login", "args": [login]})
        answer = await ws.receive_json()
        assert (answer["event"], answer["code"]) == ("login", "0")
        await ws.send_json({"op": "subscribe", "args": [{"channel": "tickers", "instType": "ANY"}]})
        assert (await ws.receive_json())["code"] == "60018"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
        assert (await ws.receive_json())["event"] == "subscribe"


def test_order_event_reads_okx_numbers_as_decimal() -> None:
    doc = {
        "ordId": "1",
        "clOrdId": "",
        "state": "partially_filled",
        "sz": "2.5",
        "accFillSz": "1.25",
        "avgPx": "30000.1",
        "px": "30000.2",
        "uTime": "1700000000123",
        "instId": "BTC-USDT",
        "side": "buy",
    }
    event = order_event(doc)
    assert event.remaining_quantity == Decimal("1.25") and event.average_price == Decimal("30000.1")
    assert event.client_order_id is None and event.at.microsecond == 123000
    assert json.loads(json.dumps(dict(event.raw))) == doc


async def test_orders_survive_dropped_sockets_and_duplicates(filling: OkxSandbox) -> None:
    """100 orders; the socket is dropped every 50 pushes and every 20th push is sent
    twice: every order's final state arrives once, in order, none lost."""
    filling.push.faults.drop_every, filling.push.faults.duplicate_every = 50, 20
    count = 100
    async with Client(OkxAdapter, filling.profile(), retry=FAST, limiters=NoLimits()) as client:
        stream = await client.streams.orders(sleep=instant).ready()
        acks = [await client.trading.place_order(limit(n, "0.03")) for n in range(count)]
        filling.tick(3)  # fill what is still resting
        ids = {a.order_id for a in acks}
        seen: dict[str, list[m.OrderEvent]] = defaultdict(list)
        finals: dict[str, int] = defaultdict(int)
        while sum(1 for i in ids if finals[i]) < count:
            event = await anext(stream)
            seen[event.order_id].append(event)
            finals[event.order_id] += event.final
        await stream.aclose()
    assert filling.push.faults.dropped >= 3 and filling.push.faults.duplicated >= 5
    assert stream.connections == filling.push.faults.dropped + 1
    assert stream.duplicates >= 1 and stream.resynced >= 1
    assert set(seen) == ids
    for oid, events in seen.items():
        assert finals[oid] == 1, oid
        assert events[-1].status == "filled" and events[-1].filled_quantity == Decimal("0.03")
        versions = [e.version for e in events]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
