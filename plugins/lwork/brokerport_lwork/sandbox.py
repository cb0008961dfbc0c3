"""The lwork sandbox: an in-process twapi with state, signatures and paging.

Same paths (from the catalog), the ``{result, mcode, data, errorMessage}``
envelope and mcodes, tenant-header checks on every request, and SHA1withRSA
verification of every signed body (3.2, 3.3, 3.11) against the public key the
tenant registered. A key pair is generated per sandbox; :meth:`credentials`
hands the client the private key PEM (tests may register their own public key
with :meth:`LworkSandbox.register_public_key`).

State: users (with base / finance / certificate profile sections), accounts
on servers and platforms, balances that move with deposits (only after the
payment callback), withdrawals and transfers, the cash flow of each account,
closed trades, pending orders and positions. ``payAmount`` is
``depositAmount × rate`` (Decimal, rounded half-up to cents) from the
configured exchange rates.

Where the documents are silent the sandbox chooses (see the README): it
answers HTTP 200 with the envelope for every vendor error, uses the ``BW_*``
codes of :mod:`brokerport_lwork.errors` for auth, signature, not-found,
balance and duplicate failures, debits a withdrawal when it is applied for,
and completes a transfer at once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import attrs
from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.signing import load_rsa_public_key
from brokerport.testing.sandbox import Sandbox, SandboxClock, json_response, rsa_sha1_verify
from brokerport.types import decimal_places

from .adapter import LworkAdapter
from .convert import vendor_timezone

__all__ = ["LworkSandbox", "SandboxAccount", "SandboxUser", "create_sandbox"]

SUCCESS = "m0000000"
CENT = Decimal("0.01")

#: Seeded ids (the document's examples).
SEED_USER = "4b07e7af-798a-4f68-9b2c-561a8300eac2"
SEED_DEMO_TYPE = "2e852672-dd6e-4ede-a6dc-7108c234dcd7"
DEFAULT_RATES = {"USD/CNY": "6.8234", "USD/NZD": "1.6500", "EUR/CNY": "7.4000"}
DEFAULT_SERVERS = {"428": "MT4", "429": "MT4", "530": "MT5"}


class _Reject(Exception):
    """A handler refuses the request with an lwork error envelope."""

    def __init__(
        self, mcode: str, message: str, *, data: Any = None, rejected: str | None = None
    ) -> None:
        super().__init__(message)
        self.mcode = mcode
        self.message = message
        self.data = data
        self.rejected = rejected


def _bad(message: str) -> _Reject:
    return _Reject("BW_INVALID_PARAM", message)


# ------------------------------------------------------------------- state


@attrs.define
class SandboxUser:
    user_id: str
    base: dict[str, Any] = attrs.Factory(dict)
    finance: dict[str, Any] = attrs.Factory(dict)
    certificate: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class SandboxAccount:
    login: str
    user_id: str
    vendor: str
    server_id: str
    name: str
    currency: str = "USD"
    group: str = "Default"
    leverage: int = 100
    balance: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")
    enable: int = 1
    read_only: int = 0
    registered: float = 0.0
    email: str = ""
    phone: str = ""
    demo: bool = False


@attrs.define
class _Deposit:
    job_id: str
    login: str
    amount: Decimal
    currency: str
    pay_amount: Decimal
    pay_currency: str
    comment: str
    created_ms: int
    pay_status: str = "Pending"
    state: str = "Submited"  # sic: the document's spelling
    order_id: str | None = None


@attrs.define
class _Withdrawal:
    id: str
    login: str
    amount: Decimal
    currency: str
    pay_currency: str | None
    bank: dict[str, Any]
    created_ms: int
    state: str = "Submited"


@attrs.define
class _Transfer:
    id: str
    login: str
    receipt: str
    amount: Decimal
    currency: str
    comment: str
    created_ms: int
    state: str = "Completed"


@attrs.define
class _Report:
    """A closed trade, pending order or position (wire fields + the time it is filed by)."""

    login: str
    at: float
    fields: dict[str, Any]


# ------------------------------------------------------------------ helpers


#: [wt-fault] the largest amount the sandbox books (exclusive)
_AMOUNT_BOUND = Decimal("1e20")


def _money2(value: Any, name: str) -> tuple[Decimal, str]:
    """(amount, exactly-two-decimals text) of a body amount; rejects >2 decimals."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _bad(f"{name} is required")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _bad(f"{name} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise _bad(f"{name} must be positive")
    # [wt-fault] a refusal, not HTTP 500, for amounts past what the books hold
    # (>= 1e29 broke the exchange-rate quantize): the vendor's own bound
    if amount >= _AMOUNT_BOUND:
        raise _bad(f"{name} is too large")
    if decimal_places(amount) > 2:
        raise _bad(f"{name} must have two decimals")
    return amount, f"{amount:.2f}"


