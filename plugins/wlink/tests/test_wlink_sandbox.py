"""The wlink sandbox as a vendor-spec client sees it: auth checks, limits, two portals."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.client import Client
from brokerport_wlink import WlinkAdapter
from brokerport_wlink.sandbox import WlinkSandbox
from spec_client import SpecClient


@pytest_asyncio.fixture
async def box() -> AsyncIterator[WlinkSandbox]:
    sandbox = WlinkSandbox()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def spec_client(box: WlinkSandbox) -> SpecClient:
    """Only what `brokerport sandbox wlink` prints: the two base URLs and the credentials."""
    urls = {"client": box.base_url or "", "ib": box.ib_base_url or ""}
    return SpecClient(urls, box.credentials())


async def test_a_client_written_to_the_spec_works_unchanged(box: WlinkSandbox) -> None:
    async with spec_client(box) as c:
        status, accounts = await c.call(
            "client",
            "GET",
            "/v1/trading/account/list",
            query=[("page", 1), ("size", 20)],
            auth="signed",
        )
        assert status == 200 and accounts["total"] == 2
        status, ib = await c.call(
            "ib", "GET", "/v1/ib/client/user/list", query=[("page", 1), ("size", 2)], auth="bearer"
        )
        assert status == 200 and len(ib["list"]) == 2 and ib["total"] == 3
        status, _ = await c.call(
            "client",
            "GET",
            "/v1/ib/client/user/list",
            query=[("page", 1), ("size", 2)],
            auth="bearer",
        )
        assert status == 404  # each portal serves its own endpoints
        status, body = await c.call("client", "GET", "/v1/no/such/path")
        assert status == 404 and body["reason"] == "NOT_FOUND"


async def test_signatures_nonces_timestamps_and_keys_are_checked(box: WlinkSandbox) -> None:
    async with spec_client(box) as c:
        assert c.session is not None
        path = "/v1/trading/account/get-demo-availability"
        headers = c.sign("GET", path, "", b"")
        for sent, reason in (
            (headers, None),
            (headers, "NONCE_REUSED"),
            ({**c.sign("GET", path, "", b""), "X-Signature": "0" * 64}, "SIGNATURE_INVALID"),
            ({**c.sign("GET", path, "", b""), "X-Api-Key": "unknown"}, "API_KEY_INVALID"),
        ):
            async with c.session.get(box.base_url + path, headers=sent) as resp:
                body = await resp.json()
                assert (resp.status, body.get("reason")) == (
                    (200, None) if reason is None else (401, reason)
                )
        box.clock.advance(31)
        async with c.session.get(box.base_url + path, headers=c.sign("GET", path, "", b"")) as resp:
            assert resp.status == 401 and (await resp.json())["reason"] == "TIMESTAMP_EXPIRED"


async def test_fifty_per_second_per_key_across_endpoints(box: WlinkSandbox) -> None:
    # the sandbox's rate-limit clock stands still: 60 calls inside one second whatever
    # the machine's load (the signature clock is separate and keeps running)
    box.monotonic = lambda: 1000.0
    async with spec_client(box) as c:
        paths = [
            "/v1/trading/account/get-demo-availability",
            "/v1/trading/withdrawal/check-pending",
        ]
        calls = [c.call("client", "GET", paths[i % 2], auth="signed") for i in range(60)]
        statuses = [s for s, _ in await asyncio.gather(*calls)]
    refused = statuses.count(429)
    assert refused == 10 and len(box.journal.rejections("rate_limit")) == refused


async def test_email_codes_are_single_use_and_money_moves(box: WlinkSandbox) -> None:
    async with Client(WlinkAdapter, box.profile()) as client:
        code = box.issue_email_code("transfer")
        req = m.TransferRequest(
            from_account=str(box.account_id),
            to_account=str(box.account_id + 1),
            amount=Decimal("5"),
            extra={"email_code": code},
        )
        await client.funding.transfer(req)
        with pytest.raises(Exception, match="email code"):
            await client.funding.transfer(req)
        assert box.accounts[box.account_id]["balance"] == Decimal("9995")
        payee = await client.funding.add_payee(
            m.AddPayee(
                payee=m.Payee(
                    name="Me",
                    account_number="123",
                    bank_name="B",
                    raw={"bank_country": "HK", "bsc_code": "X"},
                )
            )
        )
        assert [p.payee_id for p in await client.funding.list_payees(m.ListPayees())] == [
            payee.payee_id
        ]
        await client.funding.delete_payee(m.DeletePayee(payee_id=payee.payee_id or ""))
        assert await client.funding.list_payees(m.ListPayees()) == ()
        url = await client.ext("wlink.reports").export("deposit", status="all")
        assert url.startswith("https://")
        messages = client.ext("wlink.messages")
        assert await messages.unread_count("ib") == 3
        first = (await messages.list(portal="ib"))["list"][0]["id"]
        await messages.mark_read(id=first, portal="ib")
        assert await messages.unread_count("ib") == 2


async def test_each_portal_serves_only_its_own_endpoints_as_unknown_paths(
    box: WlinkSandbox,
) -> None:
    assert box.unrouted() == []  # all 112 endpoints: handlers or the spec's fixtures
    async with spec_client(box) as c:
        for server, path in (("client", "/v1/ib/user/get"), ("ib", "/v1/trading/account/list")):
            status, body = await c.call(server, "GET", path, query=[("page", 1), ("size", 2)])
            assert (status, body["code"], body["reason"]) == (404, 404, "NOT_FOUND")
            entry = box.journal.last()
            assert entry is not None and entry.endpoint is None and not entry.rejected
        status, body = await c.call("client", "POST", "/v1/trading/account/list")
        assert (status, body["reason"]) == (405, "METHOD_NOT_ALLOWED")


async def test_parameters_are_typed_as_the_spec_declares(box: WlinkSandbox) -> None:
    async with spec_client(box) as c:
        path = "/v1/trading/account/list"
        for query, why in (
            ([("page", "x"), ("size", 2)], "page must be an integer"),
            ([("page", 1), ("size", 2), ("is_demo", "yes")], "is_demo must be a boolean"),
            ([("size", 2)], "page is required"),
            ([("page", 1), ("size", 2), ("colour", "red")], "unknown parameter"),
        ):
            status, body = await c.call("client", "GET", path, query=query, auth="signed")
            assert (status, body["reason"]) == (400, "INVALID_ARGUMENT") and why in body["message"]
        status, body = await c.call(
            "client",
            "GET",
            path,
            query=[("page", 1), ("size", 5), ("is_demo", "true")],
            auth="signed",
        )
        assert status == 200 and [a["is_demo"] for a in body["list"]] == [True]
        status, body = await c.call(
            "client",
            "POST",
            "/v1/client/trading/deposit/draft/create",
            body={"trading_account_id": "100", "deposit_amount": "1.00", "remittance_id": 1},
            auth="signed",
        )
        assert status == 400 and body["message"] == "trading_account_id must be an integer"


async def test_portal_sessions_end_with_logout_and_expire(box: WlinkSandbox) -> None:
    async with spec_client(box) as c:
        path = "/v1/trading/withdrawal/check-pending"
        assert (await c.call("client", "GET", path, auth="bearer"))[0] == 200
        assert (await c.call("client", "POST", "/v1/auth/account/logout", auth="bearer"))[0] == 200
        status, body = await c.call("client", "GET", path, auth="bearer")
        assert (status, body["reason"]) == (401, "TOKEN_INVALID")
        c.token = None
        assert (await c.call("client", "GET", path, auth="bearer"))[0] == 200
        box.clock.advance(3601)
        status, body = await c.call("client", "GET", path, auth="bearer")
        assert (status, body["reason"]) == (401, "TOKEN_EXPIRED")
        status, body = await c.call("client", "POST", "/v1/auth/account/logout")
        assert (status, body["reason"]) == (401, "UNAUTHORIZED")  # bearer only, never signed
    assert len(box.journal.rejections("auth")) == 3


def test_the_error_body_is_one_object_for_the_sandbox_and_the_decoder() -> None:
    from brokerport.adapter import VendorFault
    from brokerport.wire import ErrorTable
    from brokerport_wlink.errors import ENVELOPE, ERRORS

    assert isinstance(ERRORS, ErrorTable)
    client = WlinkAdapter.error_map
    for code, entry in ERRORS.items():
        doc = ENVELOPE.fail(code, ERRORS.message(code, "x", "y"))
        assert doc["code"] == entry.status and doc["metadata"] == {}
        with pytest.raises(VendorFault) as info:
            ENVELOPE.unwrap(doc, http_status=entry.status, vendor="wlink")
        assert info.value.code == code and info.value.message == doc["message"]
        assert client.classify(code, entry.status) is entry.error


async def test_the_spec_client_works_from_what_brokerport_sandbox_prints() -> None:
    """`brokerport sandbox wlink --json` in a subprocess: both base URLs and the
    credentials of both auth modes are all a client written to the spec needs."""
    cmd = [sys.executable, "-m", "brokerport", "sandbox", "wlink", "--json", "--seconds", "60"]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        urls = {"client": info["base_url"], "ib": info["profile_options"]["ib_base_url"]}
        assert urls["client"] != urls["ib"] and info["identifiers"]["ib_base_url"] == urls["ib"]
        assert set(info["credential_sets"]) == {"signed", "portal"}
        assert info["credentials"] == info["credential_sets"]["signed"]
        assert len(info["endpoints"]) == 112
        page = [("page", 1), ("size", 20)]
        async with SpecClient(urls, info["credential_sets"]["signed"]) as c:
            status, accounts = await c.call(
                "client", "GET", "/v1/trading/account/list", query=page, auth="signed"
            )
            assert status == 200 and accounts["total"] == 2
        async with SpecClient(urls, info["credential_sets"]["portal"]) as c:
            status, ib = await c.call(
                "ib", "GET", "/v1/ib/client/user/list", query=page, auth="bearer"
            )
            assert status == 200 and ib["total"] == 3
            status, body = await c.call("client", "GET", "/v1/ib/client/user/list", query=page)
            assert (status, body["reason"]) == (404, "NOT_FOUND")
    finally:
        proc.terminate()
        await proc.wait()
