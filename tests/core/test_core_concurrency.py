"""Concurrency, cancellation and pagination over one client."""

from __future__ import annotations

import asyncio
from typing import Any

import brokerport
import pytest
from brokerport import models as m
from brokerport.catalog import RateLimit
from brokerport.client import Client
from brokerport.ratelimit import Limiter
from brokerport.signing import PreparedRequest
from brokerport.transport import RawResponse, TransportSettings
from fakex_vendor import (
    FAST_RETRY,
    Fakex,
    FakexSandbox,
    mock_client,
    ok_response,
)


async def test_many_concurrent_calls_on_one_client(client: Client, sandbox: FakexSandbox) -> None:
    results = await asyncio.gather(
        *[client.call("account.get", account_id=f"acct{i}") for i in range(40)],
        *[
            client.call("order.place", symbol="BTC-USD", side="buy", qty=str(i + 1))
            for i in range(20)
        ],
    )
    assert [r["account_id"] for r in results[:40]] == [f"acct{i}" for i in range(40)]
    assert len({r["client_order_id"] for r in results[40:]}) == 20  # one key per call
    assert len(sandbox.journal.effects("order.place")) == 20
    assert all(e.status == 200 and e.rejected is None for e in sandbox.journal)


async def test_query_text_is_signed_exactly_as_sent(client: Client, sandbox: FakexSandbox) -> None:
    cursor = "a b/c+d&e=\u00e9%20~*'()!"
    await client.call("account.list", cursor=cursor, limit=5)
    await client.call("account.get", account_id="a b/c+\u00e9")
    for entry in sandbox.journal:
        assert entry.status == 200 and entry.rejected is None  # the sandbox verified them
    listing = sandbox.journal.for_endpoint("account.list")[0]
    assert listing.query.startswith("cursor=") and listing.query.endswith("&limit=5")


async def test_cancelled_call_leaves_client_usable(sandbox: FakexSandbox) -> None:
    async with Client(
        Fakex,
        sandbox.profile(),
        retry=FAST_RETRY,
        transport_settings=TransportSettings(read_timeout=5),
    ) as client:
        sandbox.faults.add("latency", "account.get", delay=2.0)
        task = asyncio.create_task(client.call("account.get", account_id="slow"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await client.call("account.get", account_id="fast"))["account_id"] == "fast"


async def test_cancelled_limiter_waiter_does_not_block_the_bucket() -> None:
    now = [0.0]
    forever = asyncio.Event()

    async def stuck_sleep(delay: float) -> None:
        await forever.wait()

    limiter = Limiter(RateLimit(1, 1.0), clock=lambda: now[0], sleep=stuck_sleep, margin=0.0)
    await limiter.acquire()
    limiter.release()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    now[0] = 5.0
    await asyncio.wait_for(limiter.acquire(), 1.0)  # the fast path is open again
    assert limiter.window.delay(now[0]) > 0


# ---------------------------------------------------------------- paginate


def _pages(pages: dict[str | None, tuple[list[str], str | None]]) -> Any:
    def handler(request: PreparedRequest) -> RawResponse:
        from urllib.parse import parse_qs

        cursor = parse_qs(request.query).get("cursor", [None])[0]
        names, nxt = pages[cursor]
        return ok_response({"items": [{"name": n} for n in names], "next": nxt})

    return handler


async def test_paginate_across_pages() -> None:
    client, transport = mock_client(
        _pages(
            {
                None: (["sub1", "sub2"], "c1"),
                "c1": (["sub3"], "c2"),
                "c2": ([], None),
            }
        )
    )
    async with client:
        names = [
            s.name async for s in brokerport.paginate(client.subaccounts.list, m.ListSubAccounts())
        ]
        assert names == ["sub1", "sub2", "sub3"]
        assert len(transport.requests) == 3
        transport.requests.clear()
        capped = [
            s.name
            async for s in brokerport.paginate(
                client.subaccounts.list, m.ListSubAccounts(), max_pages=1
            )
        ]
        assert capped == ["sub1", "sub2"] and len(transport.requests) == 1


async def test_paginate_stops_on_a_repeated_cursor() -> None:
    client, transport = mock_client(
        _pages(
            {
                None: (["sub1"], "c1"),
                "c1": (["sub2"], "c1"),
            }
        )
    )
    got: list[str] = []
    async with client:
        with pytest.raises(brokerport.BrokerportError, match="repeated a page cursor"):
            async for s in brokerport.paginate(client.subaccounts.list, m.ListSubAccounts()):
                got.append(s.name)
    assert got == ["sub1", "sub2"]
    assert len(transport.requests) == 2
