"""The OKX V5 broker-program endpoint catalog, as data.

Every endpoint of the OKX broker document (vendor-docs/004) is here, plus the
order endpoints the broker code goes into, the public time endpoint (clock
resync) and the OAuth token endpoint. Each carries its documented rate limit
(counted per user id) and every documented parameter rule, so a raw
``client.call`` is checked before any I/O exactly like a port call, and the
sandbox registers its routes and validates its input from the same data.

Where the document is silent the choice is marked ``ASSUMPTION`` and listed in
the plugin README.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from brokerport.catalog import Catalog, Endpoint, Param, RateLimit, Rule, int_range, one_of, pattern

__all__ = [
    "ENDPOINT_PERMISSION",
    "OAUTH_TOKEN_PATH",
    "build_catalog",
    "check_passphrase",
    "check_subaccount_name",
]

#: ASSUMPTION: the document names the OAuth token exchange but not its path;
#: OKX's public OAuth material uses this one. Overridable with the profile
#: option ``oauth_token_path``.
OAUTH_TOKEN_PATH: Final = "/v5/users/oauth/token"

# ------------------------------------------------------------------ rules

_NAME = re.compile(r"[A-Za-z0-9]{6,20}")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_DATE = re.compile(r"\d{8}")
_MS = re.compile(r"\d{1,16}")

PERMISSIONS: Final = ("read_only", "trade", "withdraw")


def check_subaccount_name(value: Any) -> str | None:
    """6–20 letters (case-sensitive) or digits; all letters is fine, all digits is not."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        return "must be 6-20 letters or digits"
    if value.isdigit():
        return "must not be all digits"
    return None


def check_label(value: Any) -> str | None:
    """At most 50 letters (case-sensitive) or digits."""
    if not isinstance(value, str) or not _ALNUM.fullmatch(value):
        return "must be letters or digits only"
    if len(value) > 50:
        return "at most 50 characters"
    return None


def check_passphrase(value: Any) -> str | None:
    """8–32 characters with at least one digit, upper-case, lower-case and special character.

    The value may be a :class:`brokerport.Secret`; it is never echoed back.
    """
    text = value.reveal() if hasattr(value, "reveal") else value
    if not isinstance(text, str):
        return "must be a string"
    if not 8 <= len(text) <= 32:
        return "must be 8-32 characters"
    if any(c.isspace() for c in text):
        return "must not contain spaces"
    if not re.search(r"[0-9]", text):
        return "needs at least one digit"
    if not re.search(r"[A-Z]", text):
        return "needs at least one upper-case letter"
    if not re.search(r"[a-z]", text):
        return "needs at least one lower-case letter"
    if not re.search(r"[^A-Za-z0-9]", text):
        return "needs at least one special character"
    return None


def _split(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value).split(",")]


def check_ips(value: Any) -> str | None:
    """Comma-separated IP addresses, at most 20."""
    ips = _split(value)
    if len(ips) > 20:
        return "at most 20 IP addresses"
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return f"not an IP address: {ip!r}"
    if len(set(ips)) != len(ips):
        return "duplicate IP address"
    return None


def check_ip(value: Any) -> str | None:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return "not an IP address"
    return None


def check_perm(value: Any) -> str | None:
    """Comma-separated subset of read_only, trade, withdraw."""
    perms = _split(value)
    for p in perms:
        if p not in PERMISSIONS:
            return f"unknown permission {p!r}; allowed: {', '.join(PERMISSIONS)}"
    if len(set(perms)) != len(perms):
        return "duplicate permission"
    return None


