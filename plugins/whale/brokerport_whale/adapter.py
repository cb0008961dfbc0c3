"""The WhaleAPI adapter: gateway signer, ``{code, message, data}`` decoder, error map.

Profile
-------
credentials
    ``app_key`` (``X-Api-Key``; an access key id works too), ``app_secret``
    (signs, never sent), ``access_token`` (the raw ``Authorization`` token;
    optional: without it the signed headers are ``x-api-key;x-timestamp``).
options
    ``accept_language``, ``platform``, ``app_version``: passthrough headers
    (``accept-language``, ``x-platform``, ``x-app-version``) sent on every call;
    ``account_no`` / ``member_id``: defaults for port requests that do not name
    them; ``path_versions``: ``name=v2,...`` or ``moved`` (the 12 operations the
    vendor's newer spec moved to /v2); ``token_ttl_days`` (default 30) for
    ``keys.renew_token``; ``error_codes`` (``CODE=ClassName,...``). See the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.catalog import Catalog, Endpoint
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    VendorUnavailable,
)
from brokerport.signing import PreparedRequest, Signer
from brokerport.types import REDACTED, Secret

from .wire import BARE, BARE_ENVELOPE, ENVELOPE, ERRORS, decode_envelope

if TYPE_CHECKING:
    from brokerport.profile import Profile
    from brokerport.transport import RawResponse

__all__ = ["CODES", "WhaleAdapter", "WhaleSigner", "decode_envelope", "string_to_sign"]

#: vendor code -> (error class, meaning): ``errors.toml`` (shared with the sandbox)
CODES: dict[str, tuple[type[BrokerportError], str]] = {
    code: (e.error, e.doc or e.message) for code, e in ERRORS.items()
}
_CLASSES: dict[str, type[BrokerportError]] = {
    c.__name__: c
    for c in (
        AuthenticationError,
        BrokerportError,
        Conflict,
        InvalidRequest,
        NotFound,
        PermissionDenied,
        RateLimited,
        VendorUnavailable,
    )
}  # fmt: skip


def error_map() -> ErrorMap:
    """The table's codes (a profile's ``error_codes`` option adds codes: core Adapter)."""
    return ERRORS.error_map(by_status={408: VendorUnavailable})


def string_to_sign(
    method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The vendor's canonical request (vendor-docs README, WhaleAPI), hashed as it says:
    ``"HMAC-SHA256|" + hex(sha1(METHOD|path|query|values|names|[sha1(body)]))``.

    ``headers``: the signed ones, lower-case names in order (authorization only
    when there is a token)."""
    import hashlib

    names = ";".join(headers)
    values = "".join(f"{k}:{v}\n" for k, v in headers.items())
    canonical = f"{method}|{path}|{query}|{values}|{names}|"
    if body is not None:
        canonical += hashlib.sha1(body).hexdigest()
    return ("HMAC-SHA256|" + hashlib.sha1(canonical.encode()).hexdigest()).encode()


class WhaleSigner(Signer):
    """``X-Api-Key``, raw ``Authorization`` token, ``X-Timestamp`` (whole seconds) and
    ``X-Api-Signature`` over the exact query text and body bytes sent."""

    sensitive_headers = frozenset({"authorization", "x-api-signature"})

    def __init__(self, key: Secret, secret: Secret, token: Secret | None, prefix: str) -> None:
        self.key = key
        self._secret = secret
        #: the token signed with; ``keys.renew_token`` swaps it (the old one dies at once)
        self.token = token
        self._prefix = prefix  # the base URL's own path, part of the signed path

    def sign(self, request: PreparedRequest, now: float) -> None:
        from brokerport.signing import hmac_sha256_hex

        ts = str(int(now))
        signed = {"x-api-key": self.key.reveal(), "x-timestamp": ts}
        if self.token:
            signed = {"authorization": self.token.reveal(), **signed}
        path = self._prefix + request.path
        message = string_to_sign(request.method, path, request.query, signed, request.body)
        headers = request.headers
        headers["X-Api-Key"] = signed["x-api-key"]
        if self.token:
            headers["Authorization"] = signed["authorization"]
        headers["X-Timestamp"] = ts
        if headers.get("Content-Type", "").startswith("application/json"):
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers["X-Api-Signature"] = (
            f"HMAC-SHA256 SignedHeaders={';'.join(signed)}, "
            f"Signature={hmac_sha256_hex(self._secret, message)}"
        )

    def redacted(self) -> Mapping[str, str]:
        """The rate-limit scope is the key's fingerprint (the key is a credential too)."""
        import hashlib

        scope = "whale:" + hashlib.sha256(self.key.reveal().encode()).hexdigest()[:12]
        return {"scope": scope, "app_key": REDACTED, "token": REDACTED}

    def __repr__(self) -> str:
        return "WhaleSigner(key=***, token=***)"


