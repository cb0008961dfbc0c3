"""A plain client written only from OKX's public V5 specification (aiohttp, hand-written
signing, no brokerport) runs a standard trading flow against the sandbox:
load instruments and currencies -> place (with the broker code in tag) -> amend ->
cancel -> batch -> algo. Once in process, once through ``brokerport sandbox okx --demo
--json`` in a subprocess, given only what the command printed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from brokerport_okx.sandbox import OkxSandbox


class SpecClient:
    """OKX V5 REST as its public documentation describes it."""

    def __init__(self, base_url: str, creds: dict[str, str], *, demo: bool) -> None:
        self.base_url, self.creds, self.demo = base_url, creds, demo
        self.session = aiohttp.ClientSession()

    async def request(
        self, method: str, path: str, params: Any = None, *, sign: bool = True
    ) -> tuple[int, dict[str, Any]]:
        body = ""
        if method == "GET" and params:
            path += "?" + urlencode(params)
        elif method == "POST":
            body = json.dumps(params if params is not None else {})
        now = datetime.now(UTC)
        ts = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        headers = {"Content-Type": "application/json"}
        if sign:
            mac = hmac.new(
                self.creds["secret_key"].encode(),
                (ts + method + path + body).encode(),
                hashlib.sha256,
            )
            headers |= {
                "OK-ACCESS-KEY": self.creds["api_key"],
                "OK-ACCESS-SIGN": base64.b64encode(mac.digest()).decode(),
                "OK-ACCESS-TIMESTAMP": ts,
                "OK-ACCESS-PASSPHRASE": self.creds["passphrase"],
            }
        if self.demo:
            headers["x-simulated-trading"] = "1"
        async with self.session.request(
            method, self.base_url + path, data=body or None, headers=headers
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def close(self) -> None:
        await self.session.close()


def _step(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


async def standard_flow(c: SpecClient, broker_code: str) -> None:
    # 1. reference data, as client libraries load it before trading
    status, r = await c.request(
        "GET", "/api/v5/public/instruments", {"instType": "SPOT"}, sign=False
    )
    assert status == 200 and r["code"] == "0"
    inst = next(i for i in r["data"] if i["instId"] == "ETH-USDT")
    tick, lot, min_sz = (Decimal(inst[k]) for k in ("tickSz", "lotSz", "minSz"))
    assert inst["baseCcy"] == "ETH" and inst["quoteCcy"] == "USDT" and inst["state"] == "live"
    _, r = await c.request("GET", "/api/v5/asset/currencies", {"ccy": "USDT"})
    chains = {cur["chain"] for cur in r["data"]}
    assert r["code"] == "0" and {"USDT-TRC20", "USDT-ERC20"} <= chains
    assert all(cur["ccy"] == "USDT" and "minFee" in cur and "minWd" in cur for cur in r["data"])

    # 2. place, amend, cancel one order (tag = broker code, as the broker document asks)
    px, sz = _step(Decimal("1500.123"), tick), min_sz * 3
    order = {"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
    order |= {"px": str(px), "sz": str(sz), "clOrdId": "flow1", "tag": broker_code}
    _, r = await c.request("POST", "/api/v5/trade/order", order)
    assert r["code"] == "0", r
    item = r["data"][0]
    assert item["sCode"] == "0" and item["tag"] == broker_code and item["clOrdId"] == "flow1"
    ord_id = item["ordId"]
    new_px = str(px + tick)
    _, r = await c.request(
        "POST",
        "/api/v5/trade/amend-order",
        {"instId": "ETH-USDT", "ordId": ord_id, "newPx": new_px},
    )
    assert r["code"] == "0" and r["data"][0]["sCode"] == "0", r
    _, r = await c.request("GET", "/api/v5/trade/order", {"instId": "ETH-USDT", "ordId": ord_id})
    assert r["data"][0]["px"] == new_px and r["data"][0]["tag"] == broker_code
    _, r = await c.request(
        "POST", "/api/v5/trade/cancel-order", {"instId": "ETH-USDT", "ordId": ord_id}
    )
    assert r["code"] == "0" and r["data"][0]["sCode"] == "0"

    # sizes and prices are checked against the instrument, as OKX does
    _, r = await c.request("POST", "/api/v5/trade/order", order | {"sz": str(min_sz / 2)})
    assert r["code"] == "1" and r["data"][0]["sCode"] == "51020"
    _, r = await c.request("POST", "/api/v5/trade/order", order | {"sz": str(sz + lot / 10)})
    assert r["data"][0]["sCode"] == "51121"
    _, r = await c.request("POST", "/api/v5/trade/order", order | {"px": str(px + tick / 10)})
    assert r["data"][0]["sCode"] == "51000"

    # 3. a batch: one item per order, each with its own sCode
    batch = [order | {"clOrdId": f"flowb{i}", "px": str(px - i * tick)} for i in range(1, 4)] + [
        order | {"clOrdId": "flowbad", "instId": "NOPE-USDT"}
    ]
    _, r = await c.request("POST", "/api/v5/trade/batch-orders", batch)
    assert r["code"] == "2", r  # partial success
    codes = [i["sCode"] for i in r["data"]]
    assert codes == ["0", "0", "0", "51001"]
    assert all(i["tag"] == broker_code for i in r["data"])
    placed = [{"instId": "ETH-USDT", "ordId": i["ordId"]} for i in r["data"][:3]]
    amends = [p | {"newSz": str(sz * 2)} for p in placed]
    _, r = await c.request("POST", "/api/v5/trade/amend-batch-orders", amends)
    assert r["code"] == "0" and [i["sCode"] for i in r["data"]] == ["0"] * 3
    _, r = await c.request("POST", "/api/v5/trade/cancel-batch-orders", placed)
    assert r["code"] == "0" and [i["sCode"] for i in r["data"]] == ["0"] * 3

    # 4. an algo order (one-way take-profit / stop-loss), looked up and cancelled
    algo = {"instId": "ETH-USDT", "tdMode": "cash", "side": "sell", "ordType": "conditional"}
    algo |= {"sz": str(sz), "tpTriggerPx": str(px * 2), "tpOrdPx": "-1", "tag": broker_code}
    _, r = await c.request("POST", "/api/v5/trade/order-algo", algo | {"algoClOrdId": "flowalgo1"})
    assert r["code"] == "0" and r["data"][0]["sCode"] == "0", r
    algo_id = r["data"][0]["algoId"]
    assert r["data"][0]["tag"] == broker_code
    _, r = await c.request("GET", "/api/v5/trade/order-algo", {"algoId": algo_id})
    got = r["data"][0]
    assert (
        got["state"] == "live"
        and got["ordType"] == "conditional"
        and got["algoClOrdId"] == "flowalgo1"
    )
    _, r = await c.request(
        "POST", "/api/v5/trade/cancel-algos", [{"instId": "ETH-USDT", "algoId": algo_id}]
    )
    assert r["code"] == "0" and r["data"][0]["sCode"] == "0"
    _, r = await c.request("GET", "/api/v5/trade/order-algo", {"algoClOrdId": "flowalgo1"})
    assert r["data"][0]["state"] == "canceled"

    # 5. outside the catalog OKX answers in its envelope, never in plain text
    status, r = await c.request("GET", "/api/v5/trade/no-such-endpoint")
    assert status == 404 and r["code"] == "404" and r["data"] == []
    status, r = await c.request("DELETE", "/api/v5/trade/order", sign=False)
    assert status == 405 and r["code"] == "50115"


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[OkxSandbox]:
    box = OkxSandbox(demo=True)
    await box.start()
    yield box
    await box.stop()


async def test_plain_client_standard_flow_in_process(sandbox: OkxSandbox) -> None:
    assert sandbox.base_url is not None
    client = SpecClient(sandbox.base_url, sandbox.demo_credentials(), demo=True)
    try:
        await standard_flow(client, sandbox.broker_code)
    finally:
        await client.close()
    assert len(sandbox.journal.effects("trade.batch_orders")) == 1
    batch = sandbox.journal.for_endpoint("trade.batch_orders")[0]
    assert json.loads(batch.body)[0]["clOrdId"] == "flowb1"  # the raw array body


async def test_plain_client_standard_flow_through_the_cli() -> None:
    cmd = [sys.executable, "-m", "brokerport", "sandbox", "okx", "--demo", "--json"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, "--seconds", "60", stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        info = json.loads(line)
        assert info["vendor"] == "okx" and info["profile_options"]["simulated"] == "1"
        assert set(info["credential_sets"]) == {"live", "demo"}
        assert info["credentials"] == info["credential_sets"]["demo"]
        names = {ep["name"] for ep in info["endpoints"]}
        assert {"public.instruments", "trade.batch_orders", "trade.place_algo_order"} <= names
        client = SpecClient(info["base_url"], info["credential_sets"]["demo"], demo=True)
        try:
            await standard_flow(client, info["identifiers"]["broker_code"])
            # the live key is refused in the demo environment (and vice versa)
            live = SpecClient(info["base_url"], info["credential_sets"]["live"], demo=True)
            try:
                status, r = await live.request("GET", "/api/v5/asset/currencies")
                assert status == 401 and r["code"] == "50101"
            finally:
                await live.close()
        finally:
            await client.close()
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("flag", ["--seed"])
def test_seeded_sandboxes_print_the_same_credentials(flag: str) -> None:
    import subprocess

    def run() -> dict[str, Any]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "brokerport",
                "sandbox",
                "okx",
                "--json",
                flag,
                "42",
                "--seconds",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return dict(json.loads(out.stdout.splitlines()[0]))

    first, second = run(), run()
    assert first["credential_sets"] == second["credential_sets"]
    assert first["identifiers"]["oauth_client_id"] == second["identifiers"]["oauth_client_id"]
