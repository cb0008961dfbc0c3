"""lwork side of "nothing lost, nothing sent twice": money text, huge amounts,
deep answers, and reconciliation through the cash flow (and when it cannot tell)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from brokerport import DecodeError, InvalidRequest, UnknownOutcome
from brokerport import models as m
from brokerport.client import Client
from brokerport_lwork.sandbox import LworkSandbox

ACCOUNT = "2090001252"
OTHER = "2090001253"
PAYEE = m.Payee(name="Demo", account_number="6226", bank_name="ICBC", branch="", swift="ICBKCNBJ")


@pytest.mark.parametrize("amount", ["1_000", "١٠٠", "1e2", " 10 ", "10.001", "1000000000000000"])
async def test_amount_text_is_plain_ascii_digits(
    sandbox: LworkSandbox, client: Client, amount: str
) -> None:
    sent = len(sandbox.journal)
    with pytest.raises(InvalidRequest) as info:
        await client.call(
            "account.deposit",
            userId="u",
            serverId="428",
            login=ACCOUNT,
            depositAmount=amount,
            payCurrency="CNY",
        )
    assert info.value.field == "depositAmount"
    assert len(sandbox.journal) == sent


@pytest.mark.parametrize("amount", ["1e29", "1" + "0" * 40, "1000000000000000"])
async def test_sandbox_refuses_huge_amounts_instead_of_failing(
    sandbox: LworkSandbox, amount: str
) -> None:
    # sent raw (the client refuses these before I/O): the sandbox answers the vendor's
    # refusal from the catalog's money bound, never an HTTP 500
    import aiohttp

    creds = sandbox.credentials()
    headers = {"x-api-tenantId": creds["tenant_id"], "x-api-token": creds["token"]}
    body = {"depositAmount": amount, "payCurrency": "CNY", "signature": "x"}
    from brokerport_lwork import LworkAdapter

    endpoint = LworkAdapter.catalog()["account.deposit"]
    path = endpoint.render_path({"userId": "u", "serverId": "428", "login": ACCOUNT})
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sandbox.base_url}{path}", json=body, headers=headers) as r,
    ):
        answer = await r.json()
    assert r.status < 500 and answer["result"] is False
    assert answer["mcode"] == "BW_INVALID_PARAM" and "depositAmount" in str(answer["errorMessage"])


async def test_deep_answer_to_port_operations_is_decode_error_or_unknown(
    sandbox: LworkSandbox,
) -> None:
    from brokerport.pipeline import RetryPolicy
    from brokerport.profile import Profile
    from brokerport.transport import MockTransport, RawResponse
    from brokerport_lwork import LworkAdapter
    from brokerport_lwork.sandbox import SEED_USER

    options = {"user_id": SEED_USER, "server_id": "428", "platform": "MT4", "pay_currency": "CNY"}

    deep = b'{"result":true,"mcode":"m0000000","data":' + b"[" * 600 + b"]" * 600 + b"}"
    transport = MockTransport(lambda r: RawResponse(200, {}, deep))
    profile = Profile(
        vendor="lwork",
        name="t",
        base_url="http://lwork.invalid",
        credentials=sandbox.credentials(),
        options=options,
    )
    fast = RetryPolicy(base_delay=0.0, max_delay=0.0)
    async with Client(LworkAdapter, profile, transport=transport, retry=fast) as client:
        with pytest.raises(DecodeError):
            await client.funding.balances(m.GetBalances(account_id=ACCOUNT))
        with pytest.raises(UnknownOutcome):
            await client.funding.request_deposit(
                m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
            )


async def test_lost_deposit_reconciles_as_applied_with_its_job(
    sandbox: LworkSandbox, client: Client
) -> None:
    sandbox.faults.add("lost", "account.deposit")
    with pytest.raises(UnknownOutcome) as info:
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("12.30"), comment="lost one")
        )
    verdict = await client.reconcile(info.value)
    assert verdict.applied, verdict.detail
    assert verdict.result["jobId"] in sandbox.deposits
    assert await client.outbox.list() == []
    sandbox.faults.add("reset", "account.deposit")
    with pytest.raises(UnknownOutcome) as info:
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("12.30"), comment="never sent")
        )
    assert (await client.reconcile(info.value)).status == "not_applied"


async def test_two_identical_withdrawals_cannot_be_told_apart(
    sandbox: LworkSandbox, client: Client
) -> None:
    same = m.WithdrawalRequest(account_id=OTHER, amount=Decimal("7"), currency="USD", payee=PAYEE)
    sandbox.faults.add("lost", "account.withdraw", times=2)
    errors = []
    for _ in range(2):
        with pytest.raises(UnknownOutcome) as info:
            await client.funding.request_withdrawal(same)
        errors.append(info.value)
    assert len(sandbox.withdrawals) == 2
    verdict = await client.reconcile(errors[0])
    assert verdict.status == "unknown" and "cannot tell" in verdict.detail
    assert len(await client.outbox.list()) == 2  # left for the host to decide
    # one withdrawal, alone: the cash flow settles it
    lone = m.WithdrawalRequest(account_id=OTHER, amount=Decimal("8"), currency="USD", payee=PAYEE)
    sandbox.faults.add("lost", "account.withdraw")
    with pytest.raises(UnknownOutcome) as info:
        await client.funding.request_withdrawal(lone)
    assert (await client.reconcile(info.value)).applied
    body = json.loads(sandbox.journal.for_endpoint("account.withdraw")[-1].body)
    assert body["withdrawAmount"] == "8.00"
