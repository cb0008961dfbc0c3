"""A client written to OKX's public spec (plain aiohttp, hand-written signing, no brokerport)
works against the sandbox given only the base URL and credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest_asyncio
from brokerport_okx.sandbox import OkxSandbox


class PlainOkxClient:
    """What an OKX integrator writes from the public V5 docs."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret_key: str,
        passphrase: str,
        *,
        simulated: bool = False,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.secret_key = secret_key
        self.passphrase = passphrase
        self.simulated = simulated
        self.session = aiohttp.ClientSession()

    @staticmethod
    def timestamp() -> str:
        now = datetime.now(UTC)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    async def request(
        self, method: str, path: str, params: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        body = ""
        if method == "GET" and params:
            path = path + "?" + urlencode(params)
        elif method == "POST":
            body = json.dumps(params or {})
        ts = self.timestamp()
        mac = hmac.new(
            self.secret_key.encode(), (ts + method + path + body).encode(), hashlib.sha256
        )
        headers = {
            "OK-ACCESS-KEY": self.api_key,
            "OK-ACCESS-SIGN": base64.b64encode(mac.digest()).decode(),
            "OK-ACCESS-TIMESTAMP": ts,
            "OK-ACCESS-PASSPHRASE": self.passphrase,
            "Content-Type": "application/json",
        }
        if self.simulated:
            headers["x-simulated-trading"] = "1"
        async with self.session.request(
            method, self.base_url + path, data=body or None, headers=headers
        ) as resp:
            return resp.status, await resp.json()

    async def close(self) -> None:
        await self.session.close()


@pytest_asyncio.fixture
async def okx() -> Any:
    sandbox = OkxSandbox(demo=True)
    base_url = await sandbox.start()
    creds = sandbox.credentials()
    client = PlainOkxClient(
        base_url, creds["api_key"], creds["secret_key"], creds["passphrase"], simulated=True
    )
    try:
        yield client, sandbox
    finally:
        await client.close()
        await sandbox.stop()


async def test_plain_client_full_broker_flow(okx: Any) -> None:
    c, _ = okx
    status, r = await c.request("GET", "/api/v5/public/time")
    assert status == 200 and r["code"] == "0" and int(r["data"][0]["ts"]) > 0

    status, r = await c.request(
        "POST", "/api/v5/broker/dma/create-subaccount", {"subAcct": "brokerTest5", "label": "5566"}
    )
    assert (status, r["code"], r["msg"]) == (200, "0", "")
    sub = r["data"][0]
    assert sub["subAcct"] == "brokerTest5" and sub["acctLv"] == "1" and sub["uid"]

    _, r = await c.request("GET", "/api/v5/broker/dma/subaccount-info", {"subAcct": "brokerTest5"})
    page = r["data"][0]
    assert page["page"] == "1" and page["totalPage"] == "1"
    assert page["details"][0]["enable"] is True and page["details"][0]["uid"] == sub["uid"]

    _, r = await c.request(
        "POST",
        "/api/v5/broker/dma/subaccount/apikey",
        {
            "subAcct": "brokerTest5",
            "label": "broker3",
            "passphrase": "Qwr4321!",
            "perm": "read_only,trade",
            "ip": "127.0.0.1",
        },
    )
    key = r["data"][0]
    assert key["perm"] == "read_only,trade" and key["passphrase"] == "Qwr4321!"
    _, r = await c.request(
        "GET", "/api/v5/broker/dma/subaccount/apikey", {"subAcct": "brokerTest5"}
    )
    assert [k["apiKey"] for k in r["data"]] == [key["apiKey"]]
    assert "secretKey" not in r["data"][0]

    _, r = await c.request(
        "POST", "/api/v5/broker/dma/set-subaccount-level", {"acctLv": "3", "subAcct": "brokerTest5"}
    )
    assert r["data"] == [{"acctLv": "3"}]

    _, r = await c.request(
        "POST",
        "/api/v5/asset/broker/dma/subaccount-deposit-address",
        {"ccy": "BTC", "subAcct": "brokerTest5"},
    )
    addr = r["data"][0]["addr"]
    _, r = await c.request(
        "POST",
        "/api/v5/asset/broker/dma/modify-subaccount-deposit-address",
        {"subAcct": "brokerTest5", "ccy": "BTC", "addr": addr, "to": "18"},
    )
    assert r["data"][0]["to"] == "18"
    _, r = await c.request(
        "GET",
        "/api/v5/asset/broker/dma/subaccount-deposit-address",
        {"ccy": "BTC", "subAcct": "brokerTest5"},
    )
    assert r["data"][0]["addr"] == addr and r["data"][0]["to"] == "18"

    _, r = await c.request(
        "POST", "/api/v5/broker/dma/set-subaccount-assets", {"subAcct": "brokerTest5", "ccy": "BTC"}
    )
    assert r["data"] == [{"amt": "3", "ccy": "BTC", "subAcct": "brokerTest5"}]
    _, r = await c.request(
        "POST",
        "/api/v5/broker/dma/report-subaccount-ip",
        {"subAcct": "brokerTest5", "clientIP": "1.1.1.1"},
    )
    assert r["data"][0]["subAcct"] == "brokerTest5"
    _, r = await c.request(
        "GET",
        "/api/v5/asset/broker/dma/subaccount-deposit-history",
        {"subAcct": "brokerTest5", "state": "1"},
    )
    assert r == {"code": "0", "msg": "", "data": []}

    # the sub-account's own key trades, with the broker code in tag
    sub_client = PlainOkxClient(
        c.base_url, key["apiKey"], key["secretKey"], "Qwr4321!", simulated=True
    )
    try:
        _, r = await sub_client.request(
            "POST",
            "/api/v5/trade/order",
            {
                "instId": "BTC-USDT",
                "tdMode": "cash",
                "clOrdId": "b15",
                "side": "buy",
                "ordType": "limit",
                "px": "2.15",
                "sz": "2",
                "tag": "6099c63a8d75SCDE",
            },
        )
        item = r["data"][0]
        assert item["sCode"] == "0" and item["tag"] == "6099c63a8d75SCDE"
        _, r = await sub_client.request(
            "GET", "/api/v5/trade/order", {"instId": "BTC-USDT", "ordId": item["ordId"]}
        )
        assert r["data"][0]["state"] == "live" and r["data"][0]["px"] == "2.15"
        _, r = await sub_client.request(
            "POST",
            "/api/v5/trade/amend-order",
            {"instId": "BTC-USDT", "ordId": item["ordId"], "newSz": "3"},
        )
        assert r["data"][0]["sCode"] == "0"
        _, r = await sub_client.request(
            "POST", "/api/v5/trade/cancel-order", {"instId": "BTC-USDT", "clOrdId": "b15"}
        )
        assert r["data"][0]["sCode"] == "0"
        _, r = await sub_client.request(
            "POST", "/api/v5/trade/cancel-order", {"instId": "BTC-USDT", "clOrdId": "b15"}
        )
        assert r["code"] == "1" and r["data"][0]["sCode"] == "51400"
    finally:
        await sub_client.close()

    _, r = await c.request(
        "POST",
        "/api/v5/broker/dma/subaccount/delete-apikey",
        {"subAcct": "brokerTest5", "apiKey": key["apiKey"]},
    )
    assert r["data"] == [{"subAcct": "brokerTest5"}]
    _, r = await c.request(
        "POST", "/api/v5/broker/dma/delete-subaccount", {"subAcct": "brokerTest5"}
    )
    assert r["code"] == "59606"  # demo assets still in the account


async def test_plain_client_fd_rebates_and_errors(okx: Any) -> None:
    c, sandbox = okx
    _, r = await c.request(
        "POST", "/api/v5/broker/fd/rebate-per-orders", {"begin": "20210623", "end": "20210626"}
    )
    assert r["data"][0]["result"] == "false"
    _, r = await c.request("GET", "/api/v5/broker/fd/rebate-per-orders", {"type": "true"})
    assert r["data"][0]["state"] == "ongoing" and r["data"][0]["fileHref"] == ""
    # two hours later (moved on the record: the signature window follows the server clock)
    sandbox.rebates[0].ready_at = sandbox.clock.now()
    _, r = await c.request("GET", "/api/v5/broker/fd/rebate-per-orders", {"type": "true"})
    assert r["data"][0]["state"] == "finished" and "Expires=" in r["data"][0]["fileHref"]

    _, r = await c.request(
        "GET", "/api/v5/broker/fd/if-rebate", {"apiKey": sandbox.credentials()["api_key"]}
    )
    assert r["data"][0]["type"] == "0" and r["data"][0]["brokerCode"] == sandbox.broker_code

    status, r = await c.request(
        "POST", "/api/v5/broker/dma/create-subaccount", {"subAcct": "123456"}
    )
    assert (status, r["code"]) == (200, "51000")
    status, r = await c.request("POST", "/api/v5/broker/dma/create-subaccount", {})
    assert r["code"] == "50014"
    c.secret_key = "not-the-secret"
    status, r = await c.request("GET", "/api/v5/broker/dma/subaccount-info")
    assert (status, r["code"]) == (401, "50113")


async def test_plain_oauth_token_exchange_and_rotation(okx: Any) -> None:
    _, sandbox = okx
    code = sandbox.authorize()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": sandbox.oauth_client_id,
        "client_secret": sandbox.oauth_client_secret,
    }
    async with aiohttp.ClientSession() as s:
        async with s.post(sandbox.base_url + "/v5/users/oauth/token", data=form) as resp:
            tokens = await resp.json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
        bearer = {"Authorization": "Bearer " + tokens["access_token"]}
        async with s.get(
            sandbox.base_url + "/api/v5/trade/order",
            params={"instId": "BTC-USDT", "ordId": "1"},
            headers=bearer,
        ) as resp:
            assert (await resp.json())["code"] == "51603"
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": sandbox.oauth_client_id,
            "client_secret": sandbox.oauth_client_secret,
        }
        async with s.post(sandbox.base_url + "/v5/users/oauth/token", data=refresh) as resp:
            new = await resp.json()
        assert new["access_token"] != tokens["access_token"]
        async with s.get(
            sandbox.base_url + "/api/v5/trade/order",
            params={"instId": "BTC-USDT", "ordId": "1"},
            headers=bearer,
        ) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == "53000"
        async with s.post(sandbox.base_url + "/v5/users/oauth/token", data=refresh) as resp:
            assert (await resp.json())["code"] == "53005"
