"""The sandbox verifies every signature and header the way OKX does."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest
from brokerport.client import Client
from brokerport.errors import AuthenticationError, PermissionDenied
from brokerport_okx.sandbox import OkxSandbox
from brokerport_okx.signing import okx_timestamp, sign


async def raw(
    sandbox: OkxSandbox,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    creds: dict[str, str] | None = None,
    drop: str | None = None,
    now: float | None = None,
    tamper: bytes | None = None,
    demo: bool = False,
    override: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    creds = creds or sandbox.live_credentials()
    ts = okx_timestamp(time.time() if now is None else now)
    headers = {
        "OK-ACCESS-KEY": creds["api_key"],
        "OK-ACCESS-SIGN": sign(creds["secret_key"], ts, method, path, body),
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": creds["passphrase"],
        "Content-Type": "application/json",
    }
    if demo:
        headers["x-simulated-trading"] = "1"
    headers.update(override or {})
    if drop:
        del headers[drop]
    assert sandbox.base_url
    async with (
        aiohttp.ClientSession() as s,
        s.request(
            method,
            sandbox.base_url + path,
            data=tamper if tamper is not None else (body or None),
            headers=headers,
        ) as resp,
    ):
        return resp.status, json.loads(await resp.read())


CREATE = "/api/v5/broker/dma/create-subaccount"
BODY = b'{"subAcct":"brokerTest5","label":"5566"}'


async def test_valid_signature_is_accepted(sandbox: OkxSandbox) -> None:
    status, doc = await raw(sandbox, "POST", CREATE, BODY)
    assert status == 200 and doc["code"] == "0"
    assert doc["data"][0]["subAcct"] == "brokerTest5"
    assert "brokerTest5" in sandbox.subaccounts


async def test_tampered_body_is_50113_and_has_no_effect(sandbox: OkxSandbox) -> None:
    status, doc = await raw(
        sandbox, "POST", CREATE, BODY, tamper=b'{"subAcct":"brokerTest6","label":"5566"}'
    )
    assert (status, doc["code"]) == (401, "50113")
    assert not sandbox.subaccounts
    assert sandbox.journal.last() is not None and sandbox.journal.last().rejected == "auth"  # type: ignore[union-attr]
    assert not sandbox.journal.effects()


async def test_tampered_query_is_50113(sandbox: OkxSandbox) -> None:
    creds = sandbox.live_credentials()
    ts = okx_timestamp(time.time())
    signed = "/api/v5/broker/dma/subaccount-info?subAcct=aaaaaa1"
    headers = {
        "OK-ACCESS-KEY": creds["api_key"],
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": creds["passphrase"],
        "OK-ACCESS-SIGN": sign(creds["secret_key"], ts, "GET", signed),
    }
    assert sandbox.base_url
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            sandbox.base_url + "/api/v5/broker/dma/subaccount-info?subAcct=aaaaaa2", headers=headers
        ) as resp,
    ):
        assert resp.status == 401 and (await resp.json())["code"] == "50113"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("OK-ACCESS-KEY", "50103"),
        ("OK-ACCESS-PASSPHRASE", "50104"),
        ("OK-ACCESS-SIGN", "50106"),
        ("OK-ACCESS-TIMESTAMP", "50107"),
    ],
)
async def test_missing_headers(sandbox: OkxSandbox, header: str, code: str) -> None:
    status, doc = await raw(sandbox, "POST", CREATE, BODY, drop=header)
    assert (status, doc["code"]) == (401, code)


@pytest.mark.parametrize("shift", [31.0, -31.0, 600.0])
async def test_stale_or_future_timestamp_is_50102(sandbox: OkxSandbox, shift: float) -> None:
    status, doc = await raw(sandbox, "POST", CREATE, BODY, now=time.time() - shift)
    assert (status, doc["code"]) == (401, "50102")


async def test_timestamp_within_30s_is_accepted(sandbox: OkxSandbox) -> None:
    _, doc = await raw(sandbox, "POST", CREATE, BODY, now=time.time() - 25)
    assert doc["code"] == "0"


async def test_malformed_timestamp_is_50112(sandbox: OkxSandbox) -> None:
    _, doc = await raw(
        sandbox, "POST", CREATE, BODY, override={"OK-ACCESS-TIMESTAMP": "1607418537"}
    )
    assert doc["code"] == "50112"


async def test_live_key_in_demo_mode_is_50101(sandbox: OkxSandbox) -> None:
    status, doc = await raw(sandbox, "POST", CREATE, BODY, demo=True)
    assert (status, doc["code"]) == (401, "50101")
    status, doc = await raw(sandbox, "POST", CREATE, BODY, creds=sandbox.demo_credentials())
    assert doc["code"] == "50101"
    status, doc = await raw(
        sandbox, "POST", CREATE, BODY, creds=sandbox.demo_credentials(), demo=True
    )
    assert doc["code"] == "0"


async def test_wrong_passphrase_is_50105(sandbox: OkxSandbox) -> None:
    creds = {**sandbox.live_credentials(), "passphrase": "Wrong-pass1"}
    status, doc = await raw(sandbox, "POST", CREATE, BODY, creds=creds)
    assert (status, doc["code"]) == (401, "50105")


async def test_unknown_key_is_50111(sandbox: OkxSandbox) -> None:
    creds = {**sandbox.live_credentials(), "api_key": "00000000-0000-0000-0000-000000000000"}
    status, doc = await raw(sandbox, "POST", CREATE, BODY, creds=creds)
    assert (status, doc["code"]) == (401, "50111")


async def test_sub_account_key_ip_and_permission_are_enforced(sandbox: OkxSandbox) -> None:
    await raw(sandbox, "POST", CREATE, BODY)
    body = json.dumps(
        {
            "subAcct": "brokerTest5",
            "label": "ro",
            "passphrase": "Qwr4321!",
            "perm": "read_only",
            "ip": "10.0.108.9",
        }
    ).encode()
    _, doc = await raw(sandbox, "POST", "/api/v5/broker/dma/subaccount/apikey", body)
    key = doc["data"][0]
    assert key["secretKey"] and key["passphrase"] == "Qwr4321!"
    sub_creds = {"api_key": key["apiKey"], "secret_key": key["secretKey"], "passphrase": "Qwr4321!"}
    order = json.dumps(
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "sz": "1",
            "px": "1",
        }
    ).encode()
    # bound to 10.0.108.9: a request from 127.0.0.1 is refused
    status, doc = await raw(sandbox, "POST", "/api/v5/trade/order", order, creds=sub_creds)
    assert (status, doc["code"]) == (401, "50110")
    sandbox.keys[key["apiKey"]].ips = ["127.0.0.1"]
    # read-only key cannot trade
    status, doc = await raw(sandbox, "POST", "/api/v5/trade/order", order, creds=sub_creds)
    assert doc["code"] == "50120"
    # and a sub-account key cannot use the broker endpoints
    _, doc = await raw(sandbox, "GET", "/api/v5/broker/dma/subaccount-info", creds=sub_creds)
    assert doc["code"] == "59608"


async def test_client_maps_auth_codes(make_client: Any, sandbox: OkxSandbox) -> None:
    bad = {**sandbox.live_credentials(), "passphrase": "Nope-nope1"}
    async with make_client(bad) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call("broker.dma.subaccount_info")
    assert info.value.vendor_code == "50105" and info.value.http_status == 401
    async with make_client(sandbox.live_credentials(), simulated="1") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call("broker.dma.subaccount_info")
    assert info.value.vendor_code == "50101"


async def test_demo_client_sends_header_and_sets_demo_assets(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    client: Client
    async with make_client(sandbox.demo_credentials()) as client:
        await client.call("broker.dma.create_subaccount", subAcct="demoSub01")
        from brokerport import models as m

        ack = await client.subaccounts.set_demo_assets(
            m.SetDemoAssets(name="demoSub01", currencies=("BTC", "USDT"))
        )
        assert ack.raw["BTC"]["amt"] == "3"
    assert sandbox.subaccounts["demoSub01"].demo_assets["USDT"] == 100000
    assert all(e.headers.get("x-simulated-trading") == "1" for e in sandbox.journal)
    async with make_client(sandbox.live_credentials()) as client:
        with pytest.raises(AuthenticationError):
            await client.call("broker.dma.set_subaccount_assets", subAcct="demoSub01", ccy="BTC")


async def test_permission_denied_maps(make_client: Any, sandbox: OkxSandbox) -> None:
    sandbox.live_key.perms = ["read_only"]
    async with make_client() as c:
        with pytest.raises(PermissionDenied) as info:
            await c.call("broker.dma.create_subaccount", subAcct="abcdef1")
    assert info.value.vendor_code == "50120"
