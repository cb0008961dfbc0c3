"""An in-process OKX V5 server (broker program, orders, funding) on the sandbox toolkit.

The toolkit routes every endpoint, checks parameters with the client's rules, answers in
OKX's envelope from the adapter's error table, serves instruments and currencies from
``sandbox_data.json`` and runs OAuth (RFC 6749) with OKX's codes. Here: the signature check
written from OKX's document (base64 HMAC-SHA256 of timestamp + METHOD + requestPath(+query)
+ body, ±30 s, demo vs live keys, permissions) and the handlers that change state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import attrs
from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.paging import serve_page
from brokerport.sandbox import (
    Fixture,
    OAuthRefusal,
    OAuthServer,
    Reject,
    Sandbox,
    Token,
    handles,
    verify_digest,
)

from .adapter import OkxAdapter
from .catalog import ENDPOINT_PERMISSION
from .errors import ENVELOPE, ERRORS
from .ports import HISTORY_PAGES, SUB_PAGES  # the pagers the bindings read with
from .sandbox_ws import OrderPush  # the private websocket, pushes and the fill schedule

__all__ = ["OkxSandbox", "create_sandbox"]

R: TypeAlias = web.Request
P: TypeAlias = dict[str, Any]
_REQUIRED = {"KEY": "50103", "PASSPHRASE": "50104", "SIGN": "50106", "TIMESTAMP": "50107"}
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
IDLE_KEY_TTL = 14 * 24 * 3600.0  #: unbound live trading keys are deleted after this
SKEW = 30.0  #: OKX refuses timestamps more than 30 s from its clock
_FEES = [("1", "-0.0008", "-0.001"), ("2", "-0.0005", "-0.0007")]  #: the document's example
_FEES += [(str(t), "-0.0002", "-0.0005") for t in range(3, 9)] + [("9", "-0.0002", "-0.0003")]
_DEMO_AMOUNTS = {"BTC": "3", "ETH": "30", "USDT": "100000", "USDC": "100000", "OKB": "100"}
_OPEN = ("live", "partially_filled")
_SUB_FLAGS = dict(enable=True, canTransOut=False, frozenFunc=[])
#: OAuth refusal -> OKX code (the document's 53000-53017). ASSUMPTION: a code lives 5 min.
OAUTH_CODES = dict(client="53009", code="53009", verifier="53009", code_expired="53012")
OAUTH_CODES |= dict(redirect_uri="53016", secret_missing="53011", refresh="53005", token="53000")
OAUTH_CODES |= dict(revoked="53003", cancelled="53001", expired="53002", device="53006")
#: the form-encoded OAuth endpoint refuses parameters with the document's 53010 / 53011
OAUTH_REFUSALS = {f"oauth.token:{k}": "53011" for k in ("missing", "check")}
OAUTH_REFUSALS |= {f"oauth.token:{k}": "53010" for k in ("invalid", "content_type")}


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
    addresses: dict[str, list[dict[str, Any]]] = attrs.Factory(dict)  #: ccy -> addresses
    demo_assets: dict[str, Decimal] = attrs.Factory(dict)  #: demo funding account
    funding: dict[str, Decimal] = attrs.Factory(dict)  #: live funding account
    reported_ips: list[tuple[str, int]] = attrs.Factory(list)


@attrs.define
class RebateRecord:
    begin: str
    end: str
    broker_type: str
    ctime: int
    ready_at: float


#: who signed (its .uid): an API key or an OAuth token
PRINCIPAL: web.RequestKey[KeyRecord | Token] = web.RequestKey("okx_principal")
DEMO = web.RequestKey("okx_demo", bool)


def _ms(day: str, plus: int = 0) -> int:
    at = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC) + timedelta(plus)
    return int(at.timestamp()) * 1000


def _perms(text: Any) -> list[str]:
    return ["read_only"] + [x for x in str(text or "").split(",") if x and x != "read_only"]


def _ips(text: Any) -> list[str]:
    return [x.strip() for x in str(text or "").split(",") if x.strip()]


def _failed(item: dict[str, Any], rej: Reject) -> dict[str, Any]:
    return item | {"sCode": rej.code, "sMsg": ERRORS.message(rej.code, *rej.args_)}


def _credit(wallet: dict[str, Decimal], ccy: str, amount: Decimal) -> None:
    wallet[ccy] = wallet.get(ccy, Decimal(0)) + amount


def _done(order: P) -> P:
    return dict(ordId=order["ordId"], clOrdId=order["clOrdId"], sCode="0", sMsg="")


def _items(items: list[dict[str, Any]]) -> Any:
    """OKX's answer to item writes: code 0 all done, 1 all failed, 2 some failed."""
    failed = sum(i["sCode"] != "0" for i in items)
    if not failed:
        return items
    code = "1" if failed == len(items) else "2"
    msg = "All operations failed" if code == "1" else "Bulk operation partially succeeded."
    return web.json_response(ENVELOPE.fail(code, msg, items))


