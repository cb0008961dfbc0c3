"""A small in-test vendor, "fakex": catalog, signer, decoder, ports, sandbox.

Used by the core test suite only. It exercises every core extension point the
way a real plugin does: an endpoint catalog as data, an HMAC signer that also
signs ``X-FX-Meta-*`` headers, an envelope decoder that raises VendorFault,
an error map, gated ports, an extension port and an aiohttp sandbox built
with the sandbox toolkit from the same catalog.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import brokerport
from aiohttp import web
from brokerport import models as m
from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.binding import bind
from brokerport.catalog import (
    Catalog,
    Endpoint,
    Param,
    RateLimit,
    int_range,
    max_len,
    one_of,
    pattern,
)
from brokerport.client import Client
from brokerport.paging import Cursor
from brokerport.pipeline import RetryPolicy
from brokerport.ports import Extension, KeyMgmtPort, SubAccountPort, TradingPort
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest, Signer, hmac_sha256_b64
from brokerport.testing.sandbox import Sandbox, json_response, verify_digest
from brokerport.transport import MockTransport, RawResponse
from brokerport.types import REDACTED, Secret

VENDOR = "fakex"

# Distinctive values so a leak anywhere is easy to find.
API_KEY = "fxkey-7f3a9c21-APIKEY"
SECRET_KEY = "fxsecret-SUPERSECRET-9b2e41d0c8"
PASSPHRASE = "fxpass-Hunter2-PASSPHRASE"
CREDENTIALS = {"api_key": API_KEY, "secret_key": SECRET_KEY, "passphrase": PASSPHRASE}
SECRETS = (API_KEY, SECRET_KEY, PASSPHRASE)

META_PREFIX = "x-fx-meta-"


def _check_price(params: Mapping[str, Any]) -> str | None:
    if params.get("type") == "limit" and not params.get("price"):
        return "a limit order needs a price"
    return None


CATALOG = Catalog(
    VENDOR,
    [
        Endpoint("ping", "GET", "/api/v1/ping", auth="public"),
        Endpoint(
            "account.get",
            "GET",
            "/api/v1/accounts/{account_id}",
            (Param("account_id", "path"),),
        ),
        Endpoint(
            "account.list",
            "GET",
            "/api/v1/accounts",
            (Param("cursor", "query"), Param("limit", "query", rules=(int_range(1, 100),))),
        ),
        Endpoint(
            "order.place",
            "POST",
            "/api/v1/orders",
            (
                Param(
                    "symbol",
                    required=True,
                    rules=(pattern(r"[A-Z]{2,10}-[A-Z]{2,10}", "must look like BASE-QUOTE"),),
                ),
                Param("side", required=True, rules=(one_of("buy", "sell"),)),
                Param("type", rules=(one_of("limit", "market"),)),
                Param("qty", required=True),
                Param("price"),
                Param("client_id", rules=(max_len(32),)),
            ),
            idempotency_param="client_id",
            check=_check_price,
        ),
        Endpoint(
            "sub.create",
            "POST",
            "/api/v1/subaccounts",
            (
                Param(
                    "name",
                    required=True,
                    rules=(pattern(r"[a-z0-9]{4,20}", "4-20 lower-case letters/digits"),),
                ),
                Param("label", rules=(max_len(16),)),
                Param("trade_password", sensitive=True),
            ),
            reconcile="list sub-accounts and look for the name",
        ),
        Endpoint(
            "sub.list",
            "GET",
            "/api/v1/subaccounts",
            (Param("cursor", "query"), Param("limit", "query")),
        ),
        Endpoint(
            "key.create",
            "POST",
            "/api/v1/keys",
            (
                Param("owner", required=True),
                Param("label", required=True),
                Param("passphrase", sensitive=True),
            ),
        ),
        Endpoint("limited", "GET", "/api/v1/limited", rate_limit=RateLimit(2, 1.0)),
        Endpoint(
            "order.replace",
            "PUT",
            "/api/v1/orders/{order_id}",
            (Param("order_id", "path"), Param("qty", required=True)),
            idempotent=True,
        ),
    ],
)


# ------------------------------------------------------------------ signing


def prehash(ts: str, method: str, path_qs: str, headers: Mapping[str, str], body: bytes) -> bytes:
    meta = "".join(
        f"{k.lower()}:{v}\n"
        for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
        if k.lower().startswith(META_PREFIX)
    )
    return (ts + method + path_qs + "\n" + meta).encode() + body


def signature(
    secret: str | Secret,
    ts: str,
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    return hmac_sha256_b64(secret, prehash(ts, method, path_qs, headers, body))


class FakexSigner(Signer):
    sensitive_headers = frozenset({"x-fx-key", "x-fx-sign", "x-fx-passphrase"})

    def __init__(self, api_key: Secret, secret: Secret, passphrase: Secret) -> None:
        self._key = api_key
        self._secret = secret
        self._passphrase = passphrase
        self.signed = 0

    def sign(self, request: PreparedRequest, now: float) -> None:
        ts = f"{now:.3f}"
        request.headers["X-FX-KEY"] = self._key.reveal()
        request.headers["X-FX-TS"] = ts
        request.headers["X-FX-PASSPHRASE"] = self._passphrase.reveal()
        request.headers["X-FX-SIGN"] = signature(
            self._secret,
            ts,
            request.method,
            request.path_with_query,
            request.headers,
            request.body or b"",
        )
        self.signed += 1

    def redacted(self) -> Mapping[str, str]:
        return {"api_key": REDACTED, "secret_key": REDACTED, "passphrase": REDACTED}


# ------------------------------------------------------------------- ports


class FakexSubs(SubAccountPort):
    create = bind("sub.create", params={"name": "name", "label": "label"}, into=m.SubAccount)
    list = bind(
        "sub.list",
        page=Cursor(param="cursor", next="next", items="items", as_text=False),
        into=m.SubAccount,
    )

    # Implemented but NOT declared in operations: the gate must hide it.
    async def delete(self, request: m.SubAccountRef) -> m.Ack:  # pragma: no cover - gated
        await self.client.invoke("sub.create", {"name": request.name})
        return m.Ack()


class FakexKeys(KeyMgmtPort):
    create = bind(
        "key.create",
        params={"owner": "owner", "label": "label", "passphrase": "passphrase"},
        into=m.ApiKey,
    )


class FakexTrading(TradingPort):
    place_order = bind(
        "order.place",
        params={
            "symbol": "instrument",
            "side": "side",
            "type": "order_type",
            "qty": "quantity",
            "price": "price",
            "client_id": "client_order_id",
        },
        into=m.OrderAck,
    )


class FakexTools(Extension):
    port_name = "fakex.tools"

    async def ping(self) -> Any:
        return await self.client.call("ping")


# ----------------------------------------------------------------- adapter


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


class Fakex(Adapter):
    name = VENDOR
    version = "0.1"
    description = "in-test vendor"
    operations = frozenset(
        {"subaccounts.create", "subaccounts.list", "keys.create", "trading.place_order"}
    )
    ports = {"subaccounts": FakexSubs, "keys": FakexKeys, "trading": FakexTrading}  # noqa: RUF012
    extensions = {"fakex.tools": FakexTools}  # noqa: RUF012
    error_map = ErrorMap(
        {
            "50011": brokerport.RateLimited,
            "50113": brokerport.AuthenticationError,
            "51000": brokerport.InvalidRequest,
            "51008": brokerport.InsufficientFunds,
            "51603": brokerport.NotFound,
            "59000": brokerport.Conflict,
        }
    )
    sandbox = VENDOR

    @classmethod
    def build_catalog(cls) -> Catalog:
        return CATALOG

    def create_signer(self) -> Signer:
        p = self.profile
        return FakexSigner(
            p.credential("api_key"), p.credential("secret_key"), p.credential("passphrase")
        )

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        data = parse_json(response, vendor=self.name)
        code = str(data["code"])  # KeyError/TypeError on a wrong shape: the core must map it
        if code != "0":
            ra = _header(response.headers, "Retry-After")
            raise VendorFault(
                code,
                data.get("msg", ""),
                http_status=response.status,
                retry_after=float(ra) if ra else None,
            )
        return data["data"]


# ----------------------------------------------------------------- sandbox


class FakexSandbox(Sandbox):
    vendor = VENDOR

    def __init__(self, *, check_timestamps: bool = True, **kw: Any) -> None:
        super().__init__(CATALOG, **kw)
        self.check_timestamps = check_timestamps
        self.orders: dict[str, dict[str, Any]] = {}
        self.subs: dict[str, dict[str, Any]] = {}
        for name, handler in {
            "ping": self.ping,
            "account.get": self.account_get,
            "account.list": self.account_list,
            "order.place": self.order_place,
            "sub.create": self.sub_create,
            "sub.list": self.sub_list,
            "key.create": self.key_create,
            "limited": self.limited,
            "order.replace": self.order_replace,
        }.items():
            self.add_route(name, handler)

    def credentials(self) -> dict[str, str]:
        return dict(CREDENTIALS)

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        if endpoint.auth == "public":
            return None
        h = request.headers
        if h.get("X-FX-KEY") != API_KEY or h.get("X-FX-PASSPHRASE") != PASSPHRASE:
            return json_response({"code": "50113", "msg": "Invalid key"}, 401)
        ts = h.get("X-FX-TS", "")
        expected = signature(SECRET_KEY, ts, request.method, request.path_qs, dict(h), body)
        if not verify_digest(expected, h.get("X-FX-SIGN")):
            return json_response({"code": "50113", "msg": "Invalid signature"}, 401)
        if self.check_timestamps:
            try:
                skew = abs(float(ts) - self.clock.now())
            except ValueError:
                skew = 1e9
            if skew > 30:
                return json_response({"code": "50113", "msg": "Timestamp expired"}, 401)
        return None

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        return json_response(
            {"code": "50011", "msg": "Too Many Requests"}, 429, headers={"Retry-After": "0.05"}
        )

    def server_error(self, status: int) -> web.StreamResponse:
        return json_response({"code": "50001", "msg": "Service temporarily unavailable"}, status)

    @staticmethod
    def ok(data: Any) -> web.Response:
        return json_response({"code": "0", "msg": "", "data": data})

    async def ping(self, request: web.Request) -> web.StreamResponse:
        return self.ok({"pong": True})

    async def limited(self, request: web.Request) -> web.StreamResponse:
        return self.ok({"ok": True})

    async def account_get(self, request: web.Request) -> web.StreamResponse:
        acct = request.match_info["account_id"]
        if acct == "missing":
            return json_response({"code": "51603", "msg": "Account does not exist"}, 200)
        return self.ok({"account_id": acct, "balance": Decimal("1234.5600"), "currency": "USD"})

    async def account_list(self, request: web.Request) -> web.StreamResponse:
        return self.ok({"items": [{"account_id": "a1"}], "next": None})

    async def order_place(self, request: web.Request) -> web.StreamResponse:
        body = self.json_of(request)
        cid = body.get("client_id")
        if cid in self.orders:
            return json_response({"code": "59000", "msg": "Duplicate client_id"})
        order_id = f"ord-{len(self.orders) + 1}"
        self.orders[cid] = {"order_id": order_id, **body}
        self.mark_effect(request)
        return self.ok({"order_id": order_id, "client_order_id": cid, "status": "live"})

    async def order_replace(self, request: web.Request) -> web.StreamResponse:
        return self.ok({"order_id": request.match_info["order_id"], "status": "live"})

    async def sub_create(self, request: web.Request) -> web.StreamResponse:
        body = self.json_of(request)
        name = body["name"]
        if name in self.subs:
            return json_response({"code": "59000", "msg": "Sub-account exists"})
        self.subs[name] = {
            "name": name,
            "label": body.get("label"),
            "created_at": self.clock.now_ms(),
        }
        self.mark_effect(request)
        return self.ok(self.subs[name])

    async def sub_list(self, request: web.Request) -> web.StreamResponse:
        return self.ok({"items": list(self.subs.values()), "next": None})

    async def key_create(self, request: web.Request) -> web.StreamResponse:
        body = self.json_of(request)
        self.mark_effect(request)
        return self.ok(
            {
                "api_key": "fxkey-new-0001",
                "owner": body["owner"],
                "label": body["label"],
                "secret_key": "fxsecret-NEWKEY-5ca1ab1e",
            }
        )


def create_sandbox(**options: Any) -> FakexSandbox:
    return FakexSandbox(**options)


# ----------------------------------------------------------------- helpers


def profile(base_url: str | None = "http://fakex.invalid", **options: str) -> Profile:
    return Profile(
        vendor=VENDOR, name="test", base_url=base_url, credentials=CREDENTIALS, options=options
    )


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


def envelope(data: Any, *, code: str = "0", msg: str = "") -> bytes:
    from brokerport.testing.sandbox import dumps_json

    return dumps_json({"code": code, "msg": msg, "data": data})


def ok_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> RawResponse:
    return RawResponse(
        status, {"Content-Type": "application/json", **(headers or {})}, envelope(data)
    )


def raw(
    body: bytes | str, status: int = 200, content_type: str = "application/json"
) -> RawResponse:
    return RawResponse(
        status, {"Content-Type": content_type}, body.encode() if isinstance(body, str) else body
    )


def mock_client(
    handler: Callable[[PreparedRequest], Any], **kw: Any
) -> tuple[Client, MockTransport]:
    transport = MockTransport(handler)
    kw.setdefault("retry", FAST_RETRY)
    return Client(Fakex, profile(), transport=transport, **kw), transport


def never_called(request: PreparedRequest) -> RawResponse:  # pragma: no cover - must not run
    raise AssertionError(f"no request should be sent, got {request!r}")


def body_json(request: PreparedRequest) -> Any:
    return json.loads(request.body or b"{}")
