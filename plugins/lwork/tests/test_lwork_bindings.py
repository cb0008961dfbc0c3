"""The pieces the bindings rest on: the signer signing body fields, the converter's
vendor-zone times, the one rule for unreadable answers, cursors refused before I/O."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import AuthenticationError, InvalidRequest, UnknownOutcome
from brokerport.signing import rsa_sha1_verify
from brokerport_lwork.auth import signing_string
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox

ACCOUNT = "2090001252"


async def test_signer_signs_the_prepared_body_the_same_on_every_attempt(
    sandbox: LworkSandbox, client: Client
) -> None:
    endpoint = client.adapter.endpoint("account.transfer")
    params = {
        "pubUserId": SEED_USER,
        "accountId": ACCOUNT,
        "receiptAccount": "2090001253",
        "receiptAccountName": "想回家",
        "receiptServerId": "428",
        "receiptUserId": SEED_USER,
        "receiptVendor": "MT4",
        "currency": "USD",
        "transferAmount": Decimal("7.5"),
        "comment": "备注",
    }
    request = client.adapter.build_request(endpoint, params, {})
    unsigned = json.loads(request.body or b"")
    assert "signature" not in unsigned and unsigned["transferAmount"] == "7.50"
    client.signer.sign(request, 0.0)
    first = request.body
    client.signer.sign(request, 1.0)  # a retry signs the same bytes again
    assert request.body == first
    body = json.loads(request.body or b"")
    assert list(body)[-1] == "signature"
    assert {k: v for k, v in body.items() if k != "signature"} == unsigned
    text = signing_string(
        "account.transfer", {**body, "pubUserId": SEED_USER, "accountId": ACCOUNT}
    )
    assert text.endswith("MT47.50")
    assert rsa_sha1_verify(sandbox.public_key, text.encode(), body["signature"])


async def test_a_host_signature_without_a_key_is_sent_as_is(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    async with make_client({"private_key": ""}) as client:
        with pytest.raises(AuthenticationError) as info:  # the sandbox checks it
            await client.call(
                "account.deposit",
                userId=SEED_USER,
                serverId="428",
                login=ACCOUNT,
                depositAmount="1",
                payCurrency="CNY",
                signature="ZXh0ZXJuYWw=",
            )
    assert info.value.vendor_code == "BW_INVALID_SIGNATURE"
    body = json.loads(sandbox.journal.for_endpoint("account.deposit")[-1].body)
    assert body["signature"] == "ZXh0ZXJuYWw=" and body["depositAmount"] == "1.00"


async def test_timezone_option_reaches_the_converter(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    """The sandbox renders +08:00 wall-clock text; a client told the vendor is at UTC
    reads the same text eight hours later."""
    sandbox.add_position(ACCOUNT, at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp())
    async with make_client(timezone="UTC") as client:
        page = await client.trading.positions(m.PositionQuery(account_id=ACCOUNT))
    pos = next(p for p in page if p.raw["openTime"] == "2026-03-01T20:00:00.000")
    assert pos.opened_at == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


async def test_unreadable_answer_to_a_withdrawal_is_unknown_outcome(
    sandbox: LworkSandbox, client: Client
) -> None:
    sandbox.faults.add("truncate", "account.withdraw")
    with pytest.raises(UnknownOutcome) as info:
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(
                account_id=ACCOUNT,
                amount=Decimal("1"),
                currency="USD",
                payee=m.Payee(name="Demo", account_number="6226", bank_name="ICBC"),
            )
        )
    assert info.value.reconcile_with["login"] == ACCOUNT
    assert len(sandbox.journal.effects("account.withdraw")) == 1


@pytest.mark.parametrize("cursor", ["Deposit:0", "Transfer:1", "Deposit:x", "2"])
async def test_cash_flow_cursors_are_checked_before_io(
    sandbox: LworkSandbox, client: Client, cursor: str
) -> None:
    with pytest.raises(InvalidRequest):
        await client.funding.deposit_history(
            m.FundingHistoryQuery(account_id=ACCOUNT, cursor=cursor)
        )
    with pytest.raises(InvalidRequest):
        await client.funding.cash_ledger(
            m.FundingHistoryQuery(account_id=ACCOUNT, extra={"type": "Wire"})
        )
    assert len(sandbox.journal) == 0
