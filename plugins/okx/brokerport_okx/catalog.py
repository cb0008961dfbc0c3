"""The OKX V5 broker-program catalog's named rules and whole-request checks.

The catalog itself is data: ``catalog/overlay.toml`` beside this package (every
endpoint of the OKX broker document, vendor-docs/004, plus the order, public
time and OAuth token endpoints), built into ``catalog.json`` by
``brokerport catalog build okx`` and read once, lazily, by
``OkxAdapter.catalog()``. This module is its ``rules_module``: the rules and
checks the overlay names (``["named", "check_ip"]``, ``check = "check_amend"``).

Where the document is silent the choice is marked ``ASSUMPTION`` and listed in
the plugin README.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from brokerport.catalog import Catalog

__all__ = [
    "ENDPOINT_PERMISSION",
    "OAUTH_TOKEN_PATH",
    "build_catalog",
    "check_passphrase",
    "check_subaccount_name",
]

#: ASSUMPTION: the document names the OAuth token exchange but not its path;
#: OKX's public OAuth material uses this one (the overlay writes it). Overridable
#: with the profile option ``oauth_token_path``.
OAUTH_TOKEN_PATH: Final = "/v5/users/oauth/token"


def build_catalog(oauth_token_path: str = OAUTH_TOKEN_PATH) -> Catalog:
    """The catalog, with the OAuth token endpoint at ``oauth_token_path``.

    The data file is read once; another path gives a copy with that one endpoint moved.
    """
    catalog = Catalog.load("brokerport_okx")
    if oauth_token_path == catalog["oauth.token"].path:
        return catalog
    return catalog.evolve({"oauth.token": {"path": oauth_token_path}})


class _Permissions(Mapping[str, str]):
    """Endpoint name -> the permission it needs ("read", "trade" or "withdraw"), as the
    document says (the endpoint's tag). Read from the catalog on first use, not at import."""

    _cache: dict[str, str] | None = None

    def _table(self) -> Mapping[str, str]:
        if self._cache is None:
            self._cache = {
                ep.name: next((p for p in ("withdraw", "trade", "read") if p in ep.tags), "")
                for ep in build_catalog().values()
            }
        return self._cache

    def __getitem__(self, name: str) -> str:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


#: The permission each endpoint needs ("read" or "trade"), as the document says.
ENDPOINT_PERMISSION: Final[Mapping[str, str]] = _Permissions()

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


# ------------------------------------------------------------ whole-request checks


def _present(params: Mapping[str, Any], name: str) -> bool:
    v = params.get(name)
    return v is not None and v != ""


def check_deposit_address(params: Mapping[str, Any]) -> str | None:
    if str(params.get("addrType", "")) == "2" and params.get("ccy") not in ("BTC", "LTC"):
        return "addrType 2 (SegWit) applies to BTC and LTC only"
    return None


def check_rebate_get(params: Mapping[str, Any]) -> str | None:
    kind = str(params.get("type", ""))
    if kind == "false":
        for name in ("begin", "end"):
            if not _present(params, name):
                return f"{name} is required when type is false"
    return check_date_range(params)


def check_date_range(params: Mapping[str, Any]) -> str | None:
    begin, end = params.get("begin"), params.get("end")
    if _present(params, "begin") and _present(params, "end") and str(begin) > str(end):
        return "begin must not be after end"
    return None


def check_order_ref(params: Mapping[str, Any]) -> str | None:
    if not (_present(params, "ordId") or _present(params, "clOrdId")):
        return "ordId or clOrdId is required"
    return None


_PRICED = frozenset({"limit", "post_only", "fok", "ioc", "mmp", "mmp_and_post_only"})


def check_place_order(params: Mapping[str, Any]) -> str | None:
    if params.get("ordType") in _PRICED and not (
        _present(params, "px") or _present(params, "pxUsd") or _present(params, "pxVol")
    ):
        return f"px is required for ordType {params.get('ordType')}"
    return None


def check_amend(params: Mapping[str, Any]) -> str | None:
    problem = check_order_ref(params)
    if problem:
        return problem
    if not (_present(params, "newSz") or _present(params, "newPx")):
        return "newSz or newPx is required"
    return None


def check_oauth(params: Mapping[str, Any]) -> str | None:
    grant = params.get("grant_type")
    if grant == "authorization_code" and not _present(params, "code"):
        return "code is required for grant_type authorization_code"
    if grant == "refresh_token" and not _present(params, "refresh_token"):
        return "refresh_token is required for grant_type refresh_token"
    return None


# -------------------------------------------------- OKX's public spec: orders and funding


def check_price(value: Any) -> str | None:
    """A positive decimal price, or ``-1`` (market) where OKX allows it."""
    return None if str(value) == "-1" else check_decimal(value)


def check_fee(value: Any) -> str | None:
    """A decimal fee, zero or more."""
    if isinstance(value, (bool, float)):
        return "must be a Decimal or str"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return "not a decimal number"
    return None if d.is_finite() and d >= 0 else "must not be negative"


_ATTACHED = ("attachAlgoClOrdId", "tpTriggerPx", "tpOrdPx", "tpOrdKind", "slTriggerPx", "slOrdPx",
             "tpTriggerPxType", "slTriggerPxType", "sz", "amendPxOnTriggerType", "attachAlgoId",
             "newTpTriggerPx", "newTpOrdPx", "newSlTriggerPx", "newSlOrdPx", "newTpTriggerPxType",
             "newSlTriggerPxType")  # fmt: skip


def check_attached_algos(value: Any) -> str | None:
    """``attachAlgoOrds``: a list of take-profit / stop-loss objects with OKX's fields."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, Mapping) for v in value):
        return "must be a list of objects"
    for item in value:
        unknown = sorted(set(item) - set(_ATTACHED))
        if unknown:
            return f"unknown field {unknown[0]!r}"
        for name in ("tpTriggerPx", "tpOrdPx", "slTriggerPx", "slOrdPx"):
            if _present(item, name) and check_price(item[name]):
                return f"{name} must be a price or -1"
    return None


#: batch endpoint -> the endpoint each of its items is a request of
BATCH_ITEMS: Final = {
    "trade.batch_orders": "trade.place_order",
    "trade.cancel_batch_orders": "trade.cancel_order",
    "trade.amend_batch_orders": "trade.amend_order",
}


def _items(params: Mapping[str, Any], endpoint: str, most: int) -> str | None:
    """Each item of an array body checked like the single-item endpoint."""
    items = params.get("orders")
    if not isinstance(items, (list, tuple)) or not items:
        return "orders must be a non-empty list"
    if len(items) > most:
        return f"at most {most} orders per request"
    single = build_catalog()[endpoint]
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            return f"orders[{i}] must be an object"
        try:
            single.validate(item)
        except Exception as exc:  # InvalidRequest: say which item
            return f"orders[{i}]: {getattr(exc, 'message', exc)}"
    return None


def check_batch_place(params: Mapping[str, Any]) -> str | None:
    return _items(params, "trade.place_order", 20)


def check_batch_cancel(params: Mapping[str, Any]) -> str | None:
    return _items(params, "trade.cancel_order", 20)


def check_batch_amend(params: Mapping[str, Any]) -> str | None:
    return _items(params, "trade.amend_order", 20)


def check_algo_ref(params: Mapping[str, Any]) -> str | None:
    if not (_present(params, "algoId") or _present(params, "algoClOrdId")):
        return "algoId or algoClOrdId is required"
    return None


def check_cancel_algos(params: Mapping[str, Any]) -> str | None:
    items = params.get("orders")
    if not isinstance(items, (list, tuple)) or not 1 <= len(items) <= 10:
        return "orders must be a list of 1-10 algo orders"
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not _present(item, "instId") or check_algo_ref(item):
            return f"orders[{i}]: instId and algoId or algoClOrdId are required"
    return None


#: ordType -> the parameters it needs (one of each tuple)
_ALGO_NEEDS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "conditional": (("tpTriggerPx", "slTriggerPx"),),
    "oco": (("tpTriggerPx",), ("slTriggerPx",)),
    "trigger": (("triggerPx",), ("orderPx",)),
    "move_order_stop": (("callbackRatio", "callbackSpread"),),
    "twap": (("pxVar", "pxSpread"), ("szLimit",), ("pxLimit",), ("timeInterval",)),
}


def check_algo_order(params: Mapping[str, Any]) -> str | None:
    """What each algo ``ordType`` needs; ``sz`` unless ``closeFraction`` closes a position."""
    kind = str(params.get("ordType", ""))
    for names in _ALGO_NEEDS.get(kind, ()):
        if not any(_present(params, n) for n in names):
            return f"{' or '.join(names)} is required for ordType {kind}"
    if not (_present(params, "sz") or _present(params, "closeFraction")):
        return "sz is required (or closeFraction)"
    if _present(params, "callbackRatio") and _present(params, "callbackSpread"):
        return "give callbackRatio or callbackSpread, not both"
    return None


def check_withdrawal(params: Mapping[str, Any]) -> str | None:
    """On chain (dest 4) a chain-qualified address; internal (dest 3) no fee."""
    if str(params.get("dest")) == "3" and _present(params, "fee") and Decimal(str(params["fee"])):
        return "fee must be 0 for an internal transfer (dest 3)"
    chain, ccy = params.get("chain"), params.get("ccy")
    if chain and ccy and not str(chain).startswith(f"{ccy}-"):
        return f"chain {chain} is not a chain of {ccy}"
    return None
