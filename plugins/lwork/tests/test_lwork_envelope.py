"""The {result, mcode, data, errorMessage} envelope: every code's mapping, malformed answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import brokerport
import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    Conflict,
    DecodeError,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UnknownOutcome,
    VendorUnavailable,
)
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse
from brokerport_lwork import LworkAdapter
from brokerport_lwork.errors import MCODES
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox

ONCE = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0)


class Canned:
    """A MockTransport handler answering one fixed response."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b""

    def set(self, body: Any, status: int = 200) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()

    def __call__(self, request: PreparedRequest) -> RawResponse:
        return RawResponse(self.status, {"Content-Type": "application/json"}, self.body)


@pytest.fixture(scope="module")
def key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def canned() -> Canned:
    return Canned()


@pytest_asyncio.fixture
async def mock_client(canned: Canned, key_pem: str) -> AsyncIterator[Client]:
    profile = Profile(
        vendor="lwork",
        base_url="http://127.0.0.1:9",
        credentials={"tenant_id": "T1", "token": "tok-secret-1", "private_key": key_pem},
        options={"user_id": "u1", "server_id": "428", "platform": "MT4", "pay_currency": "CNY"},
    )
    transport = MockTransport(canned)
    async with Client(LworkAdapter, profile, transport=transport, retry=ONCE) as c:
        yield c


def env(mcode: str, *, result: bool = False, data: Any = None, msg: Any = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"mcode": mcode, "result": result}
    if data is not None:
        doc["data"] = data
    if msg is not None:
        doc["errorMessage"] = msg
    return doc


EXPECTED = {
    "BW_INVALID_PARAM": InvalidRequest,
    "-1": VendorUnavailable,
    "m0000001": BrokerportError,
    "BW_INVALID_TOKEN": AuthenticationError,
    "BW_INVALID_SIGNATURE": AuthenticationError,
    "BW_FORBIDDEN": PermissionDenied,
    "BW_NOT_FOUND": NotFound,
    "BW_INSUFFICIENT_BALANCE": InsufficientFunds,
    "BW_DUPLICATE": Conflict,
    "BW_RATE_LIMITED": RateLimited,
}


def test_every_code_has_an_expectation() -> None:
    assert set(EXPECTED) == set(MCODES)


@pytest.mark.parametrize(("mcode", "cls"), sorted(EXPECTED.items()))
async def test_mcode_maps_to_error_class(
    mock_client: Client, canned: Canned, mcode: str, cls: type[BrokerportError]
) -> None:
    canned.set(env(mcode, msg=["参数错误"]))
    with pytest.raises(cls) as info:
        await mock_client.call("account.info_by_user_ids", userIds="4,5")
    err = info.value
    assert type(err) is cls
    assert err.vendor == "lwork"
    assert err.vendor_code == mcode
    assert err.vendor_message == "参数错误"
    assert err.endpoint == "account.info_by_user_ids"


async def test_numeric_mcode_minus_one(mock_client: Client, canned: Canned) -> None:
    canned.set(b'{"result": false, "mcode": -1, "errorMessage": ""}')
    with pytest.raises(VendorUnavailable) as info:
        await mock_client.call("account.info_by_user_ids", userIds="4")
    assert info.value.vendor_code == "-1"


async def test_unknown_mcode_is_a_brokerport_error_with_the_code(
    mock_client: Client, canned: Canned
) -> None:
    canned.set(env("m0000042", msg="odd"))
    with pytest.raises(BrokerportError) as info:
        await mock_client.call("account.info_by_user_ids", userIds="4")
    assert info.value.vendor_code == "m0000042"


@pytest.mark.parametrize(
    "doc",
    [
        env("m0000000", result=False),  # success code, result false
        env("m0000001", result=True, data=[]),  # result true, other code
        env("m00000", result=True, data=[]),  # the document's short "m00000"
    ],
)
async def test_success_needs_result_true_and_m0000000(
    mock_client: Client, canned: Canned, doc: dict[str, Any]
) -> None:
    canned.set(doc)
    with pytest.raises(BrokerportError) as info:
        await mock_client.call("account.info_by_user_ids", userIds="4")
    assert info.value.vendor_code == doc["mcode"]


async def test_error_codes_option_extends_the_map(canned: Canned, key_pem: str) -> None:
    profile = Profile(
        vendor="lwork",
        base_url="http://127.0.0.1:9",
        credentials={"tenant_id": "T1", "token": "t", "private_key": key_pem},
        options={"error_codes": "BW_ACCOUNT_LOCKED=PermissionDenied, m0000001=Conflict"},
    )
    async with Client(LworkAdapter, profile, transport=MockTransport(canned), retry=ONCE) as c:
        canned.set(env("BW_ACCOUNT_LOCKED"))
        with pytest.raises(PermissionDenied):
            await c.call("account.info_by_user_ids", userIds="4")
        canned.set(env("m0000001"))
        with pytest.raises(Conflict):
            await c.call("account.info_by_user_ids", userIds="4")


async def test_doubles_are_decimals(mock_client: Client, canned: Canned) -> None:
    canned.set(
        b'{"data": {"accountId": "2090002986", "accountName": "Demo", '
        b'"balance": 51092.55, "credit": 277.78, "currency": "USD", '
        b'"floatProfit": -1.164, "group": "demoTB", "leverage": 20, '
        b'"marginFree": 51370.33}, "mcode": "m0000000", "result": true}'
    )
    (bal,) = await mock_client.funding.balances(m.GetBalances(account_id="2090002986"))
    assert bal.total == Decimal("51092.55") and isinstance(bal.total, Decimal)
    assert bal.credit == Decimal("277.78")
    assert bal.floating_pnl == Decimal("-1.164")
    assert bal.margin_free == Decimal("51370.33")
    assert bal.equity == Decimal("51369.166")
    raw = await mock_client.call(
        "account.info", account="2090002986", **{"x-api-vendor": "MT4", "x-api-serverid": "428"}
    )
    assert raw["balance"] == Decimal("51092.55")


