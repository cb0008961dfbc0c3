"""SHA1withRSA body signatures: independent vectors, key formats, tampering, two decimals."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from brokerport import hookimpl
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import AuthenticationError, InvalidRequest
from brokerport.signing import PreparedRequest
from brokerport.transport import AiohttpTransport, RawResponse
from brokerport_lwork import LworkAdapter
from brokerport_lwork.auth import signing_string
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, check=True, capture_output=True).stdout


ACCOUNT = "2090001252"


def openssl_sign(key: Path, message: str, passphrase: str | None = None) -> str:
    args = ["dgst", "-sha1", "-sign", str(key)]
    if passphrase:
        args += ["-passin", f"pass:{passphrase}"]
    return base64.b64encode(openssl(*args, input=message.encode("utf-8"))).decode()


def key_source(client: Client) -> str:
    adapter = client.adapter
    assert isinstance(adapter, LworkAdapter)
    return adapter.rsa_key.source


def last_body(sandbox: LworkSandbox, endpoint: str) -> dict[str, Any]:
    entry = sandbox.journal.for_endpoint(endpoint)[-1]
    body = json.loads(entry.body)
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    ("key_name", "passphrase"),
    [
        ("pkcs8", None),
        ("pkcs1", None),
        ("pkcs1-enc", "Sesame-Pass-1"),
        ("pkcs8-enc", "Sesame-Pass-1"),
    ],
)
async def test_signatures_match_openssl(
    sandbox: LworkSandbox,
    make_client: Callable[..., Client],
    openssl_keys: dict[str, Path],
    key_name: str,
    passphrase: str | None,
) -> None:
    """3.2, 3.3 and 3.11 bodies carry exactly openssl's SHA1withRSA over the documented string."""
    sandbox.register_public_key(openssl_keys["pub"].read_bytes())
    creds = {"private_key": openssl_keys[key_name].read_text()}
    if passphrase:
        creds["private_key_passphrase"] = passphrase
    async with make_client(creds) as client:
        ticket = await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("100"))
        )
        body = last_body(sandbox, "account.deposit")
        assert body["depositAmount"] == "100.00"
        message = f"{SEED_USER}{ACCOUNT}CNY100.00"
        assert body["signature"] == openssl_sign(openssl_keys["pkcs8"], message)

        assert ticket.pay_amount == Decimal("682.34")
        await client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference="17051110011",
                pay_amount=Decimal("682.34"),
                pay_currency="CNY",
            )
        )
        body = last_body(sandbox, "account.deposit_callback")
        message = f"{ticket.deposit_id}170511100111CNY682.34"
        assert body["payAmount"] == "682.34"
        assert body["signature"] == openssl_sign(openssl_keys["pkcs8"], message)

        await client.funding.transfer(
            m.TransferRequest(
                from_account=ACCOUNT,
                to_account="2090001253",
                amount=Decimal("100.1"),
                currency="USD",
                extra={"receiptAccountName": "Second", "receiptServerId": "428"},
            )
        )
        body = last_body(sandbox, "account.transfer")
        message = f"{ACCOUNT}USD{SEED_USER}2090001253Second428MT4100.10"
        assert body["transferAmount"] == "100.10"
        assert body["signature"] == openssl_sign(openssl_keys["pkcs8"], message)
    assert sandbox.journal.rejections() == []


async def test_signed_string_uses_the_sent_strings(sandbox: LworkSandbox, client: Client) -> None:
    """The signature verifies over the body's own fields, and non-ASCII names sign as UTF-8."""
    sandbox.accounts["2090001253"].name = "想回家回家~"
    await client.funding.transfer(
        m.TransferRequest(
            from_account=ACCOUNT,
            to_account="2090001253",
            amount=Decimal("1.5"),
            extra={"receiptServerId": "428"},
        )
    )
    entry = sandbox.journal.for_endpoint("account.transfer")[-1]
    body = json.loads(entry.body)
    params = {**body, "pubUserId": SEED_USER, "accountId": ACCOUNT}
    text = signing_string("account.transfer", params)
    assert "想回家回家~" in text and text.endswith("1.50")
    from brokerport.signing import rsa_sha1_verify

    assert rsa_sha1_verify(sandbox.public_key, text.encode("utf-8"), body["signature"])