class WhaleAdapter(Adapter):
    """WhaleAPI (LongBridge Whale): accounts, funding, trading, keys, and 9 extensions."""

    name = "whale"
    version = "0.1.0"
    description = "WhaleAPI securities-broker SaaS (LongBridge Whale OpenAPI)"
    # fmt: off
    operations = frozenset({
        "accounts.list", "accounts.get", "accounts.open_live", "accounts.update_profile",
        "accounts.set_trade_password", "accounts.get_trade_permissions",
        "accounts.update_trade_permissions", "accounts.set_state", "accounts.close",
        "funding.balances", "funding.request_deposit", "funding.cancel_deposit",
        "funding.request_withdrawal", "funding.cancel_withdrawal", "funding.deposit_history",
        "funding.withdrawal_history", "funding.cash_ledger", "funding.list_payees",
        "funding.add_payee", "funding.update_payee", "funding.delete_payee",
        "funding.exchange_rate",
        "trading.place_order", "trading.amend_order", "trading.cancel_order",
        "trading.get_order", "trading.open_orders", "trading.order_history", "trading.fills",
        "trading.positions", "trading.buying_power",
        "keys.create", "keys.list", "keys.update", "keys.disable", "keys.enable",
        "keys.renew_token", "keys.revoke_token",
        "streams.orders",  # wt-wstream: the trade websocket (brokerport_whale.streams)
    })
    ports: ClassVar[Mapping[str, str]] = {
        p: f"brokerport_whale.ports:Whale{p.title()}"
        for p in ("accounts", "funding", "trading", "keys")
    } | {"streams": "brokerport_whale.streams:WhaleStreams"}  # wt-wstream: the order stream
    extensions: ClassVar[Mapping[str, str]] = {
        f"whale.{x}": f"brokerport_whale.extensions:{x.title()}"
        for x in ("ipo", "members", "ledger", "transfers", "messages", "rewards", "search",
                  "fees", "files")
    }
    # fmt: on
    error_map: ClassVar[ErrorMap] = error_map()
    sandbox = "whale"
    samples = "brokerport_whale:samples.toml"  # sample data for the conformance kit and demo

    @classmethod
    def build_catalog(cls) -> Catalog:
        return Catalog.load("brokerport_whale")  # catalog.json, built from catalog/overlay.toml

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)

    def create_signer(self) -> Signer:
        from urllib.parse import urlsplit

        creds = self.profile.credentials
        key, secret = creds.get("app_key"), creds.get("app_secret")
        if not key or not secret:
            raise AuthenticationError(
                "whale needs credentials app_key and app_secret (and usually access_token)",
                vendor=self.name,
            )
        prefix = urlsplit(self.base_url).path.rstrip("/")
        return WhaleSigner(key, secret, creds.get("access_token") or None, prefix)

    def mint_idempotency_key(self, endpoint: Endpoint) -> str:
        """A UUID (send_reward wants one; it fits the 64-character remark too)."""
        import os
        import uuid

        return str(uuid.UUID(bytes=os.urandom(16), version=4))

    def build_request(
        self, endpoint: Endpoint, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> PreparedRequest:
        """The passthrough headers of this client's profile join every request."""
        out = dict(headers)
        for option, header in _PASSTHROUGH:
            value = self.profile.option(option)
            if value and header not in out:
                out[header] = value
        return super().build_request(endpoint, params, out)

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        doc = parse_json(response, vendor=self.name)
        if b' ":' in response.body:  # a key with a trailing space (two in the spec)
            _alias_spaced_keys(doc)
        try:
            envelope = BARE_ENVELOPE if endpoint.name in BARE else ENVELOPE
            return envelope.unwrap(doc, http_status=response.status, vendor=self.name)
        except VendorFault as fault:
            err = self.error_map.error(fault, vendor=self.name, endpoint=endpoint.name)
            err.http_status = response.status
            details: dict[str, Any] = {}
            trace = response.headers.get("x-trace-id")
            if trace:
                details["trace_id"] = trace
            if isinstance(fault.data, dict) and fault.data.get("failure_index") is not None:
                # present (0 included) is an index; absent is "unset" (account-level errors)
                details["failure_index"] = int(fault.data["failure_index"])
            err.details = details
            raise err from None

    def endpoint(self, name: str) -> Endpoint:
        """``path_versions = "moved"``: the 12 operations at their /v2 paths."""
        from .catalog import MOVED_TO_V2

        if self.profile.option("path_versions") == "moved":
            endpoint = self.catalog()[name]
            if name not in MOVED_TO_V2:
                return endpoint
            import attrs

            path = MOVED_TO_V2[name] or endpoint.path
            return attrs.evolve(endpoint, path=path, version="v2")
        return super().endpoint(name)


def _alias_spaced_keys(node: Any) -> None:
    """``"status  "`` is also readable as ``"status"`` (the vendor's key is kept)."""
    if isinstance(node, dict):
        for key in [k for k in node if isinstance(k, str) and k != k.strip()]:
            node.setdefault(key.strip(), node[key])
        for value in node.values():
            _alias_spaced_keys(value)
    elif isinstance(node, list):
        for item in node:
            _alias_spaced_keys(item)


_PASSTHROUGH = (
    ("accept_language", "accept-language"),
    ("platform", "x-platform"),
    ("app_version", "x-app-version"),
)