MALFORMED = [
    (b"<html><body>502 Bad Gateway</body></html>", 200),
    (b"Service temporarily unavailable", 200),
    (b"", 200),
    (b"[1, 2]", 200),
    (b'{"data": []}', 200),
    (b'{"result": "true", "mcode": "m0000000"}', 200),
    (b'{"result": true}', 200),
    (b'{"result": true, "mcode": "m0000000", "data": {"oops": 1', 200),
    (b'{"result": true, "mcode": "m0000000", "data": "not a list"}', 200),
    (b'{"result": true, "mcode": "m0000000", "data": [{"no_login": 1}]}', 200),
]


@pytest.mark.parametrize(("body", "status"), MALFORMED)
async def test_malformed_answers_to_a_read_are_decode_errors(
    mock_client: Client, canned: Canned, body: bytes, status: int
) -> None:
    canned.set(body, status)
    with pytest.raises(DecodeError):
        await mock_client.accounts.list(m.ListAccounts(user_ids=["u1"]))


@pytest.mark.parametrize(
    "body",
    [
        b'{"result": true, "mcode": "m0000000", "data": {"balance": "abc", "currency": "USD"}}',
        b'{"result": true, "mcode": "m0000000", "data": {"balance": true, "currency": "USD"}}',
        b'{"result": true, "mcode": "m0000000", "data": {"currency": "USD"}}',
        b'{"result": true, "mcode": "m0000000", "data": []}',
        b'{"result": true, "mcode": "m0000000", "data": {"balance": NaN, "currency": "USD"}}',
    ],
)
async def test_unreadable_payloads_are_decode_errors(
    mock_client: Client, canned: Canned, body: bytes
) -> None:
    canned.set(body)
    with pytest.raises(DecodeError):
        await mock_client.funding.balances(m.GetBalances(account_id="1"))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<html>502 Bad Gateway</html>", 502),
        (b"garbage", 200),
        (b'{"result": true, "mcode": "m0000000", "data": {"payAmount": 1}}', 200),
    ],
)
async def test_malformed_answer_to_a_money_write_is_unknown_outcome(
    mock_client: Client, canned: Canned, body: bytes, status: int
) -> None:
    canned.set(body, status)
    with pytest.raises(UnknownOutcome) as info:
        await mock_client.funding.request_deposit(
            m.DepositRequest(account_id="2090001252", amount=Decimal("10"))
        )
    assert info.value.how_to_reconcile
    assert "signature" not in info.value.reconcile_with


async def test_html_5xx_on_a_read_is_vendor_unavailable(
    mock_client: Client, canned: Canned
) -> None:
    canned.set(b"<html>503</html>", 503)
    with pytest.raises(VendorUnavailable):
        await mock_client.call("account.info_by_user_ids", userIds="4")


async def test_callback_data_zero_is_a_conflict(mock_client: Client, canned: Canned) -> None:
    canned.set(env("m0000000", result=True, data="0"))
    with pytest.raises(Conflict):
        await mock_client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id="j1",
                payment_reference="o1",
                pay_amount=Decimal("1.00"),
                pay_currency="CNY",
            )
        )


# ---------------------------------------------------- the sandbox's own codes


async def test_sandbox_codes_reach_the_host_typed(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    async with make_client() as client:
        with pytest.raises(NotFound) as nf:
            await client.funding.balances(m.GetBalances(account_id="999"))
        assert nf.value.vendor_code == "BW_NOT_FOUND"
        with pytest.raises(InsufficientFunds) as insuff:
            await client.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id="2090001253",
                    amount=Decimal("1000000"),
                    currency="USD",
                    payee=m.Payee(name="Demo", account_number="6226", bank_name="ICBC"),
                )
            )
        assert insuff.value.vendor_code == "BW_INSUFFICIENT_BALANCE"
        with pytest.raises(InvalidRequest) as bad:
            await client.call(
                "account.cashflow",
                userId=SEED_USER,
                login="2090001252",
                **{
                    "from": "2026-01-01",
                    "to": "2026-12-31",
                    "type": "Deposit",
                    "page": 1,
                    "size": 10,
                    "extra": "x",
                },
            )
        assert bad.value.vendor_code is None  # refused before I/O (unknown parameter)
    async with make_client({"token": "wrong-token"}) as client:
        with pytest.raises(AuthenticationError) as auth:
            await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER]))
        assert auth.value.vendor_code == "BW_INVALID_TOKEN"
    async with make_client({"tenant_id": "T999"}) as client:
        with pytest.raises(AuthenticationError):
            await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER]))


async def test_sandbox_5xx_fault_is_minus_one(
    sandbox: LworkSandbox, make_client: Callable[..., Client]
) -> None:
    sandbox.faults.add("status", "account.info_by_user_ids", status=500, times=-1)
    async with make_client(retry=ONCE) as client:
        with pytest.raises(VendorUnavailable) as info:
            await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER]))
    assert info.value.vendor_code == "-1"


async def test_connect_by_name_uses_the_embedded_sandbox() -> None:
    async with brokerport.connect(
        "lwork", Profile(vendor="lwork"), sandbox_options={"key_bits": 1024}
    ) as client:
        page = await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER]))
        assert {a.account_id for a in page} == {"2090001252", "2090001253", "3004272"}
