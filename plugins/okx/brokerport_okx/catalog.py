"""The OKX V5 broker-program catalog's named rules and whole-request checks.

The catalog itself is data: ``catalog/overlay.toml`` beside this package (every
endpoint of the OKX broker document, vendor-docs/004, plus the order, public
time and OAuth token endpoints), built into ``catalog.json`` by
``brokerport catalog build okx`` and read once, lazily, by
``OkxAdapter.catalog()``. This module is its ``rules_module``: the rules and
checks the overlay names (``["named", "check_ip"]``, ``check = "check_withdrawal"``);
the "at least one of" / "not both" / "not after" checks are data there
(``check = [["any_of", "ordId", "clOrdId"]]``).

Where the document is silent the choice is marked ``ASSUMPTION`` and listed in
the plugin README.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from brokerport.catalog import Catalog, money
from brokerport.types import parse_money

__all__ = [
    "ENDPOINT_PERMISSION",
    "OAUTH_TOKEN_PATH",
    "build_catalog",
    "check_passphrase",
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
#
# Most parameter rules are data (the overlay's [rules]); these need code.

PERMISSIONS: Final = ("read_only", "trade", "withdraw")
#: the overlay's AMOUNT rule, for the rules below that build on it
_AMOUNT: Final = money(16, max_value="1000000000000000")
#: now data rules (the overlay's SUB_ACCT): still importable by their old names
_DATA_RULES: Final = {"check_subaccount_name": ("broker.dma.create_subaccount", "subAcct")}


def __getattr__(name: str) -> Any:
    if name in _DATA_RULES:
        endpoint, param = _DATA_RULES[name]
        found = build_catalog()[endpoint].param(param)
        return found.rules[0] if found else None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_passphrase(value: Any) -> str | None:
    """Code: each failed requirement says which, and the value (maybe a
    :class:`brokerport.Secret`) is never echoed. 8-32 characters, no spaces, at
    least one digit, upper-case, lower-case and special character."""
    text = value.reveal() if hasattr(value, "reveal") else value
    if not isinstance(text, str):
        return "must be a string"
    if not 8 <= len(text) <= 32:
        return "must be 8-32 characters"
    if any(c.isspace() for c in text):
        return "must not contain spaces"
    for needed, what in _PASSPHRASE_NEEDS.items():
        if not re.search(needed, text):
            return f"needs at least one {what}"
    return None


_PASSPHRASE_NEEDS: Final = {
    "[0-9]": "digit",
    "[A-Z]": "upper-case letter",
    "[a-z]": "lower-case letter",
    "[^A-Za-z0-9]": "special character",
}


def _split(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value).split(",")]


def check_ips(value: Any) -> str | None:
    """Code (IP addresses): comma-separated, at most 20, no repeats."""
    ips = _split(value)
    if len(ips) > 20:
        return "at most 20 IP addresses"
    bad = next((ip for ip in ips if check_ip(ip)), None)
    if bad is not None:
        return f"not an IP address: {bad!r}"
    return "duplicate IP address" if len(set(ips)) != len(ips) else None


def check_ip(value: Any) -> str | None:
    """Code: an IPv4 or IPv6 address (the ipaddress module reads it)."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return "not an IP address"
    return None


def check_perm(value: Any) -> str | None:
    """Code (a set): a comma-separated subset of read_only, trade, withdraw, no repeats."""
    perms = _split(value)
    unknown = next((p for p in perms if p not in PERMISSIONS), None)
    if unknown is not None:
        return f"unknown permission {unknown!r}; allowed: {', '.join(PERMISSIONS)}"
    return "duplicate permission" if len(set(perms)) != len(perms) else None


def check_date(value: Any) -> str | None:
    """Code (the calendar): a date written YYYYMMdd that exists."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{8}", value):
        return "must be a date written YYYYMMdd"
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return "not a calendar date (YYYYMMdd)"
    return None


def check_price(value: Any) -> str | None:
    """Code (two rules in one): ``-1`` (market, where OKX allows it) or an AMOUNT."""
    return None if str(value) == "-1" else _AMOUNT(value)


def check_fee(value: Any) -> str | None:
    """Code: an amount of zero or more (``money`` is either positive or signed)."""
    problem = _SIGNED_AMOUNT(value)
    if problem is None and parse_money(value, max_value=None) < 0:
        return "must not be negative"
    return problem


_SIGNED_AMOUNT: Final = money(16, positive=False, max_value="1000000000000000")


# ------------------------------------------------------------ whole-request checks

Check = Callable[[Mapping[str, Any]], "str | None"]


def _present(params: Mapping[str, Any], name: str) -> bool:
    v = params.get(name)
    return v is not None and v != ""


def check_deposit_address(params: Mapping[str, Any]) -> str | None:
    if str(params.get("addrType", "")) == "2" and params.get("ccy") not in ("BTC", "LTC"):
        return "addrType 2 (SegWit) applies to BTC and LTC only"
    return None


_ATTACHED = ("attachAlgoClOrdId", "tpTriggerPx", "tpOrdPx", "tpOrdKind", "slTriggerPx", "slOrdPx",
             "tpTriggerPxType", "slTriggerPxType", "sz", "amendPxOnTriggerType", "attachAlgoId",
             "newTpTriggerPx", "newTpOrdPx", "newSlTriggerPx", "newSlOrdPx", "newTpTriggerPxType",
             "newSlTriggerPxType")  # fmt: skip


def check_attached_algos(value: Any) -> str | None:
    """Code (nested objects): ``attachAlgoOrds``, a list of take-profit / stop-loss
    objects with OKX's fields."""
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


def _batch(endpoint: str, most: int = 20) -> Check:
    """Each item of an array body (at most ``most``) checked like the single-item endpoint."""

    def check(params: Mapping[str, Any]) -> str | None:
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

    return check


check_batch_place = _batch("trade.place_order")
check_batch_cancel = _batch("trade.cancel_order")
check_batch_amend = _batch("trade.amend_order")


def check_cancel_algos(params: Mapping[str, Any]) -> str | None:
    items = params.get("orders")
    if not isinstance(items, (list, tuple)) or not 1 <= len(items) <= 10:
        return "orders must be a list of 1-10 algo orders"
    for i, item in enumerate(items):
        ref = isinstance(item, Mapping) and _present(item, "instId")
        if not (ref and (_present(item, "algoId") or _present(item, "algoClOrdId"))):
            return f"orders[{i}]: instId and algoId or algoClOrdId are required"
    return None


def check_withdrawal(params: Mapping[str, Any]) -> str | None:
    """On chain (dest 4) a chain-qualified address; internal (dest 3) no fee."""
    if str(params.get("dest")) == "3" and _present(params, "fee") and Decimal(str(params["fee"])):
        return "fee must be 0 for an internal transfer (dest 3)"
    chain, ccy = params.get("chain"), params.get("ccy")
    if chain and ccy and not str(chain).startswith(f"{ccy}-"):
        return f"chain {chain} is not a chain of {ccy}"
    return None