class Tamper(AiohttpTransport):
    """Changes the request after it was signed (a man in the middle)."""

    def __init__(self, change: Callable[[PreparedRequest], None]) -> None:
        super().__init__()
        self.change = change

    async def send(self, request: PreparedRequest) -> RawResponse:
        self.change(request)
        return await super().send(request)


def body_edit(field: str, value: str) -> Callable[[PreparedRequest], None]:
    def change(request: PreparedRequest) -> None:
        assert request.body is not None
        doc = json.loads(request.body)
        doc[field] = value
        request.body = json.dumps(doc, ensure_ascii=False).encode()

    return change


def path_edit(old: str, new: str) -> Callable[[PreparedRequest], None]:
    def change(request: PreparedRequest) -> None:
        request.path = request.path.replace(old, new)

    return change


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (body_edit("depositAmount", "900.00"), "amount"),
        (body_edit("payCurrency", "NZD"), "pay currency"),
        (path_edit(ACCOUNT, "2090001253"), "login in the path"),
        (body_edit("signature", base64.b64encode(b"\x00" * 128).decode()), "signature"),
    ],
)
async def test_tampered_deposit_is_rejected(
    sandbox: LworkSandbox,
    make_client: Callable[..., Client],
    change: Callable[[PreparedRequest], None],
    what: str,
) -> None:
    client = make_client()
    client._transport = Tamper(change)
    async with client:
        with pytest.raises(AuthenticationError) as info:
            await client.funding.request_deposit(
                m.DepositRequest(account_id=ACCOUNT, amount=Decimal("100"))
            )
    assert info.value.vendor_code == "BW_INVALID_SIGNATURE"
    assert len(sandbox.journal.rejections("signature")) == 1
    assert sandbox.deposits == {}


async def test_tampered_callback_and_transfer_are_rejected(
    sandbox: LworkSandbox, make_client: Callable[..., Client], client: Client
) -> None:
    ticket = await client.funding.request_deposit(
        m.DepositRequest(account_id=ACCOUNT, amount=Decimal("100"))
    )
    before = sandbox.accounts[ACCOUNT].balance
    bad = make_client()
    bad._transport = Tamper(body_edit("orderId", "other-order"))
    async with bad:
        with pytest.raises(AuthenticationError):
            await bad.funding.confirm_deposit(
                m.DepositConfirmation(
                    deposit_id=ticket.deposit_id,
                    payment_reference="o-1",
                    pay_amount=Decimal("682.34"),
                    pay_currency="CNY",
                )
            )
    bad = make_client()
    bad._transport = Tamper(body_edit("receiptAccountName", "Mallory"))
    async with bad:
        with pytest.raises(AuthenticationError):
            await bad.funding.transfer(
                m.TransferRequest(
                    from_account=ACCOUNT,
                    to_account="2090001253",
                    amount=Decimal("5"),
                    currency="USD",
                    extra={"receiptAccountName": "Second"},
                )
            )
    assert sandbox.accounts[ACCOUNT].balance == before
    assert len(sandbox.journal.rejections("signature")) == 2


async def test_wrong_registered_key_is_rejected(
    sandbox: LworkSandbox, client: Client, openssl_keys: dict[str, Path]
) -> None:
    sandbox.register_public_key(openssl_keys["pub"].read_bytes())
    with pytest.raises(AuthenticationError) as info:
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
        )
    assert info.value.vendor_code == "BW_INVALID_SIGNATURE"


@pytest.mark.parametrize("amount", ["100.005", "0.001", "1E-3", "12.3456"])
async def test_more_than_two_decimals_never_reaches_the_wire(
    sandbox: LworkSandbox, client: Client, amount: str
) -> None:
    with pytest.raises(InvalidRequest):
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal(amount))
        )
    with pytest.raises(InvalidRequest):
        await client.call(
            "account.transfer",
            pubUserId=SEED_USER,
            accountId=ACCOUNT,
            receiptAccount="2090001253",
            receiptAccountName="Second",
            receiptServerId="428",
            receiptUserId=SEED_USER,
            receiptVendor="MT4",
            currency="USD",
            transferAmount=amount,
        )
    with pytest.raises(InvalidRequest):
        await client.call(
            "account.deposit_callback",
            jobId="j",
            orderId="o",
            status="1",
            platform="twAPI",
            payAmount=Decimal(amount),
            payCurrency="CNY",
        )
    with pytest.raises(InvalidRequest):
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(
                account_id=ACCOUNT,
                amount=Decimal(amount),
                currency="USD",
                payee=m.Payee(name="Demo", account_number="6226", bank_name="ICBC"),
            )
        )
    assert len(sandbox.journal) == 0


