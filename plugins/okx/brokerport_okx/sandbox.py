"""An in-process OKX V5 broker-program server, faithful to the wire protocol.

Same paths, ``{code, msg, data}`` envelopes, HTTP statuses and error codes as
OKX; every signature verified (HMAC-SHA256 over timestamp + METHOD +
requestPath(+query) + body, ±30 s clock window, demo vs live keys); each
endpoint's documented rate limit enforced per user id with 50011 / HTTP 429;
state kept in memory. A client written to OKX's public spec works against it
given only its base URL and credentials.

Test helpers (not part of OKX): :meth:`OkxSandbox.authorize` plays the user's
OAuth consent page and returns an authorization code;
:meth:`OkxSandbox.oauth_credentials` issues a token pair directly;
:meth:`OkxSandbox.add_deposit` / :meth:`OkxSandbox.add_withdrawal` seed
funding records; :meth:`OkxSandbox.revoke_tokens`; ``clock`` is settable.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.errors import BrokerportError
from brokerport.profile import Profile
from brokerport.signing import hmac_sha256_b64
from brokerport.testing.sandbox import Sandbox, SandboxClock, json_response, verify_digest

from .adapter import OkxAdapter
from .catalog import ENDPOINT_PERMISSION
from .errors import CODES, message_for

__all__ = ["OkxSandbox", "create_sandbox"]

ACCESS_TTL = 3600.0
REFRESH_TTL = 3 * 24 * 3600.0
#: ASSUMPTION: the document gives no authorization-code lifetime; 5 minutes.
CODE_TTL = 300.0
#: Unbound live trading keys are deleted after this long idle.
IDLE_KEY_TTL = 14 * 24 * 3600.0
#: OKX rejects requests whose timestamp is more than 30 s away from its clock.
SKEW = 30.0
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_INST = re.compile(r"[A-Z0-9]{1,15}-[A-Z0-9]{1,15}(-[A-Z0-9]+)*")

#: The document's fee-rate example (maker, taker) per fee type 1..9.
_FEE_TABLE = [
    ("1", "-0.0008", "-0.001"),
    ("2", "-0.0005", "-0.0007"),
    ("3", "-0.0002", "-0.0005"),
    ("4", "-0.0002", "-0.0005"),
    ("5", "-0.0002", "-0.0005"),
    ("6", "-0.0002", "-0.0005"),
    ("7", "-0.0002", "-0.0005"),
    ("8", "-0.0002", "-0.0005"),
    ("9", "-0.0002", "-0.0003"),
]
_DEMO_AMOUNTS = {"BTC": "3", "ETH": "30", "USDT": "100000", "USDC": "100000", "OKB": "100"}
_MAIN_CHAIN = {
    "BTC": "BTC-Bitcoin",
    "ETH": "ETH-ERC20",
    "USDT": "USDT-ERC20",
    "LTC": "LTC-Litecoin",
    "EOS": "EOS-EOS",
    "XMR": "XMR-Monero",
}


# -------------------------------------------------------------------- state


@attrs.define
class KeyRecord:
    api_key: str
    secret: str = attrs.field(repr=False)
    passphrase: str = attrs.field(repr=False)
    uid: str
    sub: str | None
    label: str
    perms: list[str]
    ips: list[str]
    demo: bool
    ts: int
    last_used: float = 0.0


@attrs.define
class SubRecord:
    name: str
    uid: str
    label: str
    main: str
    ts: int
    level: str = "1"
    enable: bool = True
    #: ccy -> address entries
    addresses: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    demo_assets: dict[str, Decimal] = attrs.field(factory=dict)
    reported_ips: list[tuple[str, int]] = attrs.field(factory=list)


@attrs.define
class RebateRecord:
    begin: str
    end: str
    broker_type: str
    ctime: int
    ready_at: float


@attrs.define
class TokenRecord:
    access: str = attrs.field(repr=False)
    refresh: str = attrs.field(repr=False)
    uid: str
    client_id: str
    scope: tuple[str, ...]
    access_exp: float
    refresh_exp: float
    termid: str | None = None
    state: str = "valid"  # valid | rotated | revoked | cancelled


@attrs.define
class GrantRecord:
    code: str = attrs.field(repr=False)
    client_id: str
    uid: str
    scope: tuple[str, ...]
    expires: float
    challenge: str | None = None
    redirect_uri: str | None = None
    termid: str | None = None
    used: bool = False


@attrs.frozen
class Principal:
    uid: str
    key: KeyRecord | None = None
    token: TokenRecord | None = None

    @property
    def is_master(self) -> bool:
        return self.key is not None and self.key.sub is None


PRINCIPAL = web.RequestKey("okx_principal", Principal)
DEMO = web.RequestKey("okx_demo", bool)


def _date(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


class OkxSandbox(Sandbox):
    """The OKX broker program in memory. ``create_sandbox(**options)`` builds one.

    Options: ``demo`` (the default credentials are a demo-trading key and ask
    for ``x-simulated-trading: 1``), ``broker_code``, ``broker_types``
    (``("api",)``; with two, ``brokerType`` is required), ``rebate_delay``
    (seconds until a requested rebate link is finished; OKX says about 2 h),
    ``enforce_rate_limits``, ``clock``.
    """

    vendor: ClassVar[str] = "okx"
    live_key: KeyRecord
    demo_key: KeyRecord

    def __init__(
        self,
        *,
        demo: bool = False,
        broker_code: str = "6099c63a8d75SCDE",
        broker_types: tuple[str, ...] = ("api",),
        rebate_delay: float = 7200.0,
        enforce_rate_limits: bool = True,
        clock: SandboxClock | None = None,
    ) -> None:
        super().__init__(OkxAdapter.catalog(), clock=clock, enforce_rate_limits=enforce_rate_limits)
        self.demo = demo
        self.broker_code = broker_code
        self.broker_types = tuple(broker_types)
        self.rebate_delay = rebate_delay
        self.master_uid = "100000000000000001"
        self.oauth_uid = "200000000000000001"
        self._routes()
        self._init_state()

    # ---------------------------------------------------------- state

    def _init_state(self, *, keep: bool = False) -> None:
        now = self.clock.now_ms()
        self.keys: dict[str, KeyRecord] = {}
        self.subaccounts: dict[str, SubRecord] = {}
        self.deposits: list[dict[str, Any]] = []
        self.withdrawals: list[dict[str, Any]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.rebates: list[RebateRecord] = []
        self.rebate_status: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.refresh_index: dict[str, TokenRecord] = {}
        self.grants: dict[str, GrantRecord] = {}
        self._uid_seq = 345173667552038914
        self._seq = 0
        if keep:  # reset() keeps the broker's own credentials: connected clients go on
            for key in (self.live_key, self.demo_key):
                key.perms, key.ips = ["read_only", "trade"], []
                self.keys[key.api_key] = key
            return
        self.live_key = self._new_key(
            self.master_uid, None, "broker", ["read_only", "trade"], [], demo=False, ts=now
        )
        self.demo_key = self._new_key(
            self.master_uid, None, "brokerdemo", ["read_only", "trade"], [], demo=True, ts=now
        )
        self.oauth_client_id = "OKXSANDBOX" + secrets.token_hex(8).upper()
        self.oauth_client_secret = secrets.token_hex(16).upper()
        self.oauth_redirect_uri = "https://broker.example/callback"

    def reset(self) -> None:
        """Forget every sub-account, key, record, order, rebate and token; the broker's
        own API keys and OAuth client stay valid."""
        super().reset()
        self._init_state(keep=True)

    def _new_key(
        self,
        uid: str,
        sub: str | None,
        label: str,
        perms: list[str],
        ips: list[str],
        *,
        demo: bool,
        ts: int,
        passphrase: str | None = None,
    ) -> KeyRecord:
        rec = KeyRecord(
            api_key=str(uuid.uuid4()),
            secret=secrets.token_hex(16).upper(),
            passphrase=passphrase or ("Sb" + secrets.token_hex(6) + "!9"),
            uid=uid,
            sub=sub,
            label=label,
            perms=perms,
            ips=ips,
            demo=demo,
            ts=ts,
        )
        rec.last_used = self.clock.now()
        self.keys[rec.api_key] = rec
        return rec

    def _purge_idle_keys(self) -> None:
        """Live sub-account keys with trade or withdraw permission and no bound IP are
        deleted after 14 idle days (as the document says; demo keys are kept)."""
        horizon = self.clock.now() - IDLE_KEY_TTL
        for key in list(self.keys.values()):
            if (
                key.sub is not None
                and not key.demo
                and not key.ips
                and key.last_used < horizon
                and ({"trade", "withdraw"} & set(key.perms))
            ):
                del self.keys[key.api_key]

    def _next_uid(self) -> str:
        self._uid_seq += 1
        return str(self._uid_seq)

    def _next_id(self) -> str:
        self._seq += 1
        return str(6_000_000_000 + self._seq)

    # ------------------------------------------------------- credentials

    def credentials(self) -> dict[str, str]:
        key = self.demo_key if self.demo else self.live_key
        return {"api_key": key.api_key, "secret_key": key.secret, "passphrase": key.passphrase}

    def profile_options(self) -> dict[str, str]:
        """Clients of the sandbox tag orders with its broker's code; a demo sandbox's
        clients send ``x-simulated-trading: 1``. The host's own options win."""
        options = {"broker_code": self.broker_code}
        if self.demo:
            options["simulated"] = "1"
        return options

    def profile(self, name: str = "sandbox", **options: str) -> Profile:
        return super().profile(name, **{**self.profile_options(), **options})

    def demo_credentials(self) -> dict[str, str]:
        k = self.demo_key
        return {
            "api_key": k.api_key,
            "secret_key": k.secret,
            "passphrase": k.passphrase,
            "simulated": "1",
        }

    def live_credentials(self) -> dict[str, str]:
        k = self.live_key
        return {"api_key": k.api_key, "secret_key": k.secret, "passphrase": k.passphrase}

    def authorize(
        self,
        *,
        client_id: str | None = None,
        scope: tuple[str, ...] = ("read_only", "trade"),
        code_challenge: str | None = None,
        redirect_uri: str | None = None,
        termid: str | None = None,
        uid: str | None = None,
    ) -> str:
        """Play the user's consent page: an authorization code for ``client_id``."""
        code = secrets.token_urlsafe(24)
        self.grants[code] = GrantRecord(
            code=code,
            client_id=client_id or self.oauth_client_id,
            uid=uid or self.oauth_uid,
            scope=tuple(scope),
            expires=self.clock.now() + CODE_TTL,
            challenge=code_challenge,
            redirect_uri=redirect_uri,
            termid=termid,
        )
        return code

    def oauth_credentials(
        self, *, scope: tuple[str, ...] = ("read_only", "trade"), termid: str | None = None
    ) -> dict[str, str]:
        """A fresh token pair for the sandbox's OAuth user, as profile credentials."""
        rec = self._issue(self.oauth_client_id, self.oauth_uid, tuple(scope), termid)
        return {
            "access_token": rec.access,
            "refresh_token": rec.refresh,
            "client_id": self.oauth_client_id,
            "client_secret": self.oauth_client_secret,
        }

    def revoke_tokens(self, uid: str | None = None, *, state: str = "revoked") -> None:
        for rec in self.tokens.values():
            if uid is None or rec.uid == uid:
                rec.state = state

    def add_deposit(
        self,
        sub: str,
        ccy: str,
        amt: str,
        *,
        state: str = "2",
        chain: str | None = None,
        ts: int | None = None,
        tx_id: str | None = None,
    ) -> dict[str, Any]:
        rec = {
            "subAcct": sub,
            "ccy": ccy,
            "chain": chain or _MAIN_CHAIN.get(ccy, f"{ccy}-{ccy}"),
            "amt": amt,
            "from": "",
            "areaCodeFrom": "",
            "to": "",
            "txId": tx_id or secrets.token_hex(16),
            "ts": str(ts or self.clock.now_ms()),
            "state": state,
            "depId": self._next_id(),
            "actualDepBlkConfirm": "17",
        }
        self.deposits.append(rec)
        return rec

    def add_withdrawal(
        self,
        sub: str,
        ccy: str,
        amt: str,
        *,
        state: str = "2",
        ts: int | None = None,
        client_id: str = "",
        to: str = "0xa30d1fab00000000000000000007CF18C7B6C579",
    ) -> dict[str, Any]:
        rec = {
            "subAcct": sub,
            "chain": _MAIN_CHAIN.get(ccy, f"{ccy}-{ccy}"),
            "fee": "0.007",
            "feeCcy": ccy,
            "ccy": ccy,
            "clientId": client_id,
            "amt": amt,
            "txId": "0x" + secrets.token_hex(16),
            "to": to,
            "areaCodeTo": "",
            "state": state,
            "ts": str(ts or self.clock.now_ms()),
            "wdId": self._next_id(),
            "nonTradableAsset": False,
        }
        self.withdrawals.append(rec)
        return rec

    # ------------------------------------------------------------ envelopes

    @staticmethod
    def ok(data: list[Any]) -> web.Response:
        return json_response({"code": "0", "msg": "", "data": data})

    @staticmethod
    def fail(
        code: str, *args: str, data: list[Any] | None = None, msg: str | None = None
    ) -> web.Response:
        status = CODES[code][1] if code in CODES else 200
        text = msg if msg is not None else (message_for(code, *args) if code in CODES else "")
        return json_response({"code": code, "msg": text, "data": data or []}, status=status)

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        return self.fail("50011")

    def server_error(self, status: int) -> web.StreamResponse:
        return json_response(
            {"code": "50001", "msg": message_for("50001"), "data": []}, status=status
        )

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        principal = request.get(PRINCIPAL)
        if principal is not None:
            return str(principal.uid)
        return request.remote or ""

    # ------------------------------------------------------- authentication

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        headers = request.headers
        demo = headers.get("x-simulated-trading") == "1"
        request[DEMO] = demo
        if endpoint.auth == "public":
            return None
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self._auth_bearer(request, endpoint, auth[len("Bearer ") :].strip())
        key_id = headers.get("OK-ACCESS-KEY")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE")
        sign = headers.get("OK-ACCESS-SIGN")
        stamp = headers.get("OK-ACCESS-TIMESTAMP")
        if not key_id:
            return self.fail("50103")
        if not passphrase:
            return self.fail("50104")
        if not sign:
            return self.fail("50106")
        if not stamp:
            return self.fail("50107")
        if not _TS.fullmatch(stamp):
            return self.fail("50112")
        try:
            sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            return self.fail("50112")
        if abs(sent.timestamp() - self.clock.now()) > SKEW:
            return self.fail("50102")
        self._purge_idle_keys()
        key = self.keys.get(key_id)
        if key is None:
            return self.fail("50111")
        if key.demo != demo:
            return self.fail("50101")
        if not verify_digest(key.passphrase, passphrase):
            return self.fail("50105")
        expected = hmac_sha256_b64(
            key.secret, (stamp + request.method + request.raw_path).encode() + body
        )
        if not verify_digest(expected, sign):
            return self.fail("50113")
        remote = request.remote or ""
        if key.ips and remote not in key.ips:
            return self.fail("50110", remote)
        needed = ENDPOINT_PERMISSION.get(endpoint.name, "")
        if needed == "trade" and "trade" not in key.perms:
            return self.fail("50120")
        if _broker_only(endpoint) and key.sub is not None:
            return self.fail("59608")
        key.last_used = self.clock.now()
        request[PRINCIPAL] = Principal(uid=key.uid, key=key)
        return None

    def _auth_bearer(
        self, request: web.Request, endpoint: Endpoint, token: str
    ) -> web.StreamResponse | None:
        rec = self.tokens.get(token)
        if rec is None or rec.state == "rotated":
            return self.fail("53000")
        if rec.state == "revoked":
            return self.fail("53003")
        if rec.state == "cancelled":
            return self.fail("53001")
        if self.clock.now() >= rec.access_exp:
            return self.fail("53002")
        if rec.termid is not None and request.headers.get("TERMID") != rec.termid:
            return self.fail("53006")
        needed = ENDPOINT_PERMISSION.get(endpoint.name, "")
        if _broker_only(endpoint) or (needed == "trade" and "trade" not in rec.scope):
            return self.fail("53013")
        request[PRINCIPAL] = Principal(uid=rec.uid, token=rec)
        return None

    # --------------------------------------------------------- parameters

    def _params(
        self, request: web.Request, endpoint: Endpoint
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        """Request parameters, checked against the documented rules."""
        oauth = endpoint.name == "oauth.token"
        if endpoint.method == "GET":
            params: dict[str, Any] = dict(request.query)
        else:
            body = self.body_of(request)
            ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if oauth:
                if ctype != "application/x-www-form-urlencoded":
                    return None, self.fail("53010", "Content-Type")
                params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            else:
                if not body:
                    return None, self.fail("50000")
                if ctype != "application/json":
                    return None, self.fail("50006")
                parsed = self.json_of(request)
                if not isinstance(parsed, dict):
                    return None, self.fail("50002")
                params = parsed
        for p in endpoint.params:
            value = params.get(p.name)
            if value is None or value == "":
                if p.required:
                    return None, self.fail("53011" if oauth else "50014", p.name)
                continue
            for rule in p.rules:
                problem = rule(value)
                if problem:
                    return None, self._param_error(endpoint, p.name, oauth, value)
        if endpoint.check is not None:
            problem = endpoint.check(params)
            if problem:
                if oauth:
                    return None, self.fail("53011", problem.split()[0])
                return None, self.fail("51000", "", msg=f"Parameter error: {problem}")
        return params, None

    def _param_error(self, endpoint: Endpoint, name: str, oauth: bool, value: Any) -> web.Response:
        if oauth:
            return self.fail("53010", name)
        if name == "passphrase":
            return self.fail("59505")
        if name == "ip" and len(str(value).split(",")) > 20:
            return self.fail("59503")
        return self.fail("51000", name)

    def _sub(self, name: Any) -> SubRecord | None:
        return self.subaccounts.get(str(name))

    def _route(self, name: str, fn: Any) -> None:
        endpoint = self.catalog[name]

        async def handler(request: web.Request) -> web.StreamResponse:
            params, problem = self._params(request, endpoint)
            if problem is not None:
                return problem
            assert params is not None
            result: web.StreamResponse = fn(request, params)
            return result

        self.add_route(name, handler)

    def _routes(self) -> None:
        r = self._route
        r("broker.dma.create_subaccount", self._create_sub)
        r("broker.dma.delete_subaccount", self._delete_sub)
        r("broker.dma.subaccount_info", self._sub_info)
        r("broker.dma.subaccount_trade_fee", self._trade_fee)
        r("broker.dma.create_apikey", self._create_key)
        r("broker.dma.get_apikey", self._get_keys)
        r("broker.dma.modify_apikey", self._modify_key)
        r("broker.dma.delete_apikey", self._delete_key)
        r("broker.dma.set_subaccount_level", self._set_level)
        r("broker.dma.create_deposit_address", self._create_address)
        r("broker.dma.modify_deposit_address", self._modify_address)
        r("broker.dma.get_deposit_address", self._get_addresses)
        r("broker.dma.deposit_history", self._deposit_history)
        r("broker.dma.withdrawal_history", self._withdrawal_history)
        r("broker.dma.set_subaccount_assets", self._set_assets)
        r("broker.dma.report_subaccount_ip", self._report_ip)
        r("broker.fd.get_rebate_link", self._get_rebate)
        r("broker.fd.generate_rebate_link", self._generate_rebate)
        r("broker.fd.if_rebate", self._if_rebate)
        r("trade.place_order", self._place_order)
        r("trade.amend_order", self._amend_order)
        r("trade.cancel_order", self._cancel_order)
        r("trade.get_order", self._get_order)
        r("public.time", self._time)
        r("oauth.token", self._token)

    # ----------------------------------------------------------- DMA handlers

    def _create_sub(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        name = str(p["subAcct"])
        if name in self.subaccounts:
            return self.fail("59601")
        main = str(p.get("mainAcct") or "")
        if main and (main not in self.subaccounts or self.subaccounts[main].main):
            return self.fail("59510")
        if len(self.subaccounts) >= 1000:
            return self.fail("59603")
        rec = SubRecord(
            name=name,
            uid=self._next_uid(),
            label=str(p.get("label") or ""),
            main=main,
            ts=self.clock.now_ms(),
        )
        if p.get("clientIP"):
            rec.reported_ips.append((str(p["clientIP"]), rec.ts))
        self.subaccounts[name] = rec
        self.mark_effect(request)
        return self.ok(
            [
                {
                    "acctLv": rec.level,
                    "label": rec.label,
                    "subAcct": name,
                    "uid": rec.uid,
                    "ts": str(rec.ts),
                }
            ]
        )

    def _delete_sub(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        if any(v > 0 for v in rec.demo_assets.values()):
            return self.fail("59606")
        if any(s.main == rec.name for s in self.subaccounts.values()):
            return self.fail("59606")
        del self.subaccounts[rec.name]
        for k in [k for k, v in self.keys.items() if v.sub == rec.name]:
            del self.keys[k]
        self.mark_effect(request)
        return self.ok([{"subAcct": rec.name}])

    def _paged(self, p: Mapping[str, Any]) -> tuple[list[SubRecord], int, int]:
        subs = sorted(self.subaccounts.values(), key=lambda s: (s.ts, s.uid))
        if p.get("subAcct"):
            subs = [s for s in subs if s.name == p["subAcct"]]
        if p.get("uid"):
            subs = [s for s in subs if s.uid == p["uid"]]
        page = int(p.get("page") or 1)
        limit = int(p.get("limit") or 100)
        total = max(1, math.ceil(len(subs) / limit))
        return subs[(page - 1) * limit : page * limit], page, total

    def _sub_info(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        subs, page, total = self._paged(p)
        details = [
            {
                "acctLv": s.level,
                "canTransOut": False,
                "mainAcct": s.main,
                "enable": s.enable,
                "frozenFunc": [],
                "label": s.label,
                "subAcct": s.name,
                "ts": str(s.ts),
                "uid": s.uid,
            }
            for s in subs
        ]
        return self.ok([{"details": details, "page": str(page), "totalPage": str(total)}])

    def _trade_fee(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        subs, page, total = self._paged(p)
        details = [
            {
                # The document's table names the field "maker", its example "marker": send both.
                "feeRates": [
                    {"maker": mk, "marker": mk, "taker": tk, "type": t} for t, mk, tk in _FEE_TABLE
                ],
                "mainAcct": s.main,
                "subAcct": s.name,
                "ts": str(s.ts),
                "uid": s.uid,
            }
            for s in subs
        ]
        return self.ok([{"details": details, "page": str(page), "totalPage": str(total)}])

    @staticmethod
    def _key_view(k: KeyRecord, *, with_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subAcct": k.sub or "",
            "label": k.label,
            "apiKey": k.api_key,
            "perm": ",".join(k.perms),
            "ip": ",".join(k.ips),
            "ts": str(k.ts),
        }
        if with_secret:
            out["secretKey"] = k.secret
            out["passphrase"] = k.passphrase
        return out

    def _sub_keys(self, sub: str) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.sub == sub]

    def _create_key(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        keys = self._sub_keys(rec.name)
        if len(keys) >= 50:
            return self.fail("59501")
        if any(k.label == p["label"] for k in keys):
            return self.fail("59502")
        perms = ["read_only"] + [
            x for x in str(p.get("perm") or "").split(",") if x and x != "read_only"
        ]
        ips = [x.strip() for x in str(p.get("ip") or "").split(",") if x.strip()]
        key = self._new_key(
            rec.uid,
            rec.name,
            str(p["label"]),
            perms,
            ips,
            demo=request[DEMO],
            ts=self.clock.now_ms(),
            passphrase=str(p["passphrase"]),
        )
        self.mark_effect(request)
        return self.ok([self._key_view(key, with_secret=True)])

    def _get_keys(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        keys = self._sub_keys(rec.name)
        if p.get("apiKey"):
            keys = [k for k in keys if k.api_key == p["apiKey"]]
        return self.ok(
            [{k: v for k, v in self._key_view(k).items() if k != "subAcct"} for k in keys]
        )

    def _modify_key(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        key = self.keys.get(str(p["apiKey"]))
        if key is None or key.sub != rec.name:
            return self.fail("59506")
        if p.get("label") and any(
            k.label == p["label"] and k is not key for k in self._sub_keys(rec.name)
        ):
            return self.fail("59502")
        if "label" in p:
            key.label = str(p["label"])
        if "perm" in p:
            key.perms = ["read_only"] + [
                x for x in str(p["perm"]).split(",") if x and x != "read_only"
            ]
        if "ip" in p:
            key.ips = [x.strip() for x in str(p["ip"]).split(",") if x.strip()]
        key.ts = self.clock.now_ms()
        self.mark_effect(request)
        return self.ok([self._key_view(key)])

    def _delete_key(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        key = self.keys.get(str(p["apiKey"]))
        if key is None or key.sub != rec.name:
            return self.fail("59506")
        del self.keys[key.api_key]
        self.mark_effect(request)
        return self.ok([{"subAcct": rec.name}])

    def _set_level(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        rec.level = str(p["acctLv"])
        self.mark_effect(request)
        return self.ok([{"acctLv": rec.level}])

    def _create_address(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        ccy = str(p["ccy"])
        entries = rec.addresses.setdefault(ccy, [])
        if len(entries) >= 20:
            return self.fail("58300")
        chain = str(p.get("chain") or _MAIN_CHAIN.get(ccy, f"{ccy}-{ccy}"))
        segwit = str(p.get("addrType") or "1") == "2"
        addr = ("bc1q" if segwit else "0x") + secrets.token_hex(19)
        to = str(p.get("to") or (entries[0]["to"] if entries else "6"))
        entry = {"chain": chain, "ccy": ccy, "addr": addr, "to": to, "ts": str(self.clock.now_ms())}
        if ccy in ("EOS", "XRP"):
            entry["memo" if ccy == "EOS" else "tag"] = str(10_000_000 + len(entries))
        entries.append(entry)
        self.mark_effect(request)
        return self.ok([{k: v for k, v in entry.items() if k != "to"}])

    def _modify_address(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        ccy = str(p["ccy"])
        entries = rec.addresses.get(ccy, [])
        match = [
            e
            for e in entries
            if e["addr"] == p["addr"] and (not p.get("chain") or e["chain"] == p["chain"])
        ]
        if not match:
            return self.fail("51000", "addr")
        # the landing account is a global setting of the sub-account
        for addrs in rec.addresses.values():
            for e in addrs:
                e["to"] = str(p["to"])
        self.mark_effect(request)
        e = match[0]
        return self.ok(
            [
                {
                    "chain": e["chain"],
                    "ccy": ccy,
                    "to": e["to"],
                    "addr": e["addr"],
                    "ts": str(self.clock.now_ms()),
                }
            ]
        )

    def _get_addresses(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        out = []
        for i, e in enumerate(rec.addresses.get(str(p["ccy"]), [])):
            item = {k: v for k, v in e.items() if k != "ts"}
            item.update(ctAddr="", selected=i == 0)
            out.append(item)
        return self.ok(out)

    @staticmethod
    def _history(
        records: list[dict[str, Any]], p: Mapping[str, Any], fields: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        out = [r for r in records if all(not p.get(f) or r.get(f) == p[f] for f in fields)]
        if p.get("after"):
            out = [r for r in out if int(r["ts"]) < int(p["after"])]
        if p.get("before"):
            out = [r for r in out if int(r["ts"]) > int(p["before"])]
        out.sort(
            key=lambda r: (int(r["ts"]), int(r.get("depId") or r.get("wdId") or 0)), reverse=True
        )
        return out[: int(p.get("limit") or 100)]

    def _deposit_history(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        if p.get("type") == "3":
            return self.ok([])  # the sandbox only records on-chain deposits
        return self.ok(self._history(self.deposits, p, ("subAcct", "ccy", "txId", "state")))

    def _withdrawal_history(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        if p.get("type") == "3":
            return self.ok([])
        return self.ok(
            self._history(
                self.withdrawals, p, ("subAcct", "ccy", "wdId", "clientId", "txId", "state")
            )
        )

    def _set_assets(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        if not request[DEMO]:
            # ASSUMPTION: the endpoint exists in demo trading only.
            return self.fail("50101")
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        ccy = str(p["ccy"])
        amt = Decimal(_DEMO_AMOUNTS.get(ccy, "1000"))
        rec.demo_assets[ccy] = amt
        self.mark_effect(request)
        return self.ok([{"amt": format(amt, "f"), "ccy": ccy, "subAcct": rec.name}])

    def _report_ip(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        rec = self._sub(p["subAcct"])
        if rec is None:
            return self.fail("59510")
        ts = self.clock.now_ms()
        rec.reported_ips.append((str(p["clientIP"]), ts))
        self.mark_effect(request)
        return self.ok([{"subAcct": rec.name, "ts": str(ts)}])

    # ------------------------------------------------------------- FD rebates

    def _broker_type(self, p: Mapping[str, Any]) -> tuple[str | None, web.Response | None]:
        bt = p.get("brokerType")
        if bt:
            if bt not in self.broker_types:
                return None, self.fail("51000", "brokerType")
            return str(bt), None
        if len(self.broker_types) > 1:
            return None, self.fail("50044")
        return self.broker_types[0], None

    def _link(self, r: RebateRecord) -> dict[str, Any]:
        now = self.clock.now()
        finished = now >= r.ready_at
        href = ""
        if finished:
            expires = int(now + 7200)
            sig = secrets.token_urlsafe(18)
            href = (
                f"https://okx-sandbox.invalid/broker/RebateDetails{r.begin}-{r.end}.csv"
                f"?Expires={expires}&Signature={sig}"
            )
        return {
            "beginTime": str(_ms(_date(r.begin))),
            "endTime": str(_ms(_date(r.end))),
            "cTime": str(r.ctime),
            "fileHref": href,
            "state": "finished" if finished else "ongoing",
            "ts": str(int(r.ready_at * 1000)) if finished else "",
        }

    def _get_rebate(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        bt, problem = self._broker_type(p)
        if problem is not None:
            return problem
        recs = [r for r in self.rebates if r.broker_type == bt]
        if p["type"] == "false":
            lo = _ms(_date(str(p["begin"])))
            hi = _ms(_date(str(p["end"])) + timedelta(days=1))
            recs = [r for r in recs if lo <= r.ctime < hi]
        return self.ok([self._link(r) for r in recs])

    def _generate_rebate(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        bt, problem = self._broker_type(p)
        if problem is not None:
            return problem
        assert bt is not None
        begin, end = str(p["begin"]), str(p["end"])
        if begin > end:
            return self.fail("59616")
        for r in self.rebates:
            if (r.begin, r.end, r.broker_type) == (begin, end, bt):
                return self.ok([{"result": "true", "ts": str(r.ctime)}])
        rec = RebateRecord(
            begin=begin,
            end=end,
            broker_type=bt,
            ctime=self.clock.now_ms(),
            ready_at=self.clock.now() + self.rebate_delay,
        )
        self.rebates.append(rec)
        self.mark_effect(request)
        return self.ok([{"result": "false", "ts": str(rec.ctime)}])

    def _if_rebate(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        _, problem = self._broker_type(p)
        if problem is not None:
            return problem
        api_key = str(p["apiKey"])
        status = self.rebate_status.get(api_key)
        if status is None:
            if api_key not in self.keys:
                return self.fail("59506")
            status = {
                "type": "0",
                "affiliated": False,
                "clientRebateRatio": "0.2",
                "lastRebate": "",
            }
        return self.ok(
            [
                {
                    "affiliated": False,
                    "brokerCode": self.broker_code,
                    "clientRebateRatio": "0",
                    "lastRebate": "",
                    **status,
                }
            ]
        )

    # ---------------------------------------------------------------- orders

    def _find(self, uid: str, p: Mapping[str, Any]) -> dict[str, Any] | None:
        for o in self.orders.values():
            if o["_uid"] != uid or o["instId"] != p["instId"]:
                continue
            if p.get("ordId") and o["ordId"] == p["ordId"]:
                return o
            if not p.get("ordId") and p.get("clOrdId") and o["clOrdId"] == p["clOrdId"]:
                return o
        return None

    @staticmethod
    def _item_fail(code: str, item: dict[str, Any]) -> web.Response:
        item.update(sCode=code, sMsg=CODES[code][2])
        return json_response({"code": "1", "msg": "All operations failed", "data": [item]})

    def _place_order(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        uid = request[PRINCIPAL].uid
        now = self.clock.now_ms()
        cl = str(p.get("clOrdId") or "")
        tag = str(p.get("tag") or "")
        item: dict[str, Any] = {"clOrdId": cl, "ordId": "", "tag": tag, "ts": str(now)}
        if not _INST.fullmatch(str(p["instId"])):
            return self._item_fail("51001", item)
        if cl and any(
            o["_uid"] == uid and o["clOrdId"] == cl and o["state"] in ("live", "partially_filled")
            for o in self.orders.values()
        ):
            return self._item_fail("51016", item)
        ord_id = self._next_id()
        market = p["ordType"] in ("market", "optimal_limit_ioc")
        px = "" if market else str(p.get("px") or "")
        order = {
            "_uid": uid,
            "instType": "SWAP" if str(p["instId"]).endswith("-SWAP") else "SPOT",
            "instId": str(p["instId"]),
            "ordId": ord_id,
            "clOrdId": cl,
            "tag": tag,
            "px": px,
            "sz": str(p["sz"]),
            "ordType": str(p["ordType"]),
            "side": str(p["side"]),
            "tdMode": str(p["tdMode"]),
            "posSide": str(p.get("posSide") or "net"),
            "state": "filled" if market else "live",
            "accFillSz": str(p["sz"]) if market else "0",
            "avgPx": "100" if market else "",
            "fillPx": "100" if market else "",
            "fee": "0",
            "feeCcy": "",
            "cTime": str(now),
            "uTime": str(now),
        }
        self.orders[ord_id] = order
        self.mark_effect(request)
        item.update(ordId=ord_id, sCode="0", sMsg="Order placed")
        return self.ok([item])

    def _amend_order(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        uid = request[PRINCIPAL].uid
        item: dict[str, Any] = {
            "clOrdId": str(p.get("clOrdId") or ""),
            "ordId": str(p.get("ordId") or ""),
            "reqId": str(p.get("reqId") or ""),
            "ts": str(self.clock.now_ms()),
        }
        order = self._find(uid, p)
        if order is None or order["state"] not in ("live", "partially_filled"):
            return self._item_fail("51503", item)
        if p.get("newSz"):
            order["sz"] = str(p["newSz"])
        if p.get("newPx"):
            order["px"] = str(p["newPx"])
        order["uTime"] = item["ts"]
        self.mark_effect(request)
        item.update(ordId=order["ordId"], clOrdId=order["clOrdId"], sCode="0", sMsg="")
        return self.ok([item])

    def _cancel_order(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        uid = request[PRINCIPAL].uid
        item: dict[str, Any] = {
            "clOrdId": str(p.get("clOrdId") or ""),
            "ordId": str(p.get("ordId") or ""),
            "ts": str(self.clock.now_ms()),
        }
        order = self._find(uid, p)
        if order is None or order["state"] not in ("live", "partially_filled"):
            return self._item_fail("51400", item)
        order["state"] = "canceled"
        order["uTime"] = item["ts"]
        self.mark_effect(request)
        item.update(ordId=order["ordId"], clOrdId=order["clOrdId"], sCode="0", sMsg="")
        return self.ok([item])

    def _get_order(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        order = self._find(request[PRINCIPAL].uid, p)
        if order is None:
            return self.fail("51603")
        return self.ok([{k: v for k, v in order.items() if not k.startswith("_")}])

    # ---------------------------------------------------------------- public

    def _time(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        return self.ok([{"ts": str(self.clock.now_ms())}])

    # ----------------------------------------------------------------- OAuth

    def _issue(
        self, client_id: str, uid: str, scope: tuple[str, ...], termid: str | None
    ) -> TokenRecord:
        now = self.clock.now()
        rec = TokenRecord(
            access="eyJ" + secrets.token_urlsafe(48),
            refresh=secrets.token_urlsafe(32),
            uid=uid,
            client_id=client_id,
            scope=scope,
            access_exp=now + ACCESS_TTL,
            refresh_exp=now + REFRESH_TTL,
            termid=termid,
        )
        self.tokens[rec.access] = rec
        self.refresh_index[rec.refresh] = rec
        return rec

    def _token(self, request: web.Request, p: dict[str, Any]) -> web.Response:
        client_id = str(p["client_id"])
        if client_id != self.oauth_client_id:
            return self.fail("53009")
        secret = p.get("client_secret")
        if secret and not verify_digest(self.oauth_client_secret, str(secret)):
            return self.fail("53009")
        now = self.clock.now()
        if p["grant_type"] == "authorization_code":
            grant = self.grants.get(str(p["code"]))
            if grant is None or grant.used or grant.client_id != client_id:
                return self.fail("53009")
            if now >= grant.expires:
                return self.fail("53012")
            if grant.redirect_uri and p.get("redirect_uri") not in (None, grant.redirect_uri):
                return self.fail("53016")
            if grant.challenge is not None:
                verifier = str(p.get("code_verifier") or "")
                digest = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if not verifier or not verify_digest(grant.challenge, digest):
                    return self.fail("53009")
            elif not secret:
                return self.fail("53011", "client_secret")
            grant.used = True
            rec = self._issue(client_id, grant.uid, grant.scope, grant.termid)
        else:
            old = self.refresh_index.get(str(p["refresh_token"]))
            if old is None or old.client_id != client_id or old.state == "rotated":
                return self.fail("53005")
            if old.state == "revoked":
                return self.fail("53003")
            if old.state == "cancelled":
                return self.fail("53001")
            if now >= old.refresh_exp:
                return self.fail("53002")
            # rotation: the old pair stops working, expired or not
            old.state = "rotated"
            rec = self._issue(client_id, old.uid, old.scope, old.termid)
        self.mark_effect(request)
        return json_response(
            {
                "access_token": rec.access,
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL),
                "refresh_token": rec.refresh,
                "refresh_token_expires_in": int(REFRESH_TTL),
                "scope": ",".join(rec.scope),
            }
        )


def _broker_only(endpoint: Endpoint) -> bool:
    return endpoint.name.startswith("broker.")


def create_sandbox(**options: Any) -> OkxSandbox:
    """Entry point of ``brokerport.sandboxes``: ``okx``."""
    try:
        return OkxSandbox(**options)
    except TypeError as exc:
        raise BrokerportError(f"bad OKX sandbox option: {exc}", vendor="okx") from None
