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
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    VendorUnavailable,
)

# the catalog and attrs, the signer (.signing), the error table (errors.toml) and the
# envelopes (.wire) load when a client is made, not when plugins are listed
# (bench/startup.py); the names below that live there resolve on first use
if TYPE_CHECKING:
    from brokerport.catalog import Catalog, Endpoint
    from brokerport.profile import Profile
    from brokerport.signing import PreparedRequest, Signer
    from brokerport.transport import RawResponse

    from .signing import WhaleSigner, string_to_sign
    from .wire import WhaleEnvelope, decode_envelope

    #: vendor code -> (error class, meaning): ``errors.toml`` (shared with the sandbox)
    CODES: dict[str, tuple[type[BrokerportError], str]]

__all__ = ["CODES", "WhaleAdapter", "WhaleSigner", "decode_envelope", "string_to_sign"]


def __getattr__(name: str) -> Any:
    value: Any
    if name == "CODES":
        from .wire import ERRORS

        value = {code: (e.error, e.doc or e.message) for code, e in ERRORS.items()}
    elif name in ("WhaleSigner", "string_to_sign"):
        from . import signing

        value = getattr(signing, name)
    elif name == "decode_envelope":
        from .wire import decode_envelope as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def error_map() -> ErrorMap:
    """The table's codes (a profile's ``error_codes`` option adds codes: core Adapter)."""
    from .wire import ERRORS

    return ERRORS.error_map(by_status={408: VendorUnavailable})


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
    sandbox = "whale"
    samples = "brokerport_whale:samples.toml"  # sample data for the conformance kit and demo

    @classmethod
    def build_catalog(cls) -> Catalog:
        from brokerport.catalog import Catalog

        return Catalog.load("brokerport_whale")  # catalog.json, built from catalog/overlay.toml

    @classmethod
    def build_error_map(cls) -> ErrorMap:
        return error_map()

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        from .wire import BARE, BARE_ENVELOPE, ENVELOPE

        #: ``{code, message, data}`` (:data:`brokerport_whale.wire.ENVELOPE`), and the
        #: operations documented without one (``BARE``, read with ``BARE_ENVELOPE``)
        self.envelope: WhaleEnvelope = ENVELOPE
        self._bare: tuple[frozenset[str], WhaleEnvelope] = (BARE, BARE_ENVELOPE)

    def create_signer(self) -> Signer:
        from urllib.parse import urlsplit

        from .signing import WhaleSigner

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
            bare, bare_envelope = self._bare
            envelope = bare_envelope if endpoint.name in bare else self.envelope
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
