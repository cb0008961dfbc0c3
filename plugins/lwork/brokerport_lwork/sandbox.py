"""The lwork sandbox: an in-process twapi on the sandbox toolkit.

The toolkit routes every catalog endpoint, checks parameters with the client's
rules (amounts with two decimals, dates, vendors, paging) and answers in the
``{result, mcode, data, errorMessage}`` envelope from ``brokerport_lwork.errors``.
Here: tenant-header checks, SHA1withRSA verification of every signed body (3.2,
3.3, 3.11; the documented concatenations, written again from the documents)
against the public key the tenant registered, and the state: users with base /
finance / certificate sections, accounts on MT4/MT5 servers whose balances move
with deposits (after the payment callback), withdrawals and transfers, cash
flow, closed trades, pending orders and positions. ``payAmount`` is
``depositAmount x rate`` rounded half-up to cents.

Where the documents are silent (see the README): HTTP 200 with the envelope for
every vendor error, the ``BW_*`` codes, a withdrawal debited when applied for,
a transfer completed at once. A key pair is generated per sandbox;
:meth:`credentials` hands the client the private key (tests may register their
own public key with :meth:`LworkSandbox.register_public_key`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, TypeAlias

import attrs
from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.sandbox import Reject, Sandbox, handles, rsa_sha1_verify, verify_digest
from brokerport.signing import load_rsa_public_key

from .adapter import LworkAdapter
from .convert import vendor_timezone
from .errors import ENVELOPE, ERRORS

__all__ = ["LworkSandbox", "SandboxAccount", "SandboxUser", "create_sandbox"]

R: TypeAlias = web.Request
P: TypeAlias = dict[str, Any]
CENT = Decimal("0.01")
#: Seeded ids (the document's examples).
SEED_USER = "4b07e7af-798a-4f68-9b2c-561a8300eac2"
SEED_DEMO_TYPE = "2e852672-dd6e-4ede-a6dc-7108c234dcd7"
DEFAULT_RATES = {"USD/CNY": "6.8234", "USD/NZD": "1.6500", "EUR/CNY": "7.4000"}
DEFAULT_SERVERS = {"428": "MT4", "429": "MT4", "530": "MT5"}
#: The documented signature concatenations (3.2, 3.3, 3.11), field by field.
SIGNED = {
    "account.deposit": ("userId", "login", "payCurrency", "depositAmount"),
    "account.deposit_callback": ("jobId", "orderId", "status", "payCurrency", "payAmount"),
    "account.transfer": ("accountId", "currency", "pubUserId", "receiptAccount",
                         "receiptAccountName", "receiptServerId", "receiptVendor",
                         "transferAmount"),
}  # fmt: skip


#: Defaults of the seeded reports, by wire name (the documents' examples).
TRADE = dict(symbol="EURUSD", type="Sell", volume="1", openPrice="1.07703", closePrice="1.07709")
TRADE |= dict(profit="-6", commission="-13", swaps="0")
PENDING = dict(symbol="EURUSD", type="BuyLimit", volume="1", orderPrice="1.05984")
POSITION = dict(symbol="XAUUSD", type="Buy", volume="0.1", openPrice="1255.28", profit="-0.1")
POSITION |= dict(commission="0", swap="0")


def _bad(message: str) -> Reject:
    return Reject("BW_INVALID_PARAM", message=message)


def _missing(what: str) -> Reject:
    return Reject("BW_NOT_FOUND", message=f"{what} not found")


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


class _Deposit(dict[str, Any]):
    """A deposit job: its cash-flow ``depositTransaction`` fields."""

    amount = property(lambda self: self["depositAmount"])


@attrs.define
class _Report:
    """A closed trade, pending order or position (wire fields + the time it is filed by)."""

    login: str
    at: float
    fields: dict[str, Any]


class LworkSandbox(Sandbox):
    """twapi in a box. Options: ``tenant_id``, ``token``, ``rates`` ({"USD/CNY": "6.8234"}),
    ``servers`` ({"428": "MT4"}), ``seed_data`` (True: the document's user and accounts),
    ``timezone`` ("+08:00"), ``key_bits`` (2048), ``key_format`` ("pkcs8" or "pkcs1"),
    ``passphrase`` (encrypt the handed-out PEM), and the toolkit's ``clock``, ``seed``,
    ``enforce_rate_limits``."""

    vendor = "lwork"
    envelope, errors = ENVELOPE, ERRORS
    codes: ClassVar[Mapping[str, str]] = dict(
        invalid="BW_INVALID_PARAM", not_json="BW_INVALID_PARAM", method="BW_INVALID_PARAM",
        not_found="BW_NOT_FOUND", rate_limited="BW_RATE_LIMITED", server_error="-1",
    )  # fmt: skip

    def __init__(self, *, tenant_id: str = "T001117", token: str | None = None,
                 rates: Mapping[str, str | Decimal] | None = None,
                 servers: Mapping[str, str] | None = None, seed_data: bool = True,
                 timezone: str = "+08:00", key_bits: int = 2048, key_format: str = "pkcs8",
                 passphrase: str | None = None, **toolkit: Any) -> None:  # fmt: skip
        super().__init__(LworkAdapter.catalog(), **toolkit)
        from cryptography.hazmat.primitives import serialization as ser
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.tenant_id, self._token = tenant_id, token or self.token_hex(18)
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
        fmt = (
            ser.PrivateFormat.TraditionalOpenSSL
            if key_format == "pkcs1"
            else ser.PrivateFormat.PKCS8
        )
        enc = ser.BestAvailableEncryption(passphrase.encode()) if passphrase else ser.NoEncryption()
        self._private_pem = key.private_bytes(ser.Encoding.PEM, fmt, enc).decode()
        self._passphrase, self.public_key = passphrase, key.public_key()
        self.rates = {k.upper(): Decimal(str(v)) for k, v in (rates or DEFAULT_RATES).items()}
        self.servers, self.tz = dict(servers or DEFAULT_SERVERS), vendor_timezone(timezone)
        self._seed_data = seed_data
        self._init_state()

    # ------------------------------------------------------------ state

    def _init_state(self) -> None:
        self.users: dict[str, SandboxUser] = {}
        self.accounts: dict[str, SandboxAccount] = {}
        self.deposits: dict[str, _Deposit] = {}  #: jobId -> depositTransaction
        self.withdrawals: list[dict[str, Any]] = []  #: withdrawTransaction records
        self.transfers: list[dict[str, Any]] = []  #: transferTransaction records
        self.tasks: dict[str, dict[str, Any]] = {}
        demo = dict(vendor="MT4", serverId="428", group="demoforex", leverage=100, currency="USD")
        self.demo_types = {SEED_DEMO_TYPE: demo | {"balance": Decimal("10000.00")}}
        self.history: list[_Report] = []
        self.pending: list[_Report] = []
        self.positions: list[_Report] = []
        self._next_login, self._next_id = 2090005510, 12212500
        if self._seed_data:
            self._seed()

    def reset(self) -> None:
        super().reset()
        self._init_state()

    def credentials(self) -> dict[str, str]:
        creds = {
            "tenant_id": self.tenant_id,
            "token": self._token,
            "private_key": self._private_pem,
        }
        return creds | ({"private_key_passphrase": self._passphrase} if self._passphrase else {})

    def identifiers(self) -> dict[str, str]:
        servers = ", ".join(f"{sid} ({kind})" for sid, kind in self.servers.items())
        ids = {"user_id": SEED_USER, "demo_account_type": SEED_DEMO_TYPE} if self._seed_data else {}
        ids |= {"logins": ", ".join(a.login for a in self.accounts.values()), "server_ids": servers}
        where = f"registered with the sandbox for tenant {self.tenant_id} (pairs with private_key"
        where += "; replace it with LworkSandbox.register_public_key)"
        return ids | {"public_key": public_key_pem(self), "public_key_registration": where}

    def register_public_key(self, pem: str | bytes) -> None:
        """The tenant registers (replaces) its RSA public key with the vendor."""
        self.public_key = load_rsa_public_key(pem)

    def __repr__(self) -> str:
        return f"LworkSandbox(tenant={self.tenant_id!r}, base_url={self.base_url!r})"

    def add_user(self, user_id: str | None = None, **base: Any) -> SandboxUser:
        uid = user_id or str(uuid.uuid4())
        user = self.users[uid] = SandboxUser(uid, base=dict(base))
        return user

    def add_account(self, user_id: str, *, login: str | None = None, balance: Decimal | str = "0",
                    credit: Decimal | str = "0.00", **fields: Any) -> SandboxAccount:  # fmt: skip
        """An account (``vendor`` MT4, ``server_id`` 428, ``name``, ``currency``, ``group``,
        ``leverage``, ``demo``) of ``user_id`` (created when unknown)."""
        if user_id not in self.users:
            self.add_user(user_id)
        fields = dict(vendor="MT4", server_id="428", name="Demo") | fields
        acct = SandboxAccount(
            login or self._login(), user_id, **fields, registered=self.clock.now()
        )
        acct.balance, acct.credit = Decimal(str(balance)), Decimal(str(credit))
        self.accounts[acct.login] = acct
        return acct

    def _login(self) -> str:
        while str(self._next_login) in self.accounts:
            self._next_login += 1
        self._next_login += 1
        return str(self._next_login - 1)

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _iso(self, at: float) -> str:
        dt = datetime.fromtimestamp(at, tz=UTC).astimezone(self.tz)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"

    def _report(self, into: list[_Report], login: str, at: float, fields: dict[str, Any]) -> Any:
        acct = self.accounts[login]
        fields = {k: Decimal(v) if k in _NUMBERS else v for k, v in fields.items()}
        fields |= dict(account=login, id=self._id(), serverId=acct.server_id, vendor=acct.vendor)
        into.append(_Report(login, at, dict(stopLoss=Decimal(0), takeProfit=Decimal(0)) | fields))
        return into[-1].fields

    def add_trade(self, login: str, *, at: float | None = None, **fields: str) -> Any:
        """A closed trade (3.8) closed at ``at`` (epoch s; default now); ``fields`` by wire name."""
        at = self.clock.now() if at is None else at
        times = dict(closeTime=self._iso(at), openTime=self._iso(at - 8))
        return self._report(self.history, login, at, TRADE | fields | times)

    def add_pending(self, login: str, *, at: float | None = None, **fields: str) -> Any:
        """A pending order (3.9) placed at ``at``."""
        at = self.clock.now() if at is None else at
        times = dict(orderTime=self._iso(at), executionTime=self._iso(0))
        return self._report(self.pending, login, at, PENDING | fields | times)

    def add_position(self, login: str, *, at: float | None = None, **fields: str) -> Any:
        """An open position (3.10) opened at ``at``; its profit counts in floatProfit."""
        at = self.clock.now() if at is None else at
        extra = dict(openTime=self._iso(at), tenantId=self.tenant_id)
        return self._report(self.positions, login, at, POSITION | fields | extra)

    def _seed(self) -> None:
        self.add_user(SEED_USER, accountName="demo")
        a = self.add_account(SEED_USER, login="2090001252", balance="51092.55", credit="277.78",
                             group="demoTB", leverage=20)  # fmt: skip
        self.add_account(SEED_USER, login="2090001253", name="Second", balance="1000.00")
        self.add_account(SEED_USER, login="3004272", vendor="MT5", server_id="530", name="Euro",
                         currency="EUR", group="HFT", leverage=300)  # fmt: skip
        now = self.clock.now()
        self.add_trade(a.login, at=now - 3 * 86400)
        trade = dict(openPrice="1255.28", closePrice="1256.10", profit="8.2", commission="-0.1")
        self.add_trade(a.login, symbol="XAUUSD", type="Buy", volume="0.1", at=now - 86400, **trade)
        self.add_pending(a.login, at=now - 2 * 86400)
        self.add_position(a.login, at=now - 86400)
        position = dict(volume="0.98", openPrice="1.05984", profit="-7.84", commission="-9.8")
        self.add_position(a.login, symbol="EURUSD", at=now - 3600, **position)

    # ------------------------------------------------------------ wire

    def rate_limit_key(self, request: R, endpoint: Endpoint) -> str:
        return request.headers.get("x-api-tenantId", "")

    def authenticate(self, request: R, endpoint: Endpoint, body: bytes) -> None:
        tenant, token = request.headers.get("x-api-tenantId"), request.headers.get("x-api-token")
        message = "x-api-tenantId and x-api-token are required"
        Reject.when(not tenant or not token, "BW_INVALID_TOKEN", message=message)
        known = tenant == self.tenant_id and verify_digest(self._token, token)
        Reject.when(not known, "BW_INVALID_TOKEN", message="unknown tenant or token")

    def _verify(self, request: R, p: Mapping[str, Any]) -> None:
        """SHA1withRSA over the documented concatenation (amounts exactly as sent)."""
        text = "".join(str(p.get(f) or "") for f in SIGNED[self.endpoint_of(request)])
        signature = p.get("signature")
        ok = isinstance(signature, str) and rsa_sha1_verify(
            self.public_key, text.encode(), signature
        )
        message = "signature verification failed"
        Reject.when(not ok, "BW_INVALID_SIGNATURE", message=message, rejected="signature")

    def _owned(self, user_id: str, login: str, server_id: str | None = None) -> SandboxAccount:
        acct = self.accounts.get(login)
        ok = acct is not None and acct.user_id == user_id and server_id in (None, acct.server_id)
        if acct is None or not ok:
            raise _missing(f"account {login} for this user")
        return acct

    def _user(self, user_id: str) -> SandboxUser:
        if user_id not in self.users:
            raise _missing("user")
        return self.users[user_id]

    def _float(self, login: str) -> Decimal:
        return sum((r.fields["profit"] for r in self.positions if r.login == login), Decimal(0))

    # --------------------------------------------------------- accounts

    @handles("account.info_by_user_ids")
    def _info_by_user_ids(self, request: R, p: P) -> Any:
        ids = {u.strip() for u in str(p["userIds"]).split(",") if u.strip()}
        out = []
        for a in (a for a in self.accounts.values() if a.user_id in ids):
            reg = datetime.fromtimestamp(a.registered, tz=UTC).astimezone(self.tz)
            row = dict(accountType="HEDGED", currency=a.currency, enable=a.enable, frenchRisk=False)
            row |= dict(
                group=a.group, leadSource="", leverage=a.leverage, login=a.login, maxLeverage=0
            )
            row |= dict(
                readOnly=a.read_only, regdate=reg.strftime("%Y-%m-%d %H:%M:%S"), sendReports=0
            )
            out.append(
                row | dict(swapFree=False, totalMarginCalculationType="MAX", oweId=a.user_id)
            )
        return out

    @handles("account.info")
    def _info(self, request: R, p: P) -> Any:
        acct = self.accounts.get(p["account"])
        if (
            acct is None
            or acct.vendor != p["x-api-vendor"]
            or acct.server_id != p["x-api-serverid"]
        ):
            raise _missing("account")
        floating = self._float(acct.login)
        out = dict(accountId=acct.login, accountName=acct.name, balance=acct.balance)
        out |= dict(credit=acct.credit, currency=acct.currency, floatProfit=floating)
        margin = acct.balance + acct.credit + floating
        return out | dict(group=acct.group, leverage=acct.leverage, marginFree=margin)

    @staticmethod
    def _opened(a: SandboxAccount) -> dict[str, Any]:
        out: P = dict(address="", city="", country="", currency=a.currency, email=a.email)
        out |= dict(enable=a.enable, enableChangePass=1, group=a.group, leverage=a.leverage)
        return out | dict(login=int(a.login), name=a.name, phone=a.phone, state="")

    @staticmethod
    def _phone(value: Any) -> str:
        if not isinstance(value, dict):
            raise _bad("phone must be an object {countryCode, phone}")
        Reject.when(not value.get("countryCode") or not value.get("phone"), "BW_INVALID_PARAM",
                    message="phone needs countryCode and phone")  # fmt: skip
        return f"{value['countryCode']} {value['phone']}"

    def _server(self, vendor: str, server_id: str) -> None:
        if self.servers.get(server_id) != vendor:
            raise _bad(f"no {vendor} server {server_id}")

    @handles("account.open")
    def _open(self, request: R, p: P) -> Any:
        user, phone = self._user(p["userId"]), self._phone(p["phone"])
        self._server(p["vendor"], p["serverId"])
        kw = dict(vendor=p["vendor"], server_id=p["serverId"], name=str(p["accountName"]))
        acct = self.add_account(
            user.user_id, group=str(p["group"]), leverage=int(p["leverage"]), **kw
        )
        acct.email, acct.phone = str(p["email"]), phone
        return self.effect(request, self._opened(acct))

    @handles("account.open_demo_sms")
    def _open_demo_sms(self, request: R, p: P) -> Any:
        user, kind = self._user(p["pubUserId"]), self.demo_types.get(p["demoAccountType"])
        if kind is None:
            raise _bad("unknown demoAccountType")
        if p["vendor"] != kind["vendor"]:
            raise _bad("vendor does not match the demo account type")
        kw: P = {k: kind[k] for k in ("currency", "group", "leverage", "balance")}
        acct = self.add_account(user.user_id, vendor=p["vendor"], server_id=kind["serverId"],
                                name=str(p["accountName"]), demo=True, **kw)  # fmt: skip
        acct.phone = str(p["phone"])
        return self.effect(request, None)  # the example answers {mcode, result}; login by SMS

    def _sc(self, p: Mapping[str, Any]) -> tuple[SandboxUser, dict[str, Any]]:
        user, info = self._user(p["userId"]), p["accountInfo"]
        self._server(p["vendor"], p["serverId"])
        for part in ("accountInfo", "baseInfo", "financialInfo", "certificatesInfo"):
            if not isinstance(p[part], dict):
                raise _bad(f"{part} is required")
        for key in ("group", "leverage", "enable", "readOnly", "email", "phone"):
            if info.get(key) in (None, ""):
                raise _bad(f"accountInfo.{key} is required")
        return user, info

    @handles("account.open_sc")
    def _open_sc(self, request: R, p: P) -> Any:
        user, info = self._sc(p)
        for section, part in (("base", "baseInfo"), ("finance", "financialInfo")):
            getattr(user, section).update(p[part])
        user.certificate.update(p["certificatesInfo"])
        login = str(info["login"]) if info.get("login") not in (None, "") else None
        Reject.when(login in self.accounts, "BW_DUPLICATE", message=f"login {login} exists")
        name = str(p["baseInfo"].get("accountName") or info.get("comment") or "account")
        if int(str(info["leverage"])) < 1:
            raise _bad("leverage must be positive")
        kw: P = dict(name=name, group=str(info["group"]), leverage=int(str(info["leverage"])))
        acct = self.add_account(user.user_id, login=login, vendor=p["vendor"],
                                server_id=p["serverId"], **kw)  # fmt: skip
        acct.enable, acct.read_only = int(str(info["enable"])), int(str(info["readOnly"]))
        phone = info["phone"]
        acct.email, acct.phone = (
            str(info["email"]),
            self._phone(phone) if isinstance(phone, dict) else str(phone),
        )
        return self.effect(request, self._opened(acct))

    @handles("account.open_task")
    def _open_task(self, request: R, p: P) -> Any:
        user, _ = self._sc(p)
        task_id = str(uuid.UUID(self.token_hex(16)))
        body = {k: v for k, v in p.items() if k != "userId"}
        self.tasks[task_id] = {"userId": user.user_id, "state": "Submited", "request": body}
        return self.effect(request, {"taskId": task_id, "state": "Submited"})

    @handles("account.update_base", "account.update_finance", "account.update_certificate")
    def _update(self, request: R, p: P) -> Any:
        user = self._user(p.pop("pubUserId"))
        if not p:
            raise _bad("nothing to update")
        getattr(user, self.endpoint_of(request).rsplit("_", 1)[1]).update(p)
        return self.effect(request, None)

    # ----------------------------------------------------------- money

    def _rate(self, currency: str, pay_currency: str) -> Decimal:
        rate = (
            Decimal(1)
            if currency == pay_currency
            else self.rates.get(f"{currency}/{pay_currency}".upper())
        )
        if rate is None:
            raise _bad(f"payCurrency {pay_currency} is not configured for {currency}")
        return rate

    @handles("account.deposit")
    def _deposit(self, request: R, p: P) -> Any:
        self._verify(request, p)
        acct, amount = (
            self._owned(p["userId"], p["login"], p["serverId"]),
            Decimal(p["depositAmount"]),
        )
        pay = (amount * self._rate(acct.currency, p["payCurrency"])).quantize(CENT, ROUND_HALF_UP)
        job, now = str(uuid.UUID(self.token_hex(16))), self.clock.now_ms()
        row = dict(accountId=acct.login, comment=str(p.get("comment") or ""), createTime=now)
        row |= dict(depositAmount=amount, depositCurrency=acct.currency, id=job, payAmount=pay)
        row |= dict(
            payCurrency=p["payCurrency"], payStatus="Pending", state="Submited", orderId=None
        )
        self.deposits[job] = _Deposit(row)  # "Submited": sic, the document's spelling
        return self.effect(request, {"payAmount": pay, "jobId": job, "accountId": acct.login})

    @handles("account.deposit_callback")
    def _deposit_callback(self, request: R, p: P) -> Any:
        self._verify(request, p)
        job = self.deposits.get(p["jobId"])
        if job is None:
            raise _missing("deposit job")
        message = "payment status is not 1 (paid): nothing updated"  # 支付成功才会更新
        Reject.when(p["status"] != "1", "m0000001", message=message, data="0")
        if p["payCurrency"] != job["payCurrency"] or Decimal(p["payAmount"]) != job["payAmount"]:
            raise _bad("payAmount / payCurrency do not match the deposit application")
        if job["payStatus"] == "Paid":
            done = job["orderId"] == p["orderId"]  # the same callback again: no second credit
            Reject.when(
                not done, "BW_DUPLICATE", message="deposit job already paid by another order"
            )
            return "1"
        job.update(payStatus="Paid", state="Approved", orderId=p["orderId"])
        self.accounts[job["accountId"]].balance += job["depositAmount"]
        return self.effect(request, "1")

    @handles("account.withdraw")
    def _withdraw(self, request: R, p: P) -> Any:
        acct, amount = (
            self._owned(p["userId"], p["login"], p["serverId"]),
            Decimal(p["withdrawAmount"]),
        )
        if p["currency"] != acct.currency:
            raise _bad("currency is not the account currency")
        Reject.when(
            acct.balance < amount, "BW_INSUFFICIENT_BALANCE", message="insufficient balance"
        )
        acct.balance -= amount
        bank = ("bankAccountName", "bankAccountNumber", "bankName", "bankBranchName", "SWIFT")
        row: P = {k: str(p.get(k) or "") for k in bank} | dict(accountId=acct.login)
        row["state"] = "Submited"
        row |= dict(createTime=self.clock.now_ms(), currency=p["currency"], id=str(uuid.uuid4()))
        self.withdrawals.append(row | dict(payCurrency=p.get("payCurrency"), withdrawAmount=amount))
        return self.effect(request, None)

    @handles("account.transfer")
    def _transfer(self, request: R, p: P) -> Any:
        self._verify(request, p)
        src, dst = (
            self._owned(p["pubUserId"], p["accountId"]),
            self.accounts.get(p["receiptAccount"]),
        )
        if (
            dst is None
            or dst.user_id != p["receiptUserId"]
            or dst.server_id != p["receiptServerId"]
        ):
            raise _missing("receipt account")
        amount = Decimal(p["transferAmount"])
        for wrong, why in (
            (p["receiptUserId"] != p["pubUserId"], "transfers stay between one user's accounts"),
            (dst.vendor != p["receiptVendor"] or src.vendor != dst.vendor,
             "transfers are between accounts of the same platform"),
            (dst.name != p["receiptAccountName"], "receiptAccountName is not that account's"),
            (p["currency"] != src.currency or dst.currency != src.currency,
             "currency must be the currency of both accounts"),
            (src.login == dst.login, "cannot transfer to the same account"),
        ):  # fmt: skip
            Reject.when(wrong, "BW_INVALID_PARAM", message=why)
        Reject.when(src.balance < amount, "BW_INSUFFICIENT_BALANCE", message="insufficient balance")
        src.balance, dst.balance = src.balance - amount, dst.balance + amount
        row = dict(accountId=src.login, comment=str(p.get("comment") or ""), currency=p["currency"])
        row |= dict(createTime=self.clock.now_ms(), id=str(uuid.uuid4()), receiptAccount=dst.login)
        self.transfers.append(row | dict(state="Completed", transferAmount=amount))
        return self.effect(request, None)

    # --------------------------------------------------------- reports

    def _window(self, p: Mapping[str, Any]) -> tuple[SandboxAccount, float, float]:
        acct = self._owned(p["userId"], p["login"])
        lo, hi = (datetime.fromisoformat(p[k]).replace(tzinfo=self.tz) for k in ("from", "to"))
        return acct, lo.timestamp(), (hi + timedelta(days=1)).timestamp()

    @staticmethod
    def _paged(
        rows: list[Any], p: Mapping[str, Any], shape: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        """One page of ``rows`` (each shaped by ``shape``: only the page's rows are)."""
        page, size = int(p["page"]), int(p["size"])
        chunk = rows[(page - 1) * size : page * size]
        chunk = [shape(r) for r in chunk] if shape else chunk
        out = dict(list=chunk, offset=(page - 1) * size, pager=page)
        return out | dict(pages=(len(rows) + size - 1) // size, size=size, total=len(rows))

    @handles("account.history", "account.pending", "account.position")
    def _reports(self, request: R, p: P) -> Any:
        acct, lo, hi = self._window(p)
        kind = self.endpoint_of(request).split(".")[1]
        reports = {"history": self.history, "pending": self.pending, "position": self.positions}[
            kind
        ]
        in_window = (r for r in sorted(reports, key=lambda r: r.at) if r.login == acct.login)
        return self._paged([dict(r.fields) for r in in_window if lo <= r.at < hi], p)

    @handles("account.cashflow")
    def _cashflow(self, request: R, p: P) -> Any:
        acct, lo, hi = self._window(p)
        kind = p["type"]
        source = {
            "Deposit": self.deposits.values(),
            "Withdraw": self.withdrawals,
            "Transfer": self.transfers,
        }
        mine = [r for r in source[kind] if acct.login in (r["accountId"], r.get("receiptAccount"))]
        mine = [
            r
            for r in sorted(mine, key=lambda r: r["createTime"])
            if lo * 1000 <= r["createTime"] < hi * 1000
        ]
        key = f"{kind[0].lower()}{kind[1:]}Transaction"
        return self._paged(mine, p, lambda r: {key: dict(r), "transactionType": kind})


_NUMBERS = {
    "closePrice",
    "commission",
    "openPrice",
    "orderPrice",
    "profit",
    "swap",
    "swaps",
    "volume",
}

#: Entry point (``brokerport.sandboxes``: ``lwork``).
create_sandbox = LworkSandbox.factory


def public_key_pem(sandbox: LworkSandbox) -> str:
    """The public key the tenant registered (kept exportable for tests)."""
    from cryptography.hazmat.primitives import serialization as ser

    return sandbox.public_key.public_bytes(
        ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo
    ).decode()
