"""The WhaleAPI gateway on the ``brokerport.sandbox`` toolkit: signatures, tokens, answers.

The toolkit routes every catalog endpoint (the 12 operations the vendor moved to
/v2 at both versions: :meth:`WhaleGateway.routes`), parses each request's
parameters where the catalog puts them and checks every one of them with the
client's own rules (the gateway's 400 ``invalid params``), journals, injects
faults and answers unknown paths, rate limits and its own failures in the vendor's
envelope (``codes``). What is data, not code:

* **answers**: each operation's envelope (``message``/``msg``, ``data``/``datas``,
  an integer or a string code, or none) is its :class:`~.spec.Shape`, read from
  the spec's response schemas (``responses.json``); a stateful handler returns
  only what it knows, and the rest of each required field is filled from the
  schema, so every answer of every operation validates against the spec;
* **operations that keep no state** (:data:`EXAMPLES`) are fixtures answered
  with the schema's example (a string field named like a parameter echoes it).

The signature check is written from the vendor-docs README, independently of the
client's signer. The handlers of the operations with state are in :mod:`.state`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import web
from brokerport.catalog import Endpoint, RateLimit
from brokerport.sandbox import Fixture, Reject, Sandbox, verify_digest
from brokerport.wire import Envelope

from ..catalog import MOVED_TO_V2
from ..wire import ENVELOPE, ERRORS
from . import spec

__all__ = ["EXAMPLES", "Fail", "Invalid", "Params", "WhaleGateway"]

#: the access key id a request was signed with
KEY_ID = web.RequestKey("whale_key", str)
#: seconds a request timestamp may be off the sandbox clock (ASSUMPTION: not documented)
WINDOW = 60.0
#: Operations that keep no state (reads of data the sandbox does not model, and writes
#: it accepts without modelling): the spec's example answer, no effect.
EXAMPLES = """account.auth_login_pwd account.record_agreement account.open_info
    account.bcan_info account.account_risk_and_pi_info asset.query_total_holdings
    asset.query_total_cash asset.stock_flows asset.stock_frozen_flows asset.risk_limit_info
    asset.risk_available_short_position asset.detail_info asset.query_account_risk_limit_config
    asset.overview asset.create_account_risk_limit_config asset.update_account_risk_limit_config
    asset.all_cash asset.temp_adjust fee.estimate portfolio.withdraw_banks portfolio.withdraw_pre
    portfolio.withdraw_audit_card portfolio.currency_list portfolio.converts
    transfer.transfer_out_detail transfer.transfer_out_records portfolio.rollover_detail
    portfolio.rollover_record upload_url.index ipo.list ipo.detail ipo.payable_list
    ipo.margin_list ipo.buylimit auth.session_logout message.whale_global_push_templates
    message.devices_delete search.stock bind_invite_code.index asset.hashkey_cash_list
    risk_event.temp_adjust risk_event.temp_adjust_expire portfolio.deposit_config"""


class Fail(Reject):
    """A refusal in the gateway's words: ``{code, message, data}`` with an HTTP status (by
    default the message and status ``errors.toml`` lists for the code, as the decoder reads)."""

    def __init__(
        self, code: str, message: str | None = None, status: int | None = None, data: Any = None
    ) -> None:
        super().__init__(code, message=message, status=status, data=data)


class Invalid(Fail):
    """The gateway's 400, ``invalid params: <why>`` (``Invalid.when(condition, why)``)."""

    def __init__(self, why: str, data: Any = None) -> None:
        super().__init__("400", f"invalid params: {why}", data=data)


class Params(dict[str, Any]):
    """A request's parameters as the gateway reads them: an empty value is an absent
    one (``get``), and ``p[name]`` of an absent one is its 400."""

    def __getitem__(self, name: str) -> Any:
        value = super().get(name)
        if value is None or value == "":
            raise Invalid(f"{name} is required")
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = super().get(name)
        return default if value is None or value == "" else value