async def test_floats_are_refused(sandbox: LworkSandbox, client: Client) -> None:
    with pytest.raises(InvalidRequest):
        await client.call(
            "account.deposit",
            userId=SEED_USER,
            serverId="428",
            login=ACCOUNT,
            depositAmount=100.0,
            payCurrency="CNY",
        )
    assert len(sandbox.journal) == 0


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (Decimal("100"), "100.00"),
        (Decimal("100.1"), "100.10"),
        (Decimal("0.5"), "0.50"),
        ("7", "7.00"),
        (Decimal("1.230"), "1.23"),
        (Decimal("1E+2"), "100.00"),
    ],
)
async def test_amounts_go_out_with_exactly_two_decimals(
    sandbox: LworkSandbox, client: Client, given: Any, sent: str
) -> None:
    await client.call(
        "account.deposit",
        userId=SEED_USER,
        serverId="428",
        login=ACCOUNT,
        depositAmount=given,
        payCurrency="CNY",
    )
    body = last_body(sandbox, "account.deposit")
    assert body["depositAmount"] == sent
    assert sandbox.journal.rejections() == []


async def test_no_private_key_fails_before_io(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    async with make_client({"private_key": ""}) as client:
        # reads work without a key
        await client.funding.balances(m.GetBalances(account_id=ACCOUNT))
        with pytest.raises(AuthenticationError):
            await client.funding.request_deposit(
                m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
            )
    assert [e.endpoint for e in sandbox.journal] == ["account.info"]


async def test_key_from_file_and_environment(
    sandbox: LworkSandbox,
    make_client: Callable[..., Client],
    openssl_keys: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox.register_public_key(openssl_keys["pub"].read_bytes())
    async with make_client(
        {"private_key": "", "private_key_passphrase": "Sesame-Pass-1"},
        private_key_file=str(openssl_keys["pkcs8-enc"]),
    ) as client:
        assert key_source(client) == "file"
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
        )
    one_line = openssl_keys["pkcs1"].read_text().replace("\n", "\\n")
    monkeypatch.setenv("LWORK_TEST_KEY", one_line)
    async with make_client({"private_key": ""}, private_key_env="LWORK_TEST_KEY") as client:
        assert key_source(client) == "environment"
        await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("2"))
        )
    assert sandbox.journal.rejections() == []
    assert len(sandbox.deposits) == 2


async def test_sandbox_hands_out_an_encrypted_key(openssl_keys: dict[str, Path]) -> None:
    import brokerport

    async with brokerport.connect(
        "lwork",
        brokerport.Profile(vendor="lwork"),
        sandbox_options={"key_bits": 1024, "passphrase": "pw-123456", "key_format": "pkcs1"},
    ) as client:
        assert "ENCRYPTED" in client.profile.credentials["private_key"].reveal()
        ticket = await client.funding.request_deposit(
            m.DepositRequest(
                account_id=ACCOUNT,
                amount=Decimal("10"),
                user_id=SEED_USER,
                server_id="428",
                pay_currency="CNY",
            )
        )
        assert ticket.pay_amount == Decimal("68.23")


class RaiseAmount:
    """A host hook that changes the amount before the request is built."""

    @hookimpl
    def brokerport_before_request(self, call: Any) -> None:
        if call.endpoint.name == "account.deposit":
            call.params["depositAmount"] = Decimal("250.5")


async def test_hook_changes_are_signed(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    """The signature is computed after the hooks, over what is finally sent."""
    client = make_client()
    client._extra_hooks.append(RaiseAmount())
    async with client:
        ticket = await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
        )
    assert last_body(sandbox, "account.deposit")["depositAmount"] == "250.50"
    assert sandbox.deposits[ticket.deposit_id].amount == Decimal("250.50")
    assert sandbox.journal.rejections() == []


async def test_raw_paged_answer_has_the_documented_fields(client: Client) -> None:
    data = await client.call(
        "account.history",
        userId=SEED_USER,
        login=ACCOUNT,
        **{"from": "2000-01-01", "to": "2100-01-01", "page": 1, "size": 1},
    )
    assert set(data) == {"list", "offset", "pager", "pages", "size", "total"}
    assert (data["pager"], data["pages"], data["size"], data["total"]) == (1, 2, 1, 2)
    assert isinstance(data["list"][0]["closePrice"], Decimal)