class OkxSandbox(OrderPush, Sandbox):
    """Options: ``demo`` (the default key is a demo-trading key), ``broker_code``,
    ``broker_types`` (with two, ``brokerType`` is required), ``rebate_delay`` (OKX: ~2 h),
    ``fill_steps`` / ``fill_every`` (resting orders fill: see ``sandbox_ws``)."""

    vendor: ClassVar[str] = "okx"
    envelope, errors = ENVELOPE, ERRORS
    codes: ClassVar[Mapping[str, str]] = dict(
        missing="50014", invalid="51000", check="51000", not_json="50002", empty_body="50000",
        content_type="50006", rate_limited="50011", server_error="50001", not_found="404",
        method="50115", **{"invalid:passphrase": "59505"}, **OAUTH_REFUSALS,
    )  # fmt: skip
    fixtures: ClassVar[Mapping[str, Fixture]] = {
        "public.instruments": Fixture("instruments", ("instType", "instId", "uly", "instFamily")),
        "asset.currencies": Fixture("currencies", ("ccy",)),
    }
    fixture_file = ("brokerport_okx", "sandbox_data.json")
    live_key: KeyRecord
    demo_key: KeyRecord
    oauth: OAuthServer

    def __init__(self, *, demo: bool = False, broker_code: str = "6099c63a8d75SCDE",
                 broker_types: tuple[str, ...] = ("api",), rebate_delay: float = 7200.0,
                 fill_steps: int = 2, fill_every: int = 0, **toolkit: Any) -> None:  # fmt: skip
        super().__init__(OkxAdapter.catalog(), **toolkit)  # clock, enforce_rate_limits, seed
        self.init_push(fill_steps, fill_every)
        self.demo, self.broker_code = demo, broker_code
        self.broker_types, self.rebate_delay = tuple(broker_types), rebate_delay
        self.master_uid, self.oauth_uid = "100000000000000001", "200000000000000001"
        self._init_state()

    # ---------------------------------------------------------------- state

    def _init_state(self, *, keep: bool = False) -> None:
        self.keys: dict[str, KeyRecord] = {}
        self.subaccounts: dict[str, SubRecord] = {}
        self.deposits, self.withdrawals = list[P](), list[P]()
        self.orders, self.algos, self.rebate_status = dict[str, P](), dict[str, P](), dict[str, P]()
        self.rebates: list[RebateRecord] = []
        self.master_wallet: dict[bool, dict[str, Decimal]] = {False: {}, True: {}}
        self._uid_seq, self._seq = 345173667552038914, 0
        if keep:  # reset() keeps the broker's own credentials: connected clients go on
            for key in (self.live_key, self.demo_key):
                key.perms, key.ips = ["read_only", "trade"], []
                self.keys[key.api_key] = key
            self.oauth.clear()
            return
        uid, trade = self.master_uid, _perms("trade")
        self.live_key = self._new_key(uid, None, "broker", trade, [], False)
        self.demo_key = self._new_key(uid, None, "brokerdemo", trade, [], True)
        client_id = self.oauth_client_id = "OKXSANDBOX" + self.token_hex(8).upper()
        secret = self.oauth_client_secret = self.token_hex(16).upper()
        self.oauth = OAuthServer(self.clock, self.token_hex, client_id, secret, refresh_ttl=259200)
        self.oauth_redirect_uri = "https://broker.example/callback"
        self.tokens, self.grants = self.oauth.tokens, self.oauth.grants

    def reset(self) -> None:
        """Forget all state; the broker's own API keys and OAuth client stay valid."""
        super().reset()
        self._init_state(keep=True)

    def _new_key(self, uid: str, sub: str | None, label: str, perms: list[str], ips: list[str],
                 demo: bool, passphrase: str | None = None) -> KeyRecord:  # fmt: skip
        key_id, secret = str(uuid.UUID(self.token_hex(16))), self.token_hex(16).upper()
        key = KeyRecord(key_id, secret, passphrase or f"Sb{self.token_hex(6)}!9", uid, sub, label,
                        perms, ips, demo, self.clock.now_ms(), self.clock.now())  # fmt: skip
        return self.keys.setdefault(key.api_key, key)

    def _next_id(self) -> str:
        self._seq += 1
        return str(6_000_000_000 + self._seq)

    def _sub(self, name: Any) -> SubRecord:
        return Reject.absent(self.subaccounts.get(str(name)), "59510")

    def _wallet(self, request: R, sub: SubRecord | None = None) -> dict[str, Decimal]:
        """A funding account: the caller's sub-account's (live or demo), else the broker's."""
        who = request[PRINCIPAL]
        sub = sub or (self.subaccounts.get(who.sub or "") if isinstance(who, KeyRecord) else None)
        if sub is None:
            return self.master_wallet[request[DEMO]]
        return sub.demo_assets if request[DEMO] else sub.funding

    def currency(self, ccy: str) -> list[dict[str, Any]]:
        return [c for c in self.fixture_data()["currencies"] if c["ccy"] == ccy]

    def _main_chain(self, ccy: str) -> str:
        return next((c["chain"] for c in self.currency(ccy) if c["mainNet"]), f"{ccy}-{ccy}")

    def instrument(self, inst_id: Any) -> dict[str, Any]:
        found = (i for i in self.fixture_data()["instruments"] if i["instId"] == inst_id)
        return dict(Reject.absent(next(found, None), "51001"))

    def credentials(self) -> dict[str, str]:
        return self.demo_credentials() if self.demo else self.live_credentials()

    def live_credentials(self, k: KeyRecord | None = None) -> dict[str, str]:
        k = k or self.live_key
        return {"api_key": k.api_key, "secret_key": k.secret, "passphrase": k.passphrase}

    def demo_credentials(self) -> dict[str, str]:
        return self.live_credentials(self.demo_key) | {"simulated": "1"}

    def credential_sets(self) -> dict[str, dict[str, str]]:
        return {"live": self.live_credentials(), "demo": self.demo_credentials()}

    def identifiers(self) -> dict[str, str]:
        env = "demo (x-simulated-trading: 1)" if self.demo else "live"
        ids = dict(broker_code=self.broker_code, master_uid=self.master_uid, environment=env)
        oauth = ("client_id", "client_secret", "redirect_uri", "uid")
        return ids | {f"oauth_{k}": getattr(self, f"oauth_{k}") for k in oauth}

    def profile_options(self) -> dict[str, str]:
        """Clients tag orders with the sandbox broker's code; a demo sandbox's clients send
        ``x-simulated-trading: 1``. The host's own options win."""
        return {"broker_code": self.broker_code} | ({"simulated": "1"} if self.demo else {})

    def authorize(self, *, scope: tuple[str, ...] = ("read_only", "trade"), uid: str | None = None,
                  code_challenge: str | None = None, **kw: Any) -> str:  # fmt: skip
        """Play the consent page: a code (``client_id``, ``redirect_uri``, ``termid``)."""
        return self.oauth.authorize(uid or self.oauth_uid, scope, challenge=code_challenge, **kw)

    def oauth_credentials(self, *, scope: tuple[str, ...] = ("read_only", "trade"),
                          termid: str | None = None) -> dict[str, str]:  # fmt: skip
        """A fresh token pair for the sandbox's OAuth user, as profile credentials."""
        rec = self.oauth.issue(self.oauth_uid, scope, termid)
        pair = {"access_token": rec.access, "refresh_token": rec.refresh}
        return pair | {"client_id": self.oauth_client_id, "client_secret": self.oauth_client_secret}

    def revoke_tokens(self, uid: str | None = None, *, state: str = "revoked") -> None:
        self.oauth.revoke(uid, state)

    def add_deposit(self, sub: str, ccy: str, amt: str, *, state: str = "2", chain: str = "",
                    ts: int | None = None, tx_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        """A deposit record; a credited one (state 2) funds the sub-account."""
        rec = dict(subAcct=sub, ccy=ccy, chain=chain or self._main_chain(ccy), amt=amt, state=state)
        rec |= dict(txId=tx_id or self.token_hex(16), ts=str(ts or self.clock.now_ms()))
        rec |= {"from": "", "areaCodeFrom": "", "to": "", "depId": self._next_id()}
        self.deposits.append(rec | {"actualDepBlkConfirm": "17"})
        if state == "2" and sub in self.subaccounts:
            _credit(self.subaccounts[sub].funding, ccy, Decimal(amt))
        return self.deposits[-1]

    def add_withdrawal(self, sub: str, ccy: str, amt: str, *, state: str = "2", ts: int = 0,
                       client_id: str = "", to: str = "0xa30d1fab00000000000000000007CF18C7B6C579",
                       chain: str = "", fee: str = "0.007") -> dict[str, Any]:  # fmt: skip
        rec = dict(subAcct=sub, chain=chain or self._main_chain(ccy), fee=fee, feeCcy=ccy, ccy=ccy)
        rec |= dict(clientId=client_id, amt=amt, txId="0x" + self.token_hex(16), to=to)
        rec |= dict(areaCodeTo="", state=state, ts=str(ts or self.clock.now_ms()))
        self.withdrawals.append(rec | {"wdId": self._next_id(), "nonTradableAsset": False})
        return self.withdrawals[-1]

    # ------------------------------------------------------- authentication

    def rate_limit_key(self, request: R, endpoint: Endpoint) -> str:
        return str(getattr(request.get(PRINCIPAL), "uid", None) or request.remote or "")

    def authenticate(self, request: R, endpoint: Endpoint, body: bytes) -> None:
        """OKX's document: ``OK-ACCESS-*`` headers, base64 HMAC-SHA256 of timestamp +
        METHOD + requestPath(+query) + body as it arrived; or an OAuth bearer token."""
        h = request.headers
        request[DEMO] = demo = h.get("x-simulated-trading") == "1"
        if endpoint.auth == "public":
            return
        if h.get("Authorization", "").startswith("Bearer "):
            return self._bearer(request, endpoint, h["Authorization"][7:].strip())
        for header, code in _REQUIRED.items():
            Reject.when(not h.get(f"OK-ACCESS-{header}"), code)
        stamp = h["OK-ACCESS-TIMESTAMP"]
        try:  # ISO-8601 UTC with milliseconds: 2020-12-08T09:08:57.715Z
            sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            raise Reject("50112") from None
        Reject.when(not _TS.fullmatch(stamp), "50112")
        Reject.when(abs(sent.timestamp() - self.clock.now()) > SKEW, "50102")
        self._purge_idle_keys()
        key = Reject.absent(self.keys.get(h["OK-ACCESS-KEY"]), "50111")
        Reject.when(key.demo != demo, "50101")
        Reject.when(not verify_digest(key.passphrase, h["OK-ACCESS-PASSPHRASE"]), "50105")
        text = (stamp + request.method + request.raw_path).encode() + body
        digest = base64.b64encode(hmac.new(key.secret.encode(), text, hashlib.sha256).digest())
        Reject.when(not verify_digest(digest, h["OK-ACCESS-SIGN"]), "50113")
        if key.ips and (request.remote or "") not in key.ips:
            raise Reject("50110", request.remote or "")
        if ENDPOINT_PERMISSION.get(endpoint.name, "") in {"trade", "withdraw"} - set(key.perms):
            raise Reject("50120")
        Reject.when(endpoint.name.startswith("broker.") and key.sub is not None, "59608")
        key.last_used = self.clock.now()
        request[PRINCIPAL] = key

    def _bearer(self, request: R, endpoint: Endpoint, token: str) -> None:
        try:
            rec = self.oauth.bearer(token, request.headers.get("TERMID"))
        except OAuthRefusal as no:
            raise Reject(OAUTH_CODES[no.kind]) from None
        needed = ENDPOINT_PERMISSION.get(endpoint.name, "")
        if endpoint.name.startswith("broker.") or needed in {"trade", "withdraw"} - set(rec.scope):
            raise Reject("53013")
        request[PRINCIPAL] = rec

    def _purge_idle_keys(self) -> None:
        """The document: live keys with trade/withdraw and no IP go after 14 idle days."""
        horizon = self.clock.now() - IDLE_KEY_TTL
        for key in list(self.keys.values()):
            idle = key.sub and not key.demo and not key.ips and key.last_used < horizon
            if idle and {"trade", "withdraw"} & set(key.perms):
                del self.keys[key.api_key]

    def refusal(self, endpoint: Endpoint, kind: str, field: str, detail: str = "") -> Reject:
        if kind == "invalid" and field == "ip" and "20" in detail:
            return Reject("59503")  # more than 20 IPs: its own code
        return super().refusal(endpoint, kind, field, detail)

    # ------------------------------------------------------------------ DMA

    @handles("broker.dma.create_subaccount")
    def _create_sub(self, request: R, p: P) -> Any:
        name, main = str(p["subAcct"]), str(p.get("mainAcct") or "")
        Reject.when(name in self.subaccounts, "59601")
        Reject.when(main and (main not in self.subaccounts or self.subaccounts[main].main), "59510")
        Reject.when(len(self.subaccounts) >= 1000, "59603")
        self._uid_seq += 1
        label, ts = str(p.get("label") or ""), self.clock.now_ms()
        rec = self.subaccounts[name] = SubRecord(name, str(self._uid_seq), label, main, ts)
        rec.reported_ips += [(str(p["clientIP"]), ts)] if p.get("clientIP") else []
        answer = dict(acctLv=rec.level, label=rec.label, subAcct=name, uid=rec.uid, ts=str(ts))
        return self.effect(request, [answer])

    @handles("broker.dma.delete_subaccount")
    def _delete_sub(self, request: R, p: P) -> Any:
        rec = self._sub(p["subAcct"])
        funded = any(v > 0 for v in (*rec.demo_assets.values(), *rec.funding.values()))
        Reject.when(funded or any(s.main == rec.name for s in self.subaccounts.values()), "59606")
        del self.subaccounts[rec.name]
        self.keys = {k: v for k, v in self.keys.items() if v.sub != rec.name}
        return self.effect(request, [{"subAcct": rec.name}])

    @handles("broker.dma.subaccount_info", "broker.dma.subaccount_trade_fee")
    def _subs(self, request: R, p: P) -> Any:
        subs = sorted(self.subaccounts.values(), key=lambda s: (s.ts, s.uid))
        subs = [s for s in subs if p.get("subAcct") in (None, s.name)]
        subs = [s for s in subs if p.get("uid") in (None, s.uid)]
        # the document's table names the field "maker", its example "marker": send both
        fees = [{"maker": mk, "marker": mk, "taker": tk, "type": t} for t, mk, tk in _FEES]
        fee_rows = request.path.endswith("trade-fee")
        rows = [self._sub_row(s, fees if fee_rows else None) for s in subs]
        return [serve_page(SUB_PAGES, rows, p)]

    @staticmethod
    def _sub_row(s: SubRecord, fees: list[P] | None) -> P:
        row: P = dict(mainAcct=s.main, subAcct=s.name, ts=str(s.ts), uid=s.uid)
        if fees is not None:
            return row | {"feeRates": fees}
        return row | _SUB_FLAGS | dict(acctLv=s.level, label=s.label)

    @staticmethod
    def _key_view(k: KeyRecord, secret: bool = False) -> dict[str, Any]:
        out = dict(subAcct=k.sub or "", label=k.label, apiKey=k.api_key, ts=str(k.ts))
        out |= {"perm": ",".join(k.perms), "ip": ",".join(k.ips)}
        return out | ({"secretKey": k.secret, "passphrase": k.passphrase} if secret else {})

    def _sub_key(self, p: Mapping[str, Any]) -> tuple[SubRecord, KeyRecord]:
        rec = self._sub(p["subAcct"])
        key = Reject.absent(self.keys.get(str(p["apiKey"])), "59506")
        Reject.when(key.sub != rec.name, "59506")
        return rec, key

    @handles("broker.dma.create_apikey")
    def _create_key(self, request: R, p: P) -> Any:
        rec = self._sub(p["subAcct"])
        keys = [k for k in self.keys.values() if k.sub == rec.name]
        Reject.when(len(keys) >= 50, "59501")
        Reject.when(any(k.label == p["label"] for k in keys), "59502")
        perms, ips, passphrase = _perms(p.get("perm")), _ips(p.get("ip")), str(p["passphrase"])
        label, demo = str(p["label"]), request[DEMO]
        key = self._new_key(rec.uid, rec.name, label, perms, ips, demo, passphrase)
        return self.effect(request, [self._key_view(key, secret=True)])

    @handles("broker.dma.get_apikey")
    def _get_keys(self, request: R, p: P) -> Any:
        rec = self._sub(p["subAcct"])
        keys = [k for k in self.keys.values() if k.sub == rec.name]
        keys = [k for k in keys if p.get("apiKey") in (None, k.api_key)]
        return [{k: v for k, v in self._key_view(key).items() if k != "subAcct"} for key in keys]

    @handles("broker.dma.modify_apikey")
    def _modify_key(self, request: R, p: P) -> Any:
        rec, key = self._sub_key(p)
        others = [k.label for k in self.keys.values() if k.sub == rec.name and k is not key]
        Reject.when(p.get("label") and p["label"] in others, "59502")
        key.label = str(p.get("label", key.label))
        key.perms = _perms(p["perm"]) if "perm" in p else key.perms
        key.ips = _ips(p["ip"]) if "ip" in p else key.ips
        key.ts = self.clock.now_ms()
        return self.effect(request, [self._key_view(key)])

    @handles("broker.dma.delete_apikey")
    def _delete_key(self, request: R, p: P) -> Any:
        rec, key = self._sub_key(p)
        del self.keys[key.api_key]
        return self.effect(request, [{"subAcct": rec.name}])

    @handles("broker.dma.set_subaccount_level")
    def _set_level(self, request: R, p: P) -> Any:
        rec = self._sub(p["subAcct"])
        rec.level = str(p["acctLv"])
        return self.effect(request, [{"acctLv": rec.level}])

    @handles("broker.dma.create_deposit_address")
    def _create_address(self, request: R, p: P) -> Any:
        rec, ccy = self._sub(p["subAcct"]), str(p["ccy"])
        entries = rec.addresses.setdefault(ccy, [])
        Reject.when(len(entries) >= 20, "58300")
        addr = ("bc1q" if str(p.get("addrType")) == "2" else "0x") + self.token_hex(19)
        to = str(p.get("to") or (entries[0]["to"] if entries else "6"))
        chain, ts = str(p.get("chain") or self._main_chain(ccy)), str(self.clock.now_ms())
        entry = dict(chain=chain, ccy=ccy, addr=addr, to=to, ts=ts)
        if ccy in ("EOS", "XRP"):
            entry["memo" if ccy == "EOS" else "tag"] = str(10_000_000 + len(entries))
        entries.append(entry)
        return self.effect(request, [{k: v for k, v in entry.items() if k != "to"}])

    @handles("broker.dma.modify_deposit_address")
    def _modify_address(self, request: R, p: P) -> Any:
        rec, ccy = self._sub(p["subAcct"]), str(p["ccy"])
        match = [e for e in rec.addresses.get(ccy, []) if e["addr"] == p["addr"]]
        match = [e for e in match if p.get("chain") in (None, "", e["chain"])]
        Reject.when(not match, "51000", "addr")
        for entry in (e for addrs in rec.addresses.values() for e in addrs):
            entry["to"] = str(p["to"])  # the landing account is a setting of the sub-account
        e, ts = match[0], str(self.clock.now_ms())
        answer = dict(chain=e["chain"], ccy=ccy, to=e["to"], addr=e["addr"], ts=ts)
        return self.effect(request, [answer])

    @handles("broker.dma.get_deposit_address")
    def _get_addresses(self, request: R, p: P) -> Any:
        entries = self._sub(p["subAcct"]).addresses.get(str(p["ccy"]), [])
        shown = [{k: v for k, v in e.items() if k != "ts"} for e in entries]
        return [e | {"ctAddr": "", "selected": i == 0} for i, e in enumerate(shown)]

    def _history(self, records: list[dict[str, Any]], p: Mapping[str, Any], *fields: str) -> Any:
        if p.get("type") == "3":
            return []  # the sandbox records on-chain transfers only
        out = [r for r in records if all(not p.get(f) or r.get(f) == p[f] for f in fields)]
        out = [r for r in out if not p.get("before") or int(r["ts"]) > int(p["before"])]
        out.sort(key=lambda r: int(r.get("depId") or r.get("wdId") or 0), reverse=True)
        return serve_page(HISTORY_PAGES, out, p)  # newest first, older than "after"

    @handles("broker.dma.deposit_history", "broker.dma.withdrawal_history")
    def _sub_history(self, request: R, p: P) -> Any:
        if self.endpoint_of(request) == "broker.dma.deposit_history":
            return self._history(self.deposits, p, "subAcct", "ccy", "txId", "state")
        fields = ("subAcct", "ccy", "wdId", "clientId", "txId", "state")
        return self._history(self.withdrawals, p, *fields)

    @handles("broker.dma.set_subaccount_assets")
    def _set_assets(self, request: R, p: P) -> Any:
        if not request[DEMO]:
            raise Reject("50101")  # ASSUMPTION: the endpoint exists in demo trading only
        rec, ccy = self._sub(p["subAcct"]), str(p["ccy"])
        rec.demo_assets[ccy] = amt = Decimal(_DEMO_AMOUNTS.get(ccy, "1000"))
        return self.effect(request, [{"amt": format(amt, "f"), "ccy": ccy, "subAcct": rec.name}])

    @handles("broker.dma.report_subaccount_ip")
    def _report_ip(self, request: R, p: P) -> Any:
        rec, ts = self._sub(p["subAcct"]), self.clock.now_ms()
        rec.reported_ips.append((str(p["clientIP"]), ts))
        return self.effect(request, [{"subAcct": rec.name, "ts": str(ts)}])

    # ------------------------------------------------------------ FD rebates

    def _broker_type(self, p: Mapping[str, Any]) -> str:
        bt = p.get("brokerType")
        Reject.when(bt and bt not in self.broker_types, "51000", "brokerType")
        Reject.when(not bt and len(self.broker_types) > 1, "50044")
        return str(bt or self.broker_types[0])

    def _link(self, r: RebateRecord) -> dict[str, Any]:
        now = self.clock.now()
        done = now >= r.ready_at
        href = f"https://okx-sandbox.invalid/broker/RebateDetails{r.begin}-{r.end}.csv"
        href += f"?Expires={int(now + 7200)}&Signature={self.token_hex(12)}"
        out = dict(beginTime=str(_ms(r.begin)), endTime=str(_ms(r.end)), cTime=str(r.ctime))
        ready = dict(fileHref=href, state="finished", ts=str(int(r.ready_at * 1000)))
        return out | (ready if done else dict(fileHref="", state="ongoing", ts=""))

    @handles("broker.fd.get_rebate_link")
    def _get_rebate(self, request: R, p: P) -> Any:
        bt = self._broker_type(p)
        recs = [r for r in self.rebates if r.broker_type == bt]
        if p["type"] == "false":
            recs = [r for r in recs if _ms(str(p["begin"])) <= r.ctime < _ms(str(p["end"]), 1)]
        return [self._link(r) for r in recs]

    @handles("broker.fd.generate_rebate_link")
    def _generate_rebate(self, request: R, p: P) -> Any:
        bt, begin, end = self._broker_type(p), str(p["begin"]), str(p["end"])
        same = [r for r in self.rebates if (r.begin, r.end, r.broker_type) == (begin, end, bt)]
        if same:  # asked before: the same link, no new work
            return [{"result": "true", "ts": str(same[0].ctime)}]
        ready = self.clock.now() + self.rebate_delay
        self.rebates.append(RebateRecord(begin, end, bt, self.clock.now_ms(), ready))
        return self.effect(request, [{"result": "false", "ts": str(self.rebates[-1].ctime)}])

    @handles("broker.fd.if_rebate")
    def _if_rebate(self, request: R, p: P) -> Any:
        self._broker_type(p)
        status = self.rebate_status.get(str(p["apiKey"]))
        Reject.when(status is None and str(p["apiKey"]) not in self.keys, "59506")
        base = dict(affiliated=False, brokerCode=self.broker_code, lastRebate="", type="0")
        return [base | {"clientRebateRatio": "0"} | (status or {"clientRebateRatio": "0.2"})]

    # ---------------------------------------------------------------- orders

    def _find(self, uid: str, p: Mapping[str, Any]) -> dict[str, Any] | None:
        mine = [o for o in self.orders.values() if o["_uid"] == uid and o["instId"] == p["instId"]]
        if p.get("ordId"):
            return next((o for o in mine if o["ordId"] == p["ordId"]), None)
        return next((o for o in mine if p.get("clOrdId") and o["clOrdId"] == p["clOrdId"]), None)

    def _check_size(self, inst: Mapping[str, Any], p: Mapping[str, Any], sz: str, px: str) -> None:
        """Sizes and prices against the instrument, as OKX checks them."""
        if sz and p.get("tgtCcy") != "quote_ccy":
            Reject.when(Decimal(sz) % Decimal(inst["lotSz"]), "51121")
            Reject.when(Decimal(sz) < Decimal(inst["minSz"]), "51020")
        Reject.when(px and px != "-1" and Decimal(px) % Decimal(inst["tickSz"]), "51000", "px")

    def _place(self, request: R, p: Mapping[str, Any]) -> dict[str, Any]:
        uid, now = request[PRINCIPAL].uid, str(self.clock.now_ms())
        cl, tag = str(p.get("clOrdId") or ""), str(p.get("tag") or "")
        market = p["ordType"] in ("market", "optimal_limit_ioc")
        item, px = dict(clOrdId=cl, ordId="", tag=tag, ts=now), str(p.get("px") or "")
        px = "" if market else px
        try:
            inst = self.instrument(p["instId"])
            self._check_size(inst, p, str(p["sz"]), px)
            live = [o for o in self.orders.values() if o["_uid"] == uid and o["state"] in _OPEN]
            Reject.when(cl and any(o["clOrdId"] == cl for o in live), "51016")
        except Reject as rej:
            return _failed(item, rej)
        order: P = {k: str(p[k]) for k in ("instId", "sz", "ordType", "side", "tdMode")}
        order |= dict(_uid=uid, instType=inst["instType"], ordId=self._next_id(), px=px, fee="0")
        order |= dict(state="filled" if market else "live", feeCcy="", cTime=now, uTime=now)
        order |= dict(accFillSz=order["sz"] if market else "0", clOrdId=cl, tag=tag)
        fill = "100" if market else ""
        order |= dict(avgPx=fill, fillPx=fill, posSide=str(p.get("posSide") or "net"))
        order["attachAlgoOrds"] = p.get("attachAlgoOrds")
        self.orders[order["ordId"]] = order
        order.update(_tick=self._ticks, fillSz=order["accFillSz"])
        self.order_changed(order)
        return self.effect(request, item | _done(order) | {"sMsg": "Order placed"})

    def _amend(self, request: R, p: Mapping[str, Any]) -> dict[str, Any]:
        ids = {k: str(p.get(k) or "") for k in ("clOrdId", "ordId", "reqId")}
        item, order = ids | {"ts": str(self.clock.now_ms())}, self._find(request[PRINCIPAL].uid, p)
        sz, px = str(p.get("newSz") or ""), str(p.get("newPx") or "")
        try:
            if order is None or order["state"] not in _OPEN:
                raise Reject("51503")
            self._check_size(self.instrument(order["instId"]), p, sz, px)
        except Reject as rej:
            return _failed(item, rej)
        order.update(sz=sz or order["sz"], px=px or order["px"], uTime=item["ts"])
        self.order_changed(order)
        return self.effect(request, item | _done(order))

    def _cancel(self, request: R, p: Mapping[str, Any]) -> dict[str, Any]:
        ids = {k: str(p.get(k) or "") for k in ("clOrdId", "ordId")}
        item, order = ids | {"ts": str(self.clock.now_ms())}, self._find(request[PRINCIPAL].uid, p)
        if order is None or order["state"] not in _OPEN:
            return _failed(item, Reject("51400"))
        order["state"], order["uTime"] = "canceled", item["ts"]
        self.order_changed(order)
        return self.effect(request, item | _done(order))

    @handles("trade.place_order", "trade.amend_order", "trade.cancel_order")
    @handles("trade.batch_orders", "trade.amend_batch_orders", "trade.cancel_batch_orders")
    def _orders(self, request: R, p: P) -> Any:
        """One order or a batch of up to 20, each answered with its own sCode."""
        name = self.endpoint_of(request)
        act = self._cancel if "cancel" in name else self._amend if "amend" in name else self._place
        answer = _items([act(request, item) for item in p.get("orders") or [p]])
        self.order_written()
        return answer

    @handles("trade.place_algo_order")
    def _place_algo(self, request: R, p: P) -> Any:
        uid, now = request[PRINCIPAL].uid, str(self.clock.now_ms())
        cl = str(p.get("algoClOrdId") or "")
        item = dict(algoId="", clOrdId="", algoClOrdId=cl, tag=str(p.get("tag") or ""))
        try:
            inst = self.instrument(p["instId"])
            for px in ("tpOrdPx", "slOrdPx", "orderPx", "triggerPx", "tpTriggerPx", "slTriggerPx"):
                self._check_size(inst, p, "", str(p.get(px) or ""))
            self._check_size(inst, p, str(p.get("sz") or ""), "")
            mine = (a["algoClOrdId"] for a in self.algos.values() if a["_uid"] == uid)
            Reject.when(cl and cl in mine, "51016")
        except Reject as rej:
            return _items([_failed(item, rej)])
        algo = {k: str(v) for k, v in p.items() if not isinstance(v, (list, dict))} | item
        algo |= dict(_uid=uid, algoId=self._next_id(), instType=inst["instType"], state="live")
        self.algos[algo["algoId"]] = algo | dict(cTime=now, uTime=now)
        return self.effect(request, [item | {"algoId": algo["algoId"], "sCode": "0", "sMsg": ""}])

    def _algo(self, uid: str, p: Mapping[str, Any]) -> dict[str, Any] | None:
        mine = [a for a in self.algos.values() if a["_uid"] == uid]
        if p.get("algoId"):
            return next((a for a in mine if a["algoId"] == p["algoId"]), None)
        return next((a for a in mine if a["algoClOrdId"] == p.get("algoClOrdId")), None)

    @handles("trade.cancel_algos")
    def _cancel_algos(self, request: R, p: P) -> Any:
        out = []
        for ref in p["orders"]:
            algo = self._algo(request[PRINCIPAL].uid, ref)
            item = {k: str(ref.get(k) or "") for k in ("algoId", "algoClOrdId")}
            if algo is None or algo["state"] != "live" or algo["instId"] != ref["instId"]:
                out.append(_failed(item, Reject("51400")))
            else:
                algo.update(state="canceled", uTime=str(self.clock.now_ms()))
                ids = {"algoId": algo["algoId"], "algoClOrdId": algo["algoClOrdId"]}
                out.append(self.effect(request, item | ids | {"sCode": "0", "sMsg": ""}))
        return _items(out)

    @handles("trade.get_order", "trade.get_algo_order")
    def _get(self, request: R, p: P) -> Any:
        find = self._find if self.endpoint_of(request) == "trade.get_order" else self._algo
        found = Reject.absent(find(request[PRINCIPAL].uid, p), "51603")
        return [{k: v for k, v in found.items() if not k.startswith("_")}]

    # ---------------------------------------------------------------- funding

    @handles("asset.withdrawal")
    def _withdraw(self, request: R, p: P) -> Any:
        """OKX's rules: from the funding account; on chain (dest 4) minWd..maxWd plus a fee
        in minFee..maxFee (default minFee), ``address:tag`` where the currency needs a tag;
        internal (dest 3) free; at most ``wdTickSz`` decimals."""
        ccy, amt, dest, to = str(p["ccy"]), Decimal(p["amt"]), str(p["dest"]), str(p["toAddr"])
        chain = str(p.get("chain") or self._main_chain(ccy))
        info = Reject.absent(next((c for c in self.currency(ccy) if c["chain"] == chain), None),
                             "58200", ccy, chain)  # fmt: skip
        Reject.when(not info["canWd"], "58200", ccy, chain)
        low, high = Decimal(info["minFee"]), Decimal(info["maxFee"])
        fee = Decimal(str(p.get("fee") or low)) if dest == "4" else Decimal(0)
        Reject.when(dest == "4" and not low <= fee <= high, "58211" if fee < low else "58210")
        Reject.when(dest == "4" and info["needTag"] and ":" not in to, "58221")
        if dest == "4" and not Decimal(info["minWd"]) <= amt <= Decimal(info["maxWd"]):
            raise Reject("58206" if amt < Decimal(info["minWd"]) else "58205")
        Reject.when(amt != amt.quantize(Decimal(1).scaleb(-int(info["wdTickSz"]))), "51000", "amt")
        target = self.subaccounts.get(to)
        Reject.when(dest == "3" and target is None and "@" not in to, "58213")
        wallet = self._wallet(request)
        Reject.when(wallet.get(ccy, Decimal(0)) < amt + fee, "58350")
        wallet[ccy] -= amt + fee
        if target is not None:  # an internal transfer to another sub-account lands at once
            _credit(self._wallet(request, target), ccy, amt)
        who, cid = request[PRINCIPAL], str(p.get("clientId") or "")
        sub = who.sub or "" if isinstance(who, KeyRecord) else ""
        rec = self.add_withdrawal(sub, ccy, format(amt, "f"), client_id=cid, to=to, chain=chain)
        rec |= {"fee": format(fee, "f"), "_uid": request[PRINCIPAL].uid}
        answer = {k: rec[k] for k in ("amt", "wdId", "ccy", "clientId", "chain")}
        return self.effect(request, [answer])

    @handles("asset.withdrawal_history")
    def _my_withdrawals(self, request: R, p: P) -> Any:
        mine = [r for r in self.withdrawals if r.get("_uid") == request[PRINCIPAL].uid]
        found = self._history(mine, p, "ccy", "wdId", "clientId", "txId", "state")
        return [{k: v for k, v in r.items() if k not in ("_uid", "subAcct")} for r in found]

    @handles("asset.balances")
    def _balances(self, request: R, p: P) -> Any:
        wallet = sorted(self._wallet(request).items())
        rows = [(c, format(v, "f")) for c, v in wallet if p.get("ccy") in (None, c)]
        return [dict(ccy=c, bal=v, availBal=v, frozenBal="0") for c, v in rows]

    @handles("public.time")
    def _time(self, request: R, p: P) -> Any:
        return [{"ts": str(self.clock.now_ms())}]

    @handles("oauth.token")
    def _token(self, request: R, p: P) -> Any:
        try:
            token = self.oauth.exchange(p)
        except OAuthRefusal as no:
            raise Reject(OAUTH_CODES[no.kind], "client_secret") from None
        return self.effect(request, web.json_response(self.oauth.answer(token)))


#: Entry point of ``brokerport.sandboxes``: ``okx``.
create_sandbox = OkxSandbox.factory