class WhaleGateway(Sandbox):
    """Routing, authentication, envelopes. :class:`~.state.WhaleSandbox` adds the state."""

    vendor = "whale"
    envelope, errors = ENVELOPE, ERRORS
    #: the toolkit's own answers (unknown path or method, rate limit, faults) as codes
    codes: ClassVar[Mapping[str, str]] = {
        "not_found": "404", "method": "405", "rate_limited": "429002", "server_error": "500000",
    }  # fmt: skip
    fixtures: ClassVar[Mapping[str, Fixture]] = {n: Fixture(n) for n in EXAMPLES.split()}
    strict = True  # every parameter is checked: the catalog's operations refuse unknown ones
    #: access key id -> its record (secret, account, allow-list, tokens)
    keys: dict[str, dict[str, Any]]

    def __init__(
        self,
        *,
        rate_limit: int | None = None,
        require_token: bool = True,
        token_invalid_status: int = 401,
        **toolkit: Any,
    ) -> None:
        from ..adapter import WhaleAdapter

        catalog = WhaleAdapter.catalog()
        if rate_limit:  # requests per second per key, over every operation
            limit = RateLimit(rate_limit, 1.0, group="gateway")
            catalog = catalog.evolve({name: {"rate_limit": limit} for name in catalog})
        super().__init__(catalog, **toolkit)  # clock, enforce_rate_limits, seed
        self.require_token = require_token
        self.token_invalid_status = token_invalid_status
        self.app_key, self.app_secret, self.access_token = "whale-app-key", "whale-app-secret", ""

    # ---------------------------------------------------------- the toolkit's hooks

    def routes(self, endpoint: Endpoint) -> tuple[str, ...]:
        moved = MOVED_TO_V2.get(endpoint.name, "")  # None: its v1 path at v2
        if moved == "":
            return (endpoint.route,)
        return (endpoint.route, (moved or endpoint.path).replace("{version}", "v2"))

    def envelope_of(self, endpoint: Endpoint | None) -> Envelope | None:
        """Each operation answers in its documented variant; the gateway's refusals
        (signature, token, rate limit, faults, unknown paths) in the common one."""
        return spec.shapes().get(endpoint.name, ENVELOPE) if endpoint else ENVELOPE

    def from_fixture(self, fixture: Fixture, params: Mapping[str, Any]) -> Any:
        return spec.shapes()[fixture.key].example(params)

    def query_of(self, request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
        """A repeated query parameter is its last value."""
        return dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))

    def params_of(self, request: web.Request, endpoint: Endpoint) -> Params:
        return Params(super().params_of(request, endpoint))

    def refusal(self, endpoint: Endpoint, kind: str, field: str, detail: str = "") -> Reject:
        """Whatever is wrong with a request's parameters is the gateway's 400."""
        return Invalid(detail or "the body is not a JSON object")

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        key: str = request.get(KEY_ID, "")
        return key

    # ---------------------------------------------------------- auth

    def credentials(self) -> dict[str, str]:
        return {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "access_token": self.access_token,
        }

    def authenticate(self, request: web.Request, endpoint: Endpoint, body: bytes) -> None:
        """As the gateway: key, signature over the raw query and body, timestamp, token,
        IP allow-list (whale-endpoints.md §3-4); the rate limit follows (the toolkit's)."""
        h = request.headers
        key = self.keys.get(h.get("X-Api-Key", ""))
        if key is None or key["disable"]:
            raise Fail("403203")
        sig = h.get("X-Api-Signature", "")
        names, _, given = sig.removeprefix("HMAC-SHA256 SignedHeaders=").partition(", Signature=")
        signed = names.split(";")
        if not sig.startswith("HMAC-SHA256 ") or not {"x-api-key", "x-timestamp"} <= set(signed):
            raise Fail("403201")
        path, _, query = request.raw_path.partition("?")
        values = "".join(f"{n}:{h.get(n, '')}\n" for n in signed)
        canonical = f"{request.method}|{path}|{query}|{values}|{names}|"
        if body:
            canonical += hashlib.sha1(body).hexdigest()
        to_sign = "HMAC-SHA256|" + hashlib.sha1(canonical.encode()).hexdigest()
        expected = hmac.new(key["secret"].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        Fail.when(not verify_digest(expected, given), "403201")
        try:
            ts = float(h.get("X-Timestamp", ""))
        except ValueError:
            ts = 0.0
        if abs(self.clock.now() - ts) > WINDOW:
            raise Fail("403201", "signature invalid: timestamp expired")
        token = h.get("Authorization") if "authorization" in signed else None
        if token is not None or self.require_token:
            self.check_token(key, token or "")
        nets = key.get("ip_whitelist") or []
        Fail.when(nets and not _ip_allowed(request.remote or "", nets), "403305")
        request[KEY_ID] = key["access_key_id"]

    def check_token(self, key: dict[str, Any], token: str) -> None:
        record = next((t for t in key["tokens"] if t["token"] == token), None)
        if record is None or record["disable"]:
            raise Fail("401004", status=self.token_invalid_status)
        Fail.when(record["expires"] <= self.clock.now(), "401003")


def _ip_allowed(remote: str, nets: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(remote)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in nets)
    except ValueError:
        return False