def _text(body: Mapping[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _bad(f"{name} is required")
        return ""
    if isinstance(value, (dict, list, bool)):
        raise _bad(f"{name} must be a string")
    return str(value)


def _date(value: str | None, name: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise _bad(f"{name} must be a date YYYY-MM-DD") from None


def _positive_int(value: str | None, name: str) -> int:
    try:
        n = int(value or "")
    except ValueError:
        raise _bad(f"{name} must be an integer") from None
    if n < 1:
        raise _bad(f"{name} must be at least 1")
    return n


class LworkSandbox(Sandbox):
    """twapi in a box. Options: ``tenant_id``, ``token``, ``rates`` ({"USD/CNY": "6.8234"}),
    ``servers`` ({"428": "MT4"}), ``seed`` (True), ``timezone`` ("+08:00"),
    ``key_bits`` (2048), ``key_format`` ("pkcs8" or "pkcs1"), ``passphrase``
    (encrypt the handed-out PEM), ``clock``."""

    vendor = "lwork"

    def __init__(
        self,
        *,
        tenant_id: str = "T001117",
        token: str | None = None,
        rates: Mapping[str, str | Decimal] | None = None,
        servers: Mapping[str, str] | None = None,
        seed: bool = True,
        timezone: str = "+08:00",
        key_bits: int = 2048,
        key_format: str = "pkcs8",
        passphrase: str | None = None,
        clock: SandboxClock | None = None,
    ) -> None:
        super().__init__(LworkAdapter.catalog(), clock=clock)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.tenant_id = tenant_id
        self._token = token or secrets.token_urlsafe(24)
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
        fmt = (
            serialization.PrivateFormat.TraditionalOpenSSL
            if key_format == "pkcs1"
            else serialization.PrivateFormat.PKCS8
        )
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        self._private_pem = key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()
        self._passphrase = passphrase
        self.public_key = key.public_key()
        self.rates = {k.upper(): Decimal(str(v)) for k, v in (rates or DEFAULT_RATES).items()}
        self.servers = dict(servers or DEFAULT_SERVERS)
        self.tz: tzinfo = vendor_timezone(timezone)
        self._seed = seed
        self._init_state()
        for name in self.catalog:
            self.add_route(name, self._dispatch(name))

    # ------------------------------------------------------------ state

    def _init_state(self) -> None:
        self.users: dict[str, SandboxUser] = {}
        self.accounts: dict[str, SandboxAccount] = {}
        self.deposits: dict[str, _Deposit] = {}
        self.withdrawals: list[_Withdrawal] = []
        self.transfers: list[_Transfer] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.demo_types: dict[str, dict[str, Any]] = {
            SEED_DEMO_TYPE: {
                "vendor": "MT4",
                "serverId": "428",
                "group": "demoforex",
                "leverage": 100,
                "currency": "USD",
                "balance": Decimal("10000.00"),
            },
        }
        self.history: list[_Report] = []
        self.pending: list[_Report] = []
        self.positions: list[_Report] = []
        self._next_login = 2090005510
        self._next_id = 12212500
        if self._seed:
            self._seed_data()

    def reset(self) -> None:
        super().reset()
        self._init_state()

    def credentials(self) -> dict[str, str]:
        creds = {
            "tenant_id": self.tenant_id,
            "token": self._token,
            "private_key": self._private_pem,
        }
        if self._passphrase:
            creds["private_key_passphrase"] = self._passphrase
        return creds

    def register_public_key(self, pem: str | bytes) -> None:
        """The tenant registers (replaces) its RSA public key with the vendor."""
        self.public_key = load_rsa_public_key(pem)

    def __repr__(self) -> str:
        return f"LworkSandbox(tenant={self.tenant_id!r}, base_url={self.base_url!r})"

    def add_user(self, user_id: str | None = None, **base: Any) -> SandboxUser:
        user = SandboxUser(user_id or str(uuid.uuid4()), base=dict(base))
        self.users[user.user_id] = user
        return user

    def add_account(
        self,
        user_id: str,
        *,
        login: str | None = None,
        vendor: str = "MT4",
        server_id: str = "428",
        name: str = "Demo",
        currency: str = "USD",
        balance: Decimal | str = "0.00",
        credit: Decimal | str = "0.00",
        group: str = "Default",
        leverage: int = 100,
        demo: bool = False,
    ) -> SandboxAccount:
        if user_id not in self.users:
            self.add_user(user_id)
        acct = SandboxAccount(
            login=login or self._login(),
            user_id=user_id,
            vendor=vendor,
            server_id=server_id,
            name=name,
            currency=currency,
            group=group,
            leverage=leverage,
            balance=Decimal(str(balance)),
            credit=Decimal(str(credit)),
            registered=self.clock.now(),
            demo=demo,
        )
        self.accounts[acct.login] = acct
        return acct

    def _login(self) -> str:
        while str(self._next_login) in self.accounts:
            self._next_login += 1
        login = str(self._next_login)
        self._next_login += 1
        return login

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _iso(self, at: float) -> str:
        dt = datetime.fromtimestamp(at, tz=UTC).astimezone(self.tz)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"

    def add_trade(
        self,
        login: str,
        *,
        symbol: str = "EURUSD",
        type: str = "Sell",
        volume: str = "1",
        open_price: str = "1.07703",
        close_price: str = "1.07709",
        profit: str = "-6",
        commission: str = "-13",
        swap: str = "0",
        at: float | None = None,
    ) -> dict[str, Any]:
        """A closed trade (3.8), closed at ``at`` (epoch seconds; default now)."""
        acct = self.accounts[login]
        at = self.clock.now() if at is None else at
        fields = {
            "account": login,
            "closePrice": Decimal(close_price),
            "closeTime": self._iso(at),
            "commission": Decimal(commission),
            "id": self._id(),
            "openPrice": Decimal(open_price),
            "openTime": self._iso(at - 8),
            "profit": Decimal(profit),
            "serverId": acct.server_id,
            "stopLoss": Decimal(0),
            "swaps": Decimal(swap),
            "symbol": symbol,
            "takeProfit": Decimal(0),
            "type": type,
            "vendor": acct.vendor,
            "volume": Decimal(volume),
        }
        self.history.append(_Report(login, at, fields))
        return fields

    def add_pending(
        self,
        login: str,
        *,
        symbol: str = "EURUSD",
        type: str = "BuyLimit",
        volume: str = "1",
        price: str = "1.05984",
        at: float | None = None,
    ) -> dict[str, Any]:
        """A pending order (3.9) placed at ``at``."""
        acct = self.accounts[login]
        at = self.clock.now() if at is None else at
        fields = {
            "account": login,
            "executionTime": self._iso(0),
            "orderPrice": Decimal(price),
            "orderTime": self._iso(at),
            "id": self._id(),
            "serverId": acct.server_id,
            "stopLoss": Decimal(0),
            "symbol": symbol,
            "takeProfit": Decimal(0),
            "type": type,
            "vendor": acct.vendor,
            "volume": Decimal(volume),
        }
        self.pending.append(_Report(login, at, fields))
        return fields

    def add_position(
        self,
        login: str,
        *,
        symbol: str = "XAUUSD",
        type: str = "Buy",
        volume: str = "0.1",
        open_price: str = "1255.28",
        profit: str = "-0.1",
        commission: str = "0",
        at: float | None = None,
    ) -> dict[str, Any]:
        """An open position (3.10) opened at ``at``; its profit counts in floatProfit."""
        acct = self.accounts[login]
        at = self.clock.now() if at is None else at
        fields = {
            "account": login,
            "commission": Decimal(commission),
            "id": self._id(),
            "openPrice": Decimal(open_price),
            "openTime": self._iso(at),
            "profit": Decimal(profit),
            "serverId": acct.server_id,
            "stopLoss": Decimal(0),
            "swap": Decimal(0),
            "symbol": symbol,
            "takeProfit": Decimal(0),
            "tenantId": self.tenant_id,
            "type": type,
            "vendor": acct.vendor,
            "volume": Decimal(volume),
        }
        self.positions.append(_Report(login, at, fields))
        return fields

    def _seed_data(self) -> None:
        self.add_user(SEED_USER, accountName="demo")
        a = self.add_account(
            SEED_USER,
            login="2090001252",
            name="Demo",
            balance="51092.55",
            credit="277.78",
            group="demoTB",
            leverage=20,
        )
        self.add_account(SEED_USER, login="2090001253", name="Second", balance="1000.00")
        self.add_account(
            SEED_USER,
            login="3004272",
            vendor="MT5",
            server_id="530",
            name="Euro",
            currency="EUR",
            balance="0.00",
            group="HFT",
            leverage=300,
        )
        now = self.clock.now()
        self.add_trade(a.login, at=now - 3 * 86400)
        self.add_trade(
            a.login,
            symbol="XAUUSD",
            type="Buy",
            volume="0.1",
            open_price="1255.28",
            close_price="1256.10",
            profit="8.2",
            commission="-0.1",
            at=now - 86400,
        )
        self.add_pending(a.login, at=now - 2 * 86400)
        self.add_position(a.login, at=now - 86400)
        self.add_position(
            a.login,
            symbol="EURUSD",
            volume="0.98",
            open_price="1.05984",
            profit="-7.84",
            commission="-9.8",
            at=now - 3600,
        )

    # ------------------------------------------------------------ wire

    def _envelope(
        self, mcode: str, *, data: Any = None, message: str | None = None
    ) -> web.Response:
        doc: dict[str, Any] = {}
        if data is not None:
            doc["data"] = data
        doc["mcode"] = mcode
        if mcode != SUCCESS:
            doc["errorMessage"] = [message] if message else []
        doc["result"] = mcode == SUCCESS
        return json_response(doc)

    def server_error(self, status: int) -> web.StreamResponse:
        return json_response(
            {"mcode": "-1", "errorMessage": ["服务异常,请稍后再试"], "result": False}, status=status
        )

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        return self._envelope("BW_RATE_LIMITED", message="too many requests")

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        return request.headers.get("x-api-tenantId", "")

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        tenant = request.headers.get("x-api-tenantId")
        token = request.headers.get("x-api-token")
        if not tenant or not token:
            return self._envelope(
                "BW_INVALID_TOKEN", message="x-api-tenantId and x-api-token are required"
            )
        if tenant != self.tenant_id or not secrets.compare_digest(
            token.encode(), self._token.encode()
        ):
            return self._envelope("BW_INVALID_TOKEN", message="unknown tenant or token")
        return None

    def _dispatch(self, name: str) -> Callable[[web.Request], Any]:
        method = getattr(self, "_h_" + name.split(".", 1)[1])

        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                data = method(request)
            except _Reject as rej:
                if rej.rejected:
                    self.mark_rejected(request, rej.rejected)
                return self._envelope(rej.mcode, data=rej.data, message=rej.message)
            return self._envelope(SUCCESS, data=data)

        return handler

    def _body(self, request: web.Request) -> dict[str, Any]:
        body = self.json_of(request)
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object")
        return body

    def _verify(self, request: web.Request, message: str, signature: Any) -> None:
        ok = isinstance(signature, str) and rsa_sha1_verify(
            self.public_key, message.encode("utf-8"), signature
        )
        if not ok:
            raise _Reject(
                "BW_INVALID_SIGNATURE", "signature verification failed", rejected="signature"
            )

    def _owned(self, user_id: str, login: str, server_id: str | None = None) -> SandboxAccount:
        acct = self.accounts.get(login)
        if (
            acct is None
            or acct.user_id != user_id
            or (server_id is not None and acct.server_id != server_id)
        ):
            raise _Reject("BW_NOT_FOUND", f"account {login} not found for this user")
        return acct

    def _user(self, user_id: str) -> SandboxUser:
        user = self.users.get(user_id)
        if user is None:
            raise _Reject("BW_NOT_FOUND", "user not found")
        return user

    def _vendor_server(self, vendor: str, server_id: str) -> None:
        if vendor not in ("MT4", "MT5"):
            raise _bad("vendor must be MT4 or MT5")
        if self.servers.get(server_id) != vendor:
            raise _bad(f"no {vendor} server {server_id}")

    def _float(self, login: str) -> Decimal:
        return sum((r.fields["profit"] for r in self.positions if r.login == login), Decimal(0))

    # --------------------------------------------------------- accounts

    def _h_info_by_user_ids(self, request: web.Request) -> Any:
        ids = [u.strip() for u in request.query.get("userIds", "").split(",") if u.strip()]
        if not ids:
            raise _bad("userIds is required")
        out = []
        for acct in self.accounts.values():
            if acct.user_id not in ids:
                continue
            reg = datetime.fromtimestamp(acct.registered, tz=UTC).astimezone(self.tz)
            out.append(
                {
                    "accountType": "HEDGED",
                    "currency": acct.currency,
                    "enable": acct.enable,
                    "frenchRisk": False,
                    "group": acct.group,
                    "leadSource": "",
                    "leverage": acct.leverage,
                    "login": acct.login,
                    "maxLeverage": 0,
                    "readOnly": acct.read_only,
                    "regdate": reg.strftime("%Y-%m-%d %H:%M:%S"),
                    "sendReports": 0,
                    "swapFree": False,
                    "totalMarginCalculationType": "MAX",
                    "oweId": acct.user_id,
                }
            )
        return out

    def _h_info(self, request: web.Request) -> Any:
        vendor = request.headers.get("x-api-vendor", "")
        server = request.headers.get("x-api-serverid", "")
        if not vendor or not server:
            raise _bad("x-api-vendor and x-api-serverid are required")
        if vendor not in ("MT4", "MT5"):
            raise _bad("x-api-vendor must be MT4 or MT5")
        acct = self.accounts.get(request.match_info["account"])
        if acct is None or acct.vendor != vendor or acct.server_id != server:
            raise _Reject("BW_NOT_FOUND", "account not found")
        floating = self._float(acct.login)
        return {
            "accountId": acct.login,
            "accountName": acct.name,
            "balance": acct.balance,
            "credit": acct.credit,
            "currency": acct.currency,
            "floatProfit": floating,
            "group": acct.group,
            "leverage": acct.leverage,
            "marginFree": acct.balance + acct.credit + floating,
        }

    def _opened(self, acct: SandboxAccount) -> dict[str, Any]:
        return {
            "address": "",
            "city": "",
            "country": "",
            "currency": acct.currency,
            "email": acct.email,
            "enable": acct.enable,
            "enableChangePass": 1,
            "group": acct.group,
            "leverage": acct.leverage,
            "login": int(acct.login),
            "name": acct.name,
            "phone": acct.phone,
            "state": "",
        }

    @staticmethod
    def _phone(value: Any) -> str:
        if isinstance(value, dict):
            cc, num = value.get("countryCode"), value.get("phone")
            if not cc or not num:
                raise _bad("phone needs countryCode and phone")
            return f"{cc} {num}"
        raise _bad("phone must be an object {countryCode, phone}")

    @staticmethod
    def _leverage(value: Any) -> int:
        try:
            lev = int(str(value))
        except ValueError:
            raise _bad("leverage must be an integer") from None
        if lev < 1:
            raise _bad("leverage must be positive")
        return lev

    def _h_open(self, request: web.Request) -> Any:
        user = self._user(request.match_info["userId"])
        body = self._body(request)
        vendor, server = _text(body, "vendor"), _text(body, "serverId")
        self._vendor_server(vendor, server)
        group, name, email = _text(body, "group"), _text(body, "accountName"), _text(body, "email")
        leverage = self._leverage(body.get("leverage"))
        phone = self._phone(body.get("phone"))
        acct = self.add_account(
            user.user_id, vendor=vendor, server_id=server, name=name, group=group, leverage=leverage
        )
        acct.email, acct.phone = email, phone
        self.mark_effect(request)
        return self._opened(acct)

    def _h_open_demo_sms(self, request: web.Request) -> Any:
        user = self._user(request.match_info["pubUserId"])
        body = self._body(request)
        kind = self.demo_types.get(_text(body, "demoAccountType"))
        if kind is None:
            raise _bad("unknown demoAccountType")
        vendor = _text(body, "vendor")
        if vendor != kind["vendor"]:
            raise _bad("vendor does not match the demo account type")
        name, phone = _text(body, "accountName"), _text(body, "phone")
        acct = self.add_account(
            user.user_id,
            vendor=vendor,
            server_id=kind["serverId"],
            name=name,
            currency=kind["currency"],
            group=kind["group"],
            leverage=kind["leverage"],
            balance=kind["balance"],
            demo=True,
        )
        acct.phone = phone
        self.mark_effect(request)
        return None  # the example answers {mcode, result} only; the login goes by SMS

    def _sc(self, request: web.Request) -> tuple[SandboxUser, dict[str, Any]]:
        user = self._user(request.match_info["userId"])
        body = self._body(request)
        vendor, server = _text(body, "vendor"), _text(body, "serverId")
        self._vendor_server(vendor, server)
        info = body.get("accountInfo")
        if not isinstance(info, dict):
            raise _bad("accountInfo is required")
        for part in ("baseInfo", "financialInfo", "certificatesInfo"):
            if not isinstance(body.get(part), dict):
                raise _bad(f"{part} is required")
        for key in ("group", "leverage", "enable", "readOnly", "email", "phone"):
            if info.get(key) in (None, ""):
                raise _bad(f"accountInfo.{key} is required")
        return user, body

    def _h_open_sc(self, request: web.Request) -> Any:
        user, body = self._sc(request)
        info = body["accountInfo"]
        user.base.update(body["baseInfo"])
        user.finance.update(body["financialInfo"])
        user.certificate.update(body["certificatesInfo"])
        login = str(info["login"]) if info.get("login") not in (None, "") else None
        if login is not None and login in self.accounts:
            raise _Reject("BW_DUPLICATE", f"login {login} exists")
        phone = info["phone"]
        acct = self.add_account(
            user.user_id,
            login=login,
            vendor=body["vendor"],
            server_id=body["serverId"],
            name=str(body["baseInfo"].get("accountName") or info.get("comment") or "account"),
            group=str(info["group"]),
            leverage=self._leverage(info["leverage"]),
        )
        acct.enable = int(str(info["enable"]))
        acct.read_only = int(str(info["readOnly"]))
        acct.email = str(info["email"])
        acct.phone = self._phone(phone) if isinstance(phone, dict) else str(phone)
        self.mark_effect(request)
        return self._opened(acct)

    def _h_open_task(self, request: web.Request) -> Any:
        user, body = self._sc(request)
        task_id = str(uuid.uuid4())
        self.tasks[task_id] = {"userId": user.user_id, "state": "Submited", "request": body}
        self.mark_effect(request)
        return {"taskId": task_id, "state": "Submited"}

    def _update(self, request: web.Request, section: str) -> Any:
        user = self._user(request.match_info["pubUserId"])
        body = self._body(request)
        if not body:
            raise _bad("nothing to update")
        getattr(user, section).update(body)
        self.mark_effect(request)
        return None

    def _h_update_base(self, request: web.Request) -> Any:
        return self._update(request, "base")

    def _h_update_finance(self, request: web.Request) -> Any:
        return self._update(request, "finance")

    def _h_update_certificate(self, request: web.Request) -> Any:
        return self._update(request, "certificate")

    # ----------------------------------------------------------- money

    def _rate(self, currency: str, pay_currency: str) -> Decimal:
        if currency == pay_currency:
            return Decimal(1)
        rate = self.rates.get(f"{currency}/{pay_currency}".upper())
        if rate is None:
            raise _bad(f"payCurrency {pay_currency} is not configured for {currency}")
        return rate

    def _h_deposit(self, request: web.Request) -> Any:
        mi = request.match_info
        user_id, server, login = mi["userId"], mi["serverId"], mi["login"]
        body = self._body(request)
        amount, amount_text = _money2(body.get("depositAmount"), "depositAmount")
        pay_currency = _text(body, "payCurrency")
        # 签名: userId+login+payCurrency+depositAmount (two decimals)
        self._verify(request, user_id + login + pay_currency + amount_text, body.get("signature"))
        acct = self._owned(user_id, login, server)
        pay_amount = (amount * self._rate(acct.currency, pay_currency)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        job = _Deposit(
            job_id=str(uuid.uuid4()),
            login=login,
            amount=amount,
            currency=acct.currency,
            pay_amount=pay_amount,
            pay_currency=pay_currency,
            comment=_text(body, "comment", required=False),
            created_ms=self.clock.now_ms(),
        )
        self.deposits[job.job_id] = job
        self.mark_effect(request)
        return {"payAmount": pay_amount, "jobId": job.job_id, "accountId": login}

    def _h_deposit_callback(self, request: web.Request) -> Any:
        body = self._body(request)
        job_id, order_id = _text(body, "jobId"), _text(body, "orderId")
        status, pay_currency = _text(body, "status"), _text(body, "payCurrency")
        _text(body, "platform")
        pay_amount, pay_text = _money2(body.get("payAmount"), "payAmount")
        # 签名: jobId+orderId+status+payCurrency+payAmount (two decimals)
        self._verify(
            request, job_id + order_id + status + pay_currency + pay_text, body.get("signature")
        )
        job = self.deposits.get(job_id)
        if job is None:
            raise _Reject("BW_NOT_FOUND", "deposit job not found")
        if status != "1":
            # 支付成功才会更新,否则返回失败
            raise _Reject("m0000001", "payment status is not 1 (paid): nothing updated", data="0")
        if pay_currency != job.pay_currency or pay_amount != job.pay_amount:
            raise _bad("payAmount / payCurrency do not match the deposit application")
        if job.pay_status == "Paid":
            if job.order_id == order_id:
                return "1"  # the same callback again: already applied, no second credit
            raise _Reject("BW_DUPLICATE", "deposit job already paid by another order")
        job.pay_status, job.state, job.order_id = "Paid", "Approved", order_id
        self.accounts[job.login].balance += job.amount
        self.mark_effect(request)
        return "1"

    def _h_withdraw(self, request: web.Request) -> Any:
        mi = request.match_info
        acct = self._owned(mi["userId"], mi["login"], mi["serverId"])
        body = self._body(request)
        currency = _text(body, "currency")
        amount, _ = _money2(body.get("withdrawAmount"), "withdrawAmount")
        bank = {k: _text(body, k) for k in ("bankAccountName", "bankAccountNumber", "bankName")}
        for k in ("bankBranchName", "SWIFT"):
            bank[k] = _text(body, k, required=False)
        if currency != acct.currency:
            raise _bad("currency is not the account currency")
        if acct.balance < amount:
            raise _Reject("BW_INSUFFICIENT_BALANCE", "insufficient balance")
        acct.balance -= amount
        self.withdrawals.append(
            _Withdrawal(
                id=str(uuid.uuid4()),
                login=acct.login,
                amount=amount,
                currency=currency,
                pay_currency=_text(body, "payCurrency", required=False) or None,
                bank=bank,
                created_ms=self.clock.now_ms(),
            )
        )
        self.mark_effect(request)
        return None

    def _h_transfer(self, request: web.Request) -> Any:
        mi = request.match_info
        user_id, account_id = mi["pubUserId"], mi["accountId"]
        body = self._body(request)
        receipt = _text(body, "receiptAccount")
        receipt_name = _text(body, "receiptAccountName")
        receipt_server = _text(body, "receiptServerId")
        receipt_user = _text(body, "receiptUserId")
        receipt_vendor = _text(body, "receiptVendor")
        currency = _text(body, "currency")
        amount, amount_text = _money2(body.get("transferAmount"), "transferAmount")
        # 签名: accountId + currency + pubUserId + receiptAccount + receiptAccountName
        #       + receiptServerId + receiptVendor + transferAmount
        self._verify(
            request,
            account_id
            + currency
            + user_id
            + receipt
            + receipt_name
            + receipt_server
            + receipt_vendor
            + amount_text,
            body.get("signature"),
        )
        src = self._owned(user_id, account_id)
        dst = self.accounts.get(receipt)
        if dst is None or dst.user_id != receipt_user or dst.server_id != receipt_server:
            raise _Reject("BW_NOT_FOUND", "receipt account not found")
        if receipt_user != user_id:
            raise _bad("transfers are between accounts of the same user")
        if dst.vendor != receipt_vendor or src.vendor != dst.vendor:
            raise _bad("transfers are between accounts of the same platform")
        if dst.name != receipt_name:
            raise _bad("receiptAccountName does not match the receipt account")
        if currency != src.currency or dst.currency != src.currency:
            raise _bad("currency must be the currency of both accounts")
        if src.login == dst.login:
            raise _bad("cannot transfer to the same account")
        if src.balance < amount:
            raise _Reject("BW_INSUFFICIENT_BALANCE", "insufficient balance")
        src.balance -= amount
        dst.balance += amount
        self.transfers.append(
            _Transfer(
                id=str(uuid.uuid4()),
                login=src.login,
                receipt=dst.login,
                amount=amount,
                currency=currency,
                comment=_text(body, "comment", required=False),
                created_ms=self.clock.now_ms(),
            )
        )
        self.mark_effect(request)
        return None

    # --------------------------------------------------------- reports

    def _window(self, request: web.Request) -> tuple[SandboxAccount, float, float, int, int]:
        mi, q = request.match_info, request.query
        acct = self._owned(mi["userId"], mi["login"])
        start = _date(q.get("from"), "from")
        end = _date(q.get("to"), "to")
        page = _positive_int(q.get("page"), "page")
        size = _positive_int(q.get("size"), "size")
        lo = datetime(start.year, start.month, start.day, tzinfo=self.tz).timestamp()
        hi = (
            datetime(end.year, end.month, end.day, tzinfo=self.tz) + timedelta(days=1)
        ).timestamp()
        return acct, lo, hi, page, size

    @staticmethod
    def _paged(rows: list[Any], page: int, size: int) -> dict[str, Any]:
        total = len(rows)
        pages = (total + size - 1) // size
        offset = (page - 1) * size
        return {
            "list": rows[offset : offset + size],
            "offset": offset,
            "pager": page,
            "pages": pages,
            "size": size,
            "total": total,
        }

    def _report(self, request: web.Request, reports: list[_Report]) -> Any:
        acct, lo, hi, page, size = self._window(request)
        rows = [
            dict(r.fields)
            for r in sorted(reports, key=lambda r: r.at)
            if r.login == acct.login and lo <= r.at < hi
        ]
        return self._paged(rows, page, size)

    def _h_history(self, request: web.Request) -> Any:
        return self._report(request, self.history)

    def _h_pending(self, request: web.Request) -> Any:
        return self._report(request, self.pending)

    def _h_position(self, request: web.Request) -> Any:
        return self._report(request, self.positions)

    def _h_cashflow(self, request: web.Request) -> Any:
        acct, lo, hi, page, size = self._window(request)
        kind = request.query.get("type", "")
        if kind not in ("Deposit", "Withdraw", "Transfer"):
            raise _bad("type must be Deposit, Withdraw or Transfer")
        rows: list[tuple[int, dict[str, Any]]] = []
        if kind == "Deposit":
            for d in self.deposits.values():
                if d.login == acct.login:
                    rows.append(
                        (
                            d.created_ms,
                            {
                                "depositTransaction": {
                                    "accountId": d.login,
                                    "comment": d.comment,
                                    "createTime": d.created_ms,
                                    "depositAmount": d.amount,
                                    "depositCurrency": d.currency,
                                    "id": d.job_id,
                                    "payAmount": d.pay_amount,
                                    "payCurrency": d.pay_currency,
                                    "payStatus": d.pay_status,
                                    "state": d.state,
                                    "orderId": d.order_id,
                                },
                                "transactionType": "Deposit",
                            },
                        )
                    )
        elif kind == "Withdraw":
            for w in self.withdrawals:
                if w.login == acct.login:
                    rows.append(
                        (
                            w.created_ms,
                            {
                                "withdrawTransaction": {
                                    "accountId": w.login,
                                    "createTime": w.created_ms,
                                    "currency": w.currency,
                                    "id": w.id,
                                    "payCurrency": w.pay_currency,
                                    "state": w.state,
                                    "withdrawAmount": w.amount,
                                    **w.bank,
                                },
                                "transactionType": "Withdraw",
                            },
                        )
                    )
        else:
            for t in self.transfers:
                if acct.login in (t.login, t.receipt):
                    rows.append(
                        (
                            t.created_ms,
                            {
                                "transferTransaction": {
                                    "accountId": t.login,
                                    "comment": t.comment,
                                    "createTime": t.created_ms,
                                    "currency": t.currency,
                                    "id": t.id,
                                    "receiptAccount": t.receipt,
                                    "state": t.state,
                                    "transferAmount": t.amount,
                                },
                                "transactionType": "Transfer",
                            },
                        )
                    )
        rows = [r for r in sorted(rows, key=lambda r: r[0]) if lo * 1000 <= r[0] < hi * 1000]
        return self._paged([r[1] for r in rows], page, size)


def create_sandbox(**options: Any) -> LworkSandbox:
    """Entry point (``brokerport.sandboxes``: ``lwork``)."""
    return LworkSandbox(**options)


# the public key is handed to nobody but kept exportable for tests
def public_key_pem(sandbox: LworkSandbox) -> str:
    from cryptography.hazmat.primitives import serialization

    return sandbox.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
