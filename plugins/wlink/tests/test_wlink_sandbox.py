"""The wlink sandbox as a vendor-spec client sees it: auth checks, limits, two portals."""

from __future__ import annotations

import asyncio
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
    async with spec_client(box) as c:
        paths = [
            "/v1/trading/account/get-demo-availability",
            "/v1/trading/withdrawal/check-pending",
        ]
        calls = [c.call("client", "GET", paths[i % 2], auth="signed") for i in range(60)]
        statuses = [s for s, _ in await asyncio.gather(*calls)]
    refused = statuses.count(429)
    assert refused >= 1 and len(box.journal.rejections("rate_limit")) == refused


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
