"""Order streams under faults, across vendors: 200 orders (100 on OKX's private
``orders`` channel, 100 on WhaleAPI's binary trade push) while each sandbox drops
the socket every 50 pushes and sends every 20th push twice (5 %). The host's
streams must yield every order's final state exactly once, with versions strictly
increasing per order, none lost. Reconnect sleeps are injected; nothing waits on
wall-clock time: the test waits for events.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.ratelimit import LimiterRegistry
from brokerport.streams import OrderStream

pytest.importorskip("brokerport_whale")

from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox
from brokerport_whale import WhaleAdapter
from brokerport_whale.sandbox import WhaleSandbox

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)
COUNT = 100  # per vendor


class NoLimits(LimiterRegistry):
    def for_endpoint(self, endpoint: Any, scope: str = "") -> None:
        return None


async def instant(delay: float) -> None:
    await asyncio.sleep(0)


def okx_order(n: int) -> m.PlaceOrder:
    return m.PlaceOrder(
        instrument="BTC-USDT",
        side="buy",
        order_type="limit",
        quantity=Decimal("0.03"),
        price=Decimal(100 + n),
        client_order_id=f"fx{n}",
        extra={"tdMode": "cash"},
    )


def whale_order(n: int) -> m.PlaceOrder:
    return m.PlaceOrder(
        instrument="700.HK",
        side="buy",
        order_type="limit",
        quantity=Decimal("100"),
        price=Decimal(300 + n % 50),
        account_id="M10001",  # the sandbox's seeded account
    )


async def finals(stream: OrderStream, ids: set[str]) -> dict[str, list[m.OrderEvent]]:
    """Every event until each order has yielded its final state."""
    seen: dict[str, list[m.OrderEvent]] = defaultdict(list)
    done: set[str] = set()
    while not ids <= done:
        event = await anext(stream)
        seen[event.order_id].append(event)
        if event.final:
            assert event.order_id not in done, f"{event.order_id}: a second final state"
            done.add(event.order_id)
    return seen


def check(seen: dict[str, list[m.OrderEvent]], ids: set[str], filled: Decimal) -> None:
    assert set(seen) == ids  # none lost, none invented
    for oid, events in seen.items():
        assert sum(e.final for e in events) == 1, oid
        assert events[-1].status == "filled" and events[-1].filled_quantity == filled, oid
        versions = [e.version for e in events]
        assert versions == sorted(versions) and len(set(versions)) == len(versions), oid


@pytest.mark.parametrize("vendor", ["okx", "whale"])
async def test_two_hundred_orders_across_vendors_survive_drops_and_duplicates(
    vendor: str,
) -> None:
    if vendor == "okx":
        box: Any = OkxSandbox(enforce_rate_limits=False, fill_steps=2, fill_every=1)
        adapter: Any = OkxAdapter
        order, filled = okx_order, Decimal("0.03")
    else:
        box = WhaleSandbox(fill_steps=2, fill_every=1)
        adapter = WhaleAdapter
        order, filled = whale_order, Decimal("100")
    box.push.faults.drop_every, box.push.faults.duplicate_every = 50, 20
    await box.start()
    try:
        profile = box.profile()
        async with Client(adapter, profile, retry=FAST, limiters=NoLimits()) as client:
            stream = await client.streams.orders(sleep=instant).ready()
            acks = [await client.trading.place_order(order(n)) for n in range(COUNT)]
            box.tick(3)  # fill what is still resting
            ids = {str(a.order_id) for a in acks}
            seen = await asyncio.wait_for(finals(stream, ids), timeout=60)
            await stream.aclose()
        check(seen, ids, filled)
        assert box.push.faults.dropped >= 3 and box.push.faults.duplicated >= 5
        assert stream.connections == box.push.faults.dropped + 1
        assert stream.duplicates >= 1
    finally:
        await box.stop()


async def test_whale_resumes_with_reconnect_and_falls_back_to_a_new_token() -> None:
    """A dropped socket resumes its session with RECONNECT; once the session has
    expired the sandbox answers 401003 and the client takes a new one-time token
    and AUTHs again, and the stream still yields every change."""
    box = WhaleSandbox(fill_steps=2, fill_every=0, session_ttl=5.0)
    box.push.faults.drop_every = 2
    await box.start()
    try:
        async with Client(WhaleAdapter, box.profile(), retry=FAST, limiters=NoLimits()) as client:
            stream = await client.streams.orders(sleep=instant).ready()
            protocol: Any = stream.protocol
            first = await client.trading.place_order(whale_order(1))
            await finals_or_live(stream, {str(first.order_id)})
            second = await client.trading.place_order(whale_order(2))  # push 2: dropped
            await finals_or_live(stream, {str(second.order_id)})
            assert protocol.reconnects >= 1 and protocol.auths == 1  # resumed, same session
            box.clock.advance(10)  # the session expires (the REST signature window is 60 s)
            third = await client.trading.place_order(whale_order(3))
            fourth = await client.trading.place_order(whale_order(4))  # dropped again
            await finals_or_live(stream, {str(third.order_id), str(fourth.order_id)})
            assert protocol.auths >= 2  # RECONNECT refused: a new token and AUTH
            await stream.aclose()
    finally:
        await box.stop()


async def finals_or_live(stream: OrderStream, ids: set[str]) -> None:
    """Events until each of ``ids`` has been seen at least once."""
    seen: set[str] = set()
    while not ids <= seen:
        event = await asyncio.wait_for(anext(stream), timeout=30)
        seen.add(event.order_id)
