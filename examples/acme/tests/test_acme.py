"""Tests of the Acme example plugin against its own sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import aiohttp
import brokerport
import pytest
from brokerport import models as m
from brokerport.adapter import VendorFault
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.signing import PreparedRequest
from brokerport.types import Secret
from brokerport_acme import AcmeAdapter
from brokerport_acme.protocol import ACME_ERRORS, AcmeSigner, string_to_sign
from brokerport_acme.sandbox import AcmeSandbox
from yarl import URL


def usd(text: str) -> Decimal:
    return Decimal(text)


async def funded(client: Client, name: str = "desk1", amount: str = "100.00") -> None:
    await client.subaccounts.create(m.CreateSubAccount(name=name))
    await client.funding.request_deposit(
        m.DepositRequest(account_id=name, amount=usd(amount), currency="USD")
    )


# ------------------------------------------------------------------ signing


def test_signer_signs_the_exact_bytes() -> None:
    # Odd spacing on purpose: the signer must use these bytes, never re-serialize.
    body = b'{ "amount" : "1.50" }'
    request = PreparedRequest("POST", "http://acme.test", "/v1/deposits", "b=2&a=1", {}, body)
    signer = AcmeSigner(Secret("key-1"), Secret("s3cret"))
    signer.sign(request, 1_700_000_000.1234)

    message = b"1700000000123\nPOST\n/v1/deposits?b=2&a=1\n" + body
    assert request.headers == {
        "X-Acme-Key": "key-1",
        "X-Acme-Timestamp": "1700000000123",
        "X-Acme-Signature": hmac.new(b"s3cret", message, hashlib.sha256).hexdigest(),
    }
    assert "s3cret" not in repr(signer) and "s3cret" not in repr(signer.redacted())
    assert "key-1" not in repr(signer.redacted())


async def test_signature_covers_what_went_on_the_wire(client: Client, sandbox: AcmeSandbox) -> None:
    await client.subaccounts.list(m.ListSubAccounts(limit=5))
    await client.subaccounts.create(m.CreateSubAccount(name="desk1", label="déjà vu"))
    for entry in sandbox.journal:
        sent = PreparedRequest(entry.method, "", entry.path, entry.query, body=entry.body)
        expected = hmac.new(
            b"acme-sandbox-secret",
            string_to_sign(entry.headers["X-Acme-Timestamp"], sent),
            hashlib.sha256,
        ).hexdigest()
        assert entry.headers["X-Acme-Signature"] == expected
        assert entry.status == 200


async def test_tampered_request_is_rejected(client: Client, sandbox: AcmeSandbox) -> None:
    await funded(client)
    entry = sandbox.journal.for_endpoint("funding.deposit")[-1]
    tampered = entry.body.replace(b'"100.00"', b'"900.00"')
    assert tampered != entry.body
    headers = {
        k: v for k, v in entry.headers.items() if k.lower() not in ("host", "content-length")
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            URL(f"{sandbox.base_url}{entry.path}", encoded=True), data=tampered, headers=headers
        ) as response,
    ):
        answer = json.loads(await response.read())
    assert response.status == 401
    assert answer == {"ok": False, "error": {"code": "ACME-2001", "message": "signature mismatch"}}
    last = sandbox.journal.last()
    assert last is not None and last.rejected == "auth" and not last.effect
    balances = await client.funding.balances(m.GetBalances(account_id="desk1"))
    assert [b.total for b in balances] == [usd("100.00")]  # not 900 more


# --------------------------------------------------------------- round trips


async def test_pagination_across_pages(client: Client) -> None:
    names = [f"desk{i}" for i in range(7)]
    for name in names:  # 7 writes at 5/s: the client's limiter paces them
        await client.subaccounts.create(m.CreateSubAccount(name=name))

    first = await client.subaccounts.list(m.ListSubAccounts(limit=3))
    assert [s.name for s in first.items] == names[:3] and first.next_cursor
    sizes, seen = [], []
    request = m.ListSubAccounts(limit=3)
    while True:
        page = await client.subaccounts.list(request)
        sizes.append(len(page))
        seen += [s.name for s in page.items]
        if page.next_cursor is None:
            break
        request = m.ListSubAccounts(limit=3, cursor=page.next_cursor)
    assert sizes == [3, 3, 1] and seen == names
    walked = [
        s.name
        async for s in brokerport.paginate(client.subaccounts.list, m.ListSubAccounts(limit=2))
    ]
    assert walked == names


async def test_deposit_withdrawal_history_round_trip() -> None:
    async with brokerport.connect("acme") as client:  # the embedded sandbox
        await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        ticket = await client.funding.request_deposit(
            m.DepositRequest(account_id="desk1", amount=usd("100.25"), currency="USD")
        )
        out = await client.funding.request_withdrawal(
            m.WithdrawalRequest(account_id="desk1", amount=usd("40.10"), currency="USD")
        )

        deposits = await client.funding.deposit_history(m.FundingHistoryQuery(account_id="desk1"))
        [record] = deposits.items
        assert record.record_id == ticket.deposit_id and record.kind == "deposit"
        assert record.amount == usd("100.25") and isinstance(record.amount, Decimal)
        assert record.created_at is not None and record.created_at.tzinfo is not None
        assert record.raw["client_ref"]  # the vendor object is kept
        withdrawals = await client.funding.withdrawal_history(
            m.FundingHistoryQuery(account_id="desk1", currency="USD")
        )
        assert [(r.record_id, r.amount) for r in withdrawals] == [(out.withdrawal_id, usd("40.10"))]
        [balance] = await client.funding.balances(m.GetBalances(account_id="desk1"))
        assert (balance.currency, balance.total) == ("USD", usd("60.15"))
        assert isinstance(balance.total, Decimal)


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda c: c.funding.request_deposit(
                m.DepositRequest(account_id="desk1", amount=Decimal("1.005"), currency="USD")
            ),
            "amount",
        ),
        (
            lambda c: c.funding.request_withdrawal(
                m.WithdrawalRequest(account_id="desk1", amount=Decimal("10"), currency="usd")
            ),
            "currency",
        ),
        (
            lambda c: c.funding.request_deposit(
                m.DepositRequest(account_id="desk1", amount=Decimal("10"))
            ),
            "currency",
        ),  # Acme requires it
        (lambda c: c.subaccounts.create(m.CreateSubAccount(name="ab")), "name"),
        (lambda c: c.subaccounts.create(m.CreateSubAccount(name="Desk_1")), "name"),
        (lambda c: c.subaccounts.delete(m.SubAccountRef(name="x" * 25)), "name"),
        (lambda c: c.subaccounts.list(m.ListSubAccounts(limit=51)), "limit"),
        (
            lambda c: c.call("funding.deposit", account="desk1", amount=1.5, currency="USD"),
            "amount",
        ),
        (lambda c: c.call("subaccount.get", name="desk1", extra="x"), "extra"),
    ],
)
async def test_rule_violations_never_reach_the_wire(
    client: Client, sandbox: AcmeSandbox, call: Any, field: str
) -> None:
    with pytest.raises(brokerport.InvalidRequest) as info:
        await call(client)
    assert info.value.field == field
    assert len(sandbox.journal) == 0  # nothing was sent


async def test_unsupported_filters_are_refused_not_ignored(
    client: Client, sandbox: AcmeSandbox
) -> None:
    with pytest.raises(brokerport.InvalidRequest, match="status"):
        await client.funding.deposit_history(m.FundingHistoryQuery(status="completed"))
    with pytest.raises(brokerport.NotSupported):
        await client.funding.transfer(
            m.TransferRequest(from_account="a", to_account="b", amount=Decimal(1))
        )
    assert len(sandbox.journal) == 0


# ----------------------------------------------------------- error mapping


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ACME-1001", 400, brokerport.InvalidRequest),
        ("ACME-2001", 401, brokerport.AuthenticationError),
        ("ACME-2002", 401, brokerport.AuthenticationError),
        ("ACME-2003", 401, brokerport.AuthenticationError),
        ("ACME-2100", 403, brokerport.PermissionDenied),
        ("ACME-4040", 404, brokerport.NotFound),
        ("ACME-4090", 409, brokerport.Conflict),
        ("ACME-4220", 422, brokerport.InsufficientFunds),
        ("ACME-4290", 429, brokerport.RateLimited),
        ("ACME-5000", 500, brokerport.VendorUnavailable),
    ],
)
def test_error_map(code: str, status: int, expected: type[Exception]) -> None:
    error = ACME_ERRORS.error(
        VendorFault(code, "msg", http_status=status), vendor="acme", endpoint="x"
    )
    assert type(error) is expected
    assert (error.vendor_code, error.http_status, error.vendor_message) == (code, status, "msg")


async def test_vendor_errors_arrive_typed(client: Client, sandbox: AcmeSandbox) -> None:
    await funded(client, amount="5.00")
    c = client
    cases: list[tuple[Any, type[brokerport.BrokerportError], str]] = [
        (
            lambda: c.subaccounts.delete(m.SubAccountRef(name="nobody")),
            brokerport.NotFound,
            "ACME-4040",
        ),
        (
            lambda: c.subaccounts.create(m.CreateSubAccount(name="desk1")),
            brokerport.Conflict,
            "ACME-4090",
        ),
        (
            lambda: c.subaccounts.delete(m.SubAccountRef(name="desk1")),
            brokerport.Conflict,
            "ACME-4090",
        ),  # it still holds funds
        (
            lambda: c.funding.request_withdrawal(
                m.WithdrawalRequest(account_id="desk1", amount=usd("5.01"), currency="USD")
            ),
            brokerport.InsufficientFunds,
            "ACME-4220",
        ),
        # the client cannot know a cursor is bad; the vendor says so
        (
            lambda: c.call("subaccount.list", cursor="bm90LWEtbnVtYmVy"),
            brokerport.InvalidRequest,
            "ACME-1001",
        ),
    ]
    for call, expected, code in cases:
        with pytest.raises(expected) as info:
            await call()
        assert info.value.vendor_code == code and info.value.vendor == "acme"

    before = len(sandbox.journal)
    sandbox.faults.add("status", "subaccount.list", status=500, times=-1)
    with pytest.raises(brokerport.VendorUnavailable) as unavailable:
        await client.subaccounts.list(m.ListSubAccounts())
    assert unavailable.value.vendor_code == "ACME-5000"
    assert len(sandbox.journal) == before + 3  # a read is retried


@pytest.mark.parametrize(
    ("credentials", "advance", "code"),
    [
        ({"secret_key": "wrong-secret"}, 0, "ACME-2001"),
        ({"api_key": "who-is-this"}, 0, "ACME-2002"),
        ({}, 30, "ACME-2003"),  # the vendor's clock is 30 s ahead of ours
    ],
)
async def test_authentication_failures(
    sandbox: AcmeSandbox, credentials: dict[str, str], advance: float, code: str
) -> None:
    sandbox.clock.advance(advance)
    profile = brokerport.Profile(
        vendor="acme",
        base_url=sandbox.base_url,
        credentials={**sandbox.credentials(), **credentials},
    )
    async with Client(AcmeAdapter, profile) as client:
        with pytest.raises(brokerport.AuthenticationError) as info:
            await client.subaccounts.list(m.ListSubAccounts())
    assert info.value.vendor_code == code and info.value.http_status == 401
    assert len(sandbox.journal.rejections("auth")) == 1


async def test_read_only_key_is_permission_denied() -> None:
    async with brokerport.connect("acme", sandbox_options={"read_only": True}) as client:
        await client.subaccounts.list(m.ListSubAccounts())  # reads are fine
        with pytest.raises(brokerport.PermissionDenied) as info:
            await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
    assert info.value.vendor_code == "ACME-2100"


async def test_sandbox_rate_limit_answers_with_its_own_envelope(sandbox: AcmeSandbox) -> None:
    # Two clients on one key, each with its own limiter: together they overrun
    # the 5/s write bucket (share one LimiterRegistry to avoid exactly this).
    async with (
        Client(AcmeAdapter, sandbox.profile()) as a,
        Client(AcmeAdapter, sandbox.profile(), retry=RetryPolicy(max_attempts=1)) as b,
    ):
        for i in range(5):
            await a.subaccounts.create(m.CreateSubAccount(name=f"desk{i}"))
        with pytest.raises(brokerport.RateLimited) as info:
            await b.subaccounts.create(m.CreateSubAccount(name="desk9"))
    assert (info.value.vendor_code, info.value.http_status) == ("ACME-4290", 429)
    assert info.value.retry_after == 1.0
    assert len(sandbox.journal.rejections("rate_limit")) == 1


# ------------------------------------------------------------- idempotency


def _client_ref(body: bytes) -> str:
    ref: str = json.loads(body)["client_ref"]
    return ref


async def test_idempotency_key_is_minted_once(client: Client, sandbox: AcmeSandbox) -> None:
    await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
    sandbox.faults.add("status", "funding.deposit", status=503)  # the first attempt fails
    ticket = await client.funding.request_deposit(
        m.DepositRequest(account_id="desk1", amount=usd("10.00"), currency="USD")
    )

    sent = sandbox.journal.for_endpoint("funding.deposit")
    assert [e.status for e in sent] == [503, 200]  # retried: deposits are de-duplicated
    refs = {_client_ref(e.body) for e in sent}
    assert len(refs) == 1  # one key, minted before the first attempt
    assert ticket.raw["client_ref"] in refs
    assert len(sandbox.journal.effects("funding.deposit")) == 1

    # A host may bring its own key; resending it is harmless.
    for _ in range(2):
        again = await client.funding.request_deposit(
            m.DepositRequest(
                account_id="desk1",
                amount=usd("10.00"),
                currency="USD",
                extra={"client_ref": "order-42"},
            )
        )
    assert again.raw["client_ref"] == "order-42"
    assert len(sandbox.journal.effects("funding.deposit")) == 2


async def test_lost_withdrawal_is_unknown_outcome_with_its_key(
    client: Client, sandbox: AcmeSandbox
) -> None:
    await funded(client)
    sandbox.faults.add("lost", "funding.withdraw")  # applied, then the answer is lost
    with pytest.raises(brokerport.UnknownOutcome) as info:
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(account_id="desk1", amount=usd("30.00"), currency="USD")
        )
    [sent] = sandbox.journal.for_endpoint("funding.withdraw")  # never resent
    key = info.value.idempotency_key
    assert key == _client_ref(sent.body)
    assert info.value.how_to_reconcile and "client_ref" in info.value.how_to_reconcile

    # Reconcile: look the withdrawal up by its key.
    found = await client.funding.withdrawal_history(
        m.FundingHistoryQuery(account_id="desk1", extra={"client_ref": key})
    )
    assert [r.amount for r in found] == [usd("30.00")]


def test_hand_written_python_outside_the_sandbox_stays_small() -> None:
    """The example stays readable: its Python besides sandbox.py is at most 300 lines
    (the error table is data: errors.toml)."""
    from pathlib import Path

    import brokerport_acme

    package = Path(brokerport_acme.__file__).parent
    lines = sum(
        len(p.read_text(encoding="utf-8").splitlines())
        for p in package.glob("*.py")
        # generated files (calls.py: typed raw calls) say so on their first line
        if p.name != "sandbox.py" and "generated" not in p.read_text().partition("\n")[0].lower()
    )
    assert lines <= 300, lines
