"""Documented rate limits: the sandbox enforces them (50011, HTTP 429), the client keeps them."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import attrs
import pytest_asyncio
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox
from brokerport_okx.signing import okx_timestamp, sign


@pytest_asyncio.fixture
async def strict() -> Any:
    sb = OkxSandbox()  # rate limits enforced
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


async def _signed(
    session: aiohttp.ClientSession,
    sb: OkxSandbox,
    method: str,
    path: str,
    body: bytes = b"",
    creds: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    c = creds or sb.live_credentials()
    ts = okx_timestamp(time.time())
    headers = {
        "OK-ACCESS-KEY": c["api_key"],
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": c["passphrase"],
        "OK-ACCESS-SIGN": sign(c["secret_key"], ts, method, path, body),
        "Content-Type": "application/json",
    }
    assert sb.base_url
    async with session.request(
        method, sb.base_url + path, data=body or None, headers=headers
    ) as resp:
        return resp.status, json.loads(await resp.read())


def test_catalog_limits_are_the_documented_ones() -> None:
    cat = OkxAdapter.catalog()
    expected = {
        "broker.dma.create_subaccount": (40, 1),
        "broker.dma.delete_subaccount": (10, 1),
        "broker.dma.subaccount_info": (1, 1),
        "broker.dma.subaccount_trade_fee": (1, 1),
        "broker.dma.create_apikey": (40, 1),
        "broker.dma.get_apikey": (1, 1),
        "broker.dma.modify_apikey": (10, 1),
        "broker.dma.delete_apikey": (10, 1),
        "broker.dma.set_subaccount_level": (5, 2),
        "broker.dma.create_deposit_address": (10, 1),
        "broker.dma.modify_deposit_address": (6, 1),
        "broker.dma.get_deposit_address": (6, 1),
        "broker.dma.deposit_history": (5, 2),
        "broker.dma.withdrawal_history": (5, 2),
        "broker.dma.set_subaccount_assets": (40, 1),
        "broker.dma.report_subaccount_ip": (40, 1),
        "broker.fd.get_rebate_link": (2, 60),
        "broker.fd.generate_rebate_link": (1, 3600),
        "broker.fd.if_rebate": (5, 2),
    }
    for name, (count, per) in expected.items():
        limit = cat[name].rate_limit
        assert limit is not None and (limit.count, limit.per) == (count, per), name
    assert cat["broker.fd.generate_rebate_link"].rate_limit.describe() == "1/h"  # type: ignore[union-attr]
    assert cat["broker.fd.get_rebate_link"].rate_limit.describe() == "2/min"  # type: ignore[union-attr]


async def test_sandbox_answers_50011_with_http_429(strict: OkxSandbox) -> None:
    async with aiohttp.ClientSession() as s:
        results = [
            await _signed(s, strict, "GET", "/api/v5/broker/dma/subaccount-info") for _ in range(3)
        ]
        assert results[0][1]["code"] == "0"
        assert results[1] == (429, {"code": "50011", "msg": "Too Many Requests", "data": []})
        # 1 per hour: a second generation request is refused
        body = b'{"begin":"20210623","end":"20210626"}'
        first = await _signed(s, strict, "POST", "/api/v5/broker/fd/rebate-per-orders", body)
        second = await _signed(s, strict, "POST", "/api/v5/broker/fd/rebate-per-orders", body)
    assert first[1]["code"] == "0" and second[1]["code"] == "50011"
    assert len(strict.journal.rejections("rate_limit")) == 3


async def test_limits_are_per_user_id(strict: OkxSandbox) -> None:
    """A second key of the same user shares the bucket; another user has its own."""
    strict.demo_key.demo = False  # a second live key of the broker user
    second = {k: v for k, v in strict.demo_credentials().items() if k != "simulated"}
    path = "/api/v5/broker/dma/subaccount-info"
    async with aiohttp.ClientSession() as s:
        assert (await _signed(s, strict, "GET", path))[0] == 200
        assert (await _signed(s, strict, "GET", path, creds=second))[0] == 429
        # a sub-account user's bucket is separate from the broker's
        body = b'{"subAcct":"brokerTest5"}'
        await _signed(s, strict, "POST", "/api/v5/broker/dma/create-subaccount", body)
        key_body = (
            b'{"subAcct":"brokerTest5","label":"k1","passphrase":"Qwr4321!",'
            b'"perm":"read_only,trade"}'
        )
        _, doc = await _signed(s, strict, "POST", "/api/v5/broker/dma/subaccount/apikey", key_body)
        sub = {
            "api_key": doc["data"][0]["apiKey"],
            "secret_key": doc["data"][0]["secretKey"],
            "passphrase": "Qwr4321!",
        }
        order = b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}'
        assert (await _signed(s, strict, "POST", "/api/v5/trade/order", order))[0] == 200
        assert (await _signed(s, strict, "POST", "/api/v5/trade/order", order, creds=sub))[0] == 200
    assert len(strict.journal.rejections("rate_limit")) == 1


async def test_client_burst_never_trips_the_limit(strict: OkxSandbox) -> None:
    """90 creations at 40/s: the client spreads them, the sandbox rejects none."""
    async with Client(OkxAdapter, strict.profile(), retry=RetryPolicy(max_attempts=1)) as client:
        started = time.monotonic()
        await asyncio.gather(
            *(
                client.call("broker.dma.create_subaccount", subAcct=f"burst{i:04d}")
                for i in range(90)
            )
        )
        elapsed = time.monotonic() - started
    assert not strict.journal.rejections("rate_limit")
    assert len(strict.subaccounts) == 90
    assert elapsed >= 2.0  # 40 + 40 + 10: the third window opens after 2 s
    times = sorted(e.at for e in strict.journal.for_endpoint("broker.dma.create_subaccount"))
    for i in range(len(times) - 40):
        assert times[i + 40] - times[i] >= 1.0, "more than 40 requests in one second"


async def test_one_per_second_read_spreads(strict: OkxSandbox) -> None:
    async with Client(OkxAdapter, strict.profile(), retry=RetryPolicy(max_attempts=1)) as client:
        await asyncio.gather(
            *(client.call("broker.dma.get_apikey", subAcct="nobody1") for _ in range(2)),
            return_exceptions=True,
        )
    assert not strict.journal.rejections("rate_limit")
    a, b = (e.at for e in strict.journal.for_endpoint("broker.dma.get_apikey"))
    assert b - a >= 1.0


async def test_margin_is_zero_unless_the_profile_widens_it(strict: OkxSandbox) -> None:
    # slots are held until answered: no margin by default; rate_limit_margin widens it
    async with Client(OkxAdapter, strict.profile()) as client:
        ep = client.catalog["broker.dma.create_subaccount"]
        limiter = client.limiters.for_endpoint(ep, client.limiter_scope)
        assert limiter is not None and limiter.window.margin == 0.0
    profile = attrs.evolve(
        strict.profile(), options={**strict.profile().options, "rate_limit_margin": "0.1"}
    )
    async with Client(OkxAdapter, profile) as client:
        ep = client.catalog["broker.dma.create_subaccount"]
        limiter = client.limiters.for_endpoint(ep, client.limiter_scope)
        assert limiter is not None and limiter.window.margin == 0.1
        ep = client.catalog["broker.fd.generate_rebate_link"]
        limiter = client.limiters.for_endpoint(ep, client.limiter_scope)
        assert limiter is not None and limiter.window.margin == 0.25