def check_date(value: Any) -> str | None:
    """A calendar date written YYYYMMdd."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return "must be a date written YYYYMMdd"
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return "not a calendar date (YYYYMMdd)"
    return None


def check_decimal(value: Any) -> str | None:
    """A positive decimal amount (str or Decimal, never float)."""
    if isinstance(value, (bool, float)):
        return "must be a Decimal or str"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return "not a decimal number"
    if not d.is_finite() or d <= 0:
        return "must be greater than zero"
    return None


def check_ms(value: Any) -> str | None:
    """A Unix timestamp in milliseconds."""
    return None if _MS.fullmatch(str(value)) else "must be a Unix timestamp in milliseconds"


def check_positive_int(value: Any) -> str | None:
    text = str(value)
    return None if text.isdigit() and int(text) >= 1 else "must be a positive integer"


def _clord_rule() -> Rule:
    return pattern(r"[A-Za-z0-9]{1,32}", "must be 1-32 letters or digits")


UPPER_CCY: Final[Rule] = pattern(r"[A-Z0-9]{1,32}", "must be an upper-case currency code, e.g. BTC")
LIMIT_100: Final[Rule] = int_range(1, 100)
BROKER_TYPE: Final[Rule] = one_of("api", "oauth")

# ------------------------------------------------------------ whole-request checks


def _present(params: Mapping[str, Any], name: str) -> bool:
    v = params.get(name)
    return v is not None and v != ""


def _check_deposit_address(params: Mapping[str, Any]) -> str | None:
    if str(params.get("addrType", "")) == "2" and params.get("ccy") not in ("BTC", "LTC"):
        return "addrType 2 (SegWit) applies to BTC and LTC only"
    return None


def _check_rebate_get(params: Mapping[str, Any]) -> str | None:
    kind = str(params.get("type", ""))
    if kind == "false":
        for name in ("begin", "end"):
            if not _present(params, name):
                return f"{name} is required when type is false"
    return _check_date_range(params)


def _check_date_range(params: Mapping[str, Any]) -> str | None:
    begin, end = params.get("begin"), params.get("end")
    if _present(params, "begin") and _present(params, "end") and str(begin) > str(end):
        return "begin must not be after end"
    return None


def _check_order_ref(params: Mapping[str, Any]) -> str | None:
    if not (_present(params, "ordId") or _present(params, "clOrdId")):
        return "ordId or clOrdId is required"
    return None


_PRICED = frozenset({"limit", "post_only", "fok", "ioc", "mmp", "mmp_and_post_only"})


def _check_place_order(params: Mapping[str, Any]) -> str | None:
    if params.get("ordType") in _PRICED and not (
        _present(params, "px") or _present(params, "pxUsd") or _present(params, "pxVol")
    ):
        return f"px is required for ordType {params.get('ordType')}"
    return None


def _check_amend(params: Mapping[str, Any]) -> str | None:
    problem = _check_order_ref(params)
    if problem:
        return problem
    if not (_present(params, "newSz") or _present(params, "newPx")):
        return "newSz or newPx is required"
    return None


def _check_oauth(params: Mapping[str, Any]) -> str | None:
    grant = params.get("grant_type")
    if grant == "authorization_code" and not _present(params, "code"):
        return "code is required for grant_type authorization_code"
    if grant == "refresh_token" and not _present(params, "refresh_token"):
        return "refresh_token is required for grant_type refresh_token"
    return None


# ---------------------------------------------------------------- endpoints


def _q(name: str, *rules: Rule, required: bool = False, doc: str = "") -> Param:
    return Param(name, "query", required=required, rules=tuple(rules), doc=doc)


def _b(
    name: str, *rules: Rule, required: bool = False, sensitive: bool = False, doc: str = ""
) -> Param:
    return Param(name, "body", required=required, rules=tuple(rules), sensitive=sensitive, doc=doc)


PER_S_40 = RateLimit(40, 1.0)
PER_S_10 = RateLimit(10, 1.0)
PER_S_6 = RateLimit(6, 1.0)
PER_2S_5 = RateLimit(5, 2.0)
PER_S_1 = RateLimit(1, 1.0)
PER_MIN_2 = RateLimit(2, 60.0)
PER_H_1 = RateLimit(1, 3600.0)
#: ASSUMPTION (not in the broker document): OKX's public spec gives the order
#: endpoints 60 requests / 2 s and public time 10 requests / 2 s.
PER_2S_60 = RateLimit(60, 2.0)
PER_2S_10 = RateLimit(10, 2.0)

_SUB_NAME = check_subaccount_name
_ORDER_TAG: Final[Rule] = pattern(r"[A-Za-z0-9]{1,16}", "must be 1-16 letters or digits")
_DEP_STATES = ("0", "1", "2", "8", "11", "12", "13", "14")
_WD_STATES = ("10", "0", "4", "5", "6", "8", "9", "12", "7", "1", "15", "16", "-3", "-2", "-1", "2")


def _endpoints(oauth_token_path: str) -> list[Endpoint]:
    return [
        # ---------------------------------------------------------------- DMA
        Endpoint(
            "broker.dma.create_subaccount",
            "POST",
            "/api/v5/broker/dma/create-subaccount",
            (
                _b("subAcct", _SUB_NAME, required=True),
                _b("label", check_label),
                _b("clientIP", check_ip),
                _b("mainAcct", _SUB_NAME),
            ),
            rate_limit=PER_S_40,
            tags=frozenset({"trade"}),
            reconcile="list sub-accounts (broker.dma.subaccount_info) by subAcct",
            doc="Create a sub-account under the broker master account.",
        ),
        Endpoint(
            "broker.dma.delete_subaccount",
            "POST",
            "/api/v5/broker/dma/delete-subaccount",
            (_b("subAcct", required=True),),
            rate_limit=PER_S_10,
            tags=frozenset({"trade"}),
            reconcile="list sub-accounts (broker.dma.subaccount_info) by subAcct",
            doc="Delete a sub-account (its funds must be moved out first).",
        ),
        Endpoint(
            "broker.dma.subaccount_info",
            "GET",
            "/api/v5/broker/dma/subaccount-info",
            (_q("subAcct"), _q("uid"), _q("page", check_positive_int), _q("limit", LIMIT_100)),
            rate_limit=PER_S_1,
            tags=frozenset({"read"}),
            doc="List sub-accounts, paged (page, limit <= 100).",
        ),
        Endpoint(
            "broker.dma.subaccount_trade_fee",
            "GET",
            "/api/v5/broker/dma/subaccount-trade-fee",
            (_q("subAcct"), _q("uid"), _q("page", check_positive_int), _q("limit", LIMIT_100)),
            rate_limit=PER_S_1,
            tags=frozenset({"read"}),
            doc="Trade fee rates of sub-accounts, paged.",
        ),
        Endpoint(
            "broker.dma.create_apikey",
            "POST",
            "/api/v5/broker/dma/subaccount/apikey",
            (
                _b("subAcct", _SUB_NAME, required=True),
                _b("label", check_label, required=True),
                _b("passphrase", check_passphrase, required=True, sensitive=True),
                _b("ip", check_ips),
                _b("perm", check_perm),
            ),
            rate_limit=PER_S_40,
            tags=frozenset({"trade"}),
            reconcile="query the sub-account's keys (broker.dma.get_apikey) by label",
            doc="Create an API key for a sub-account; the answer holds its secret.",
        ),
        Endpoint(
            "broker.dma.get_apikey",
            "GET",
            "/api/v5/broker/dma/subaccount/apikey",
            (_q("subAcct", required=True), _q("apiKey")),
            rate_limit=PER_S_1,
            tags=frozenset({"read"}),
            doc="Query a sub-account's API keys.",
        ),
        Endpoint(
            "broker.dma.modify_apikey",
            "POST",
            "/api/v5/broker/dma/subaccount/modify-apikey",
            (
                _b("subAcct", required=True),
                _b("apiKey", required=True),
                _b("label", check_label),
                _b("perm", check_perm),
                _b("ip", check_ips),
            ),
            rate_limit=PER_S_10,
            tags=frozenset({"trade"}),
            idempotent=True,
            doc="Reset a sub-account key's label, permissions or IPs (given fields are replaced).",
        ),
        Endpoint(
            "broker.dma.delete_apikey",
            "POST",
            "/api/v5/broker/dma/subaccount/delete-apikey",
            (_b("subAcct", required=True), _b("apiKey", required=True)),
            rate_limit=PER_S_10,
            tags=frozenset({"trade"}),
            reconcile="query the sub-account's keys (broker.dma.get_apikey)",
            doc="Delete a sub-account's API key.",
        ),
        Endpoint(
            "broker.dma.set_subaccount_level",
            "POST",
            "/api/v5/broker/dma/set-subaccount-level",
            (_b("subAcct", required=True), _b("acctLv", one_of(1, 2, 3, 4), required=True)),
            rate_limit=PER_2S_5,
            tags=frozenset({"trade"}),
            idempotent=True,
            doc="Set a sub-account's account level (1 spot, 2 spot+futures, 3 multi-currency "
            "margin, 4 portfolio margin).",
        ),
        Endpoint(
            "broker.dma.create_deposit_address",
            "POST",
            "/api/v5/asset/broker/dma/subaccount-deposit-address",
            (
                _b("subAcct", required=True),
                _b("ccy", UPPER_CCY, required=True),
                _b("chain"),
                _b("addrType", one_of(1, 2)),
                _b("to", one_of(6, 18)),
            ),
            check=_check_deposit_address,
            rate_limit=PER_S_10,
            tags=frozenset({"trade"}),
            reconcile="get the sub-account's deposit addresses (broker.dma.get_deposit_address)",
            doc="Create a deposit address for a sub-account (at most 20 per currency).",
        ),
        Endpoint(
            "broker.dma.modify_deposit_address",
            "POST",
            "/api/v5/asset/broker/dma/modify-subaccount-deposit-address",
            (
                _b("subAcct", required=True),
                _b("ccy", UPPER_CCY, required=True),
                _b("chain"),
                _b("addr", required=True),
                _b("to", one_of(6, 18), required=True),
            ),
            rate_limit=PER_S_6,
            tags=frozenset({"trade"}),
            idempotent=True,
            doc="Change where a sub-account's deposits land (6 funding, 18 trading).",
        ),
        Endpoint(
            "broker.dma.get_deposit_address",
            "GET",
            "/api/v5/asset/broker/dma/subaccount-deposit-address",
            (_q("subAcct", required=True), _q("ccy", UPPER_CCY, required=True)),
            rate_limit=PER_S_6,
            tags=frozenset({"read"}),
            doc="A sub-account's deposit addresses for one currency.",
        ),
        Endpoint(
            "broker.dma.deposit_history",
            "GET",
            "/api/v5/asset/broker/dma/subaccount-deposit-history",
            (
                _q("subAcct"),
                _q("ccy"),
                _q("txId"),
                _q("type", one_of(3, 4)),
                _q("state", one_of(*_DEP_STATES)),
                _q("after", check_ms),
                _q("before", check_ms),
                _q("limit", LIMIT_100),
            ),
            rate_limit=PER_2S_5,
            tags=frozenset({"read"}),
            doc="Sub-account deposit records, newest first (limit <= 100).",
        ),
        Endpoint(
            "broker.dma.withdrawal_history",
            "GET",
            "/api/v5/asset/broker/dma/subaccount-withdrawal-history",
            (
                _q("subAcct"),
                _q("ccy"),
                _q("wdId"),
                _q("clientId", _clord_rule()),
                _q("txId"),
                _q("type", one_of(3, 4)),
                _q("state", one_of(*_WD_STATES)),
                _q("after", check_ms),
                _q("before", check_ms),
                _q("limit", LIMIT_100),
            ),
            rate_limit=PER_2S_5,
            tags=frozenset({"read"}),
            doc="Sub-account withdrawal records, newest first (limit <= 100).",
        ),
        Endpoint(
            "broker.dma.set_subaccount_assets",
            "POST",
            "/api/v5/broker/dma/set-subaccount-assets",
            (_b("subAcct", required=True), _b("ccy", UPPER_CCY, required=True)),
            rate_limit=PER_S_40,
            tags=frozenset({"trade", "demo"}),
            idempotent=True,
            doc="Demo trading only: top up a DMA sub-account's demo assets.",
        ),
        Endpoint(
            "broker.dma.report_subaccount_ip",
            "POST",
            "/api/v5/broker/dma/report-subaccount-ip",
            (_b("subAcct", required=True), _b("clientIP", check_ip, required=True)),
            rate_limit=PER_S_40,
            tags=frozenset({"trade"}),
            idempotent=True,
            doc="Report the IP a sub-account logged in from.",
        ),
        # ------------------------------------------------------------------ FD
        Endpoint(
            "broker.fd.get_rebate_link",
            "GET",
            "/api/v5/broker/fd/rebate-per-orders",
            (
                _q("type", one_of("true", "false"), required=True),
                _q("begin", check_date),
                _q("end", check_date),
                _q("brokerType", BROKER_TYPE),
            ),
            check=_check_rebate_get,
            rate_limit=PER_MIN_2,
            tags=frozenset({"read"}),
            doc="Rebate-detail download links (a fresh link valid 2 h on every call).",
        ),
        Endpoint(
            "broker.fd.generate_rebate_link",
            "POST",
            "/api/v5/broker/fd/rebate-per-orders",
            (
                _b("begin", check_date, required=True),
                _b("end", check_date, required=True),
                _b("brokerType", BROKER_TYPE),
            ),
            check=_check_date_range,
            rate_limit=PER_H_1,
            tags=frozenset({"read"}),
            idempotent=True,
            doc="Ask OKX to generate the rebate details for a date range.",
        ),
        Endpoint(
            "broker.fd.if_rebate",
            "GET",
            "/api/v5/broker/fd/if-rebate",
            (_q("apiKey", required=True), _q("brokerType", BROKER_TYPE)),
            rate_limit=PER_2S_5,
            tags=frozenset({"read"}),
            doc="Whether a user's trades earn the broker a rebate.",
        ),
        # -------------------------------------------------------------- trade
        Endpoint(
            "trade.place_order",
            "POST",
            "/api/v5/trade/order",
            (
                _b("instId", required=True),
                _b("tdMode", one_of("cash", "cross", "isolated", "spot_isolated"), required=True),
                _b("ccy"),
                _b("clOrdId", _clord_rule()),
                _b("tag", _ORDER_TAG),
                _b("side", one_of("buy", "sell"), required=True),
                _b("posSide", one_of("long", "short", "net")),
                _b(
                    "ordType",
                    one_of(
                        "market",
                        "limit",
                        "post_only",
                        "fok",
                        "ioc",
                        "optimal_limit_ioc",
                        "mmp",
                        "mmp_and_post_only",
                    ),
                    required=True,
                ),
                _b("sz", check_decimal, required=True),
                _b("px", check_decimal),
                _b("pxUsd", check_decimal),
                _b("pxVol", check_decimal),
                _b("reduceOnly", one_of("true", "false", True, False)),
                _b("tgtCcy", one_of("base_ccy", "quote_ccy")),
                _b("banAmend", one_of("true", "false", True, False)),
                _b("stpMode", one_of("cancel_maker", "cancel_taker", "cancel_both")),
            ),
            check=_check_place_order,
            rate_limit=PER_2S_60,
            tags=frozenset({"trade", "order"}),
            idempotency_param="clOrdId",
            reconcile="look the order up by clOrdId (trade.get_order)",
            doc="Place an order; the broker code goes in tag.",
        ),
        Endpoint(
            "trade.amend_order",
            "POST",
            "/api/v5/trade/amend-order",
            (
                _b("instId", required=True),
                _b("ordId"),
                _b("clOrdId", _clord_rule()),
                _b("reqId", _clord_rule()),
                _b("cxlOnFail", one_of("true", "false", True, False)),
                _b("newSz", check_decimal),
                _b("newPx", check_decimal),
            ),
            check=_check_amend,
            rate_limit=PER_2S_60,
            tags=frozenset({"trade"}),
            reconcile="look the order up (trade.get_order)",
            doc="Amend an open order's size or price.",
        ),
        Endpoint(
            "trade.cancel_order",
            "POST",
            "/api/v5/trade/cancel-order",
            (_b("instId", required=True), _b("ordId"), _b("clOrdId", _clord_rule())),
            check=_check_order_ref,
            rate_limit=PER_2S_60,
            tags=frozenset({"trade"}),
            idempotent=True,
            doc="Cancel an open order.",
        ),
        Endpoint(
            "trade.get_order",
            "GET",
            "/api/v5/trade/order",
            (_q("instId", required=True), _q("ordId"), _q("clOrdId", _clord_rule())),
            check=_check_order_ref,
            rate_limit=PER_2S_60,
            tags=frozenset({"read"}),
            doc="Look an order up by ordId or clOrdId.",
        ),
        # ------------------------------------------------------------ public
        Endpoint(
            "public.time",
            "GET",
            "/api/v5/public/time",
            (),
            auth="public",
            rate_limit=PER_2S_10,
            doc="The server's clock (Unix ms).",
        ),
        Endpoint(
            "oauth.token",
            "POST",
            oauth_token_path,
            (
                _b("grant_type", one_of("authorization_code", "refresh_token"), required=True),
                _b("code", sensitive=True),
                _b("code_verifier", sensitive=True),
                _b("redirect_uri"),
                _b("refresh_token", sensitive=True),
                _b("client_id", required=True),
                _b("client_secret", sensitive=True),
            ),
            check=_check_oauth,
            auth="public",
            body="form",
            idempotent=False,
            doc="OAuth 2.0 token exchange: authorization code (or PKCE) and refresh-token "
            "rotation. Form-encoded.",
        ),
    ]


#: The permission each endpoint needs ("read" or "trade"), as the document says.
ENDPOINT_PERMISSION: Final[Mapping[str, str]] = {
    ep.name: ("trade" if "trade" in ep.tags else "read" if "read" in ep.tags else "")
    for ep in _endpoints(OAUTH_TOKEN_PATH)
}


def build_catalog(oauth_token_path: str = OAUTH_TOKEN_PATH) -> Catalog:
    return Catalog("okx", _endpoints(oauth_token_path))
