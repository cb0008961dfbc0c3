"""The Acme Prime endpoint catalog: every endpoint, described once, as data.

The core pipeline reads this to validate parameters before any I/O, to place
each parameter (path, query or JSON body), to pace requests, and to decide
what is safe to retry. The sandbox registers its routes from the same data,
so the client and the sandbox cannot disagree about a path or a rule.
"""

from __future__ import annotations

from typing import Any

from brokerport.catalog import Catalog, Endpoint, Param, RateLimit, int_range, max_len, pattern
from brokerport.types import decimal_places, parse_decimal

# Acme counts requests per API key in two shared buckets (README, "Rate limits").
# Endpoints naming the same group share one window, on the client and in the sandbox.
READS = RateLimit(20, 1.0, group="read")
WRITES = RateLimit(5, 1.0, group="write")


# A rule takes the value and returns an error text, or None when it is fine.
# The core ships pattern / one_of / max_len / int_range; vendor rules are plain functions.
def amount_rule(value: Any) -> str | None:
    """A positive decimal amount with at most 2 decimal places (1.5 and 1.50 are fine)."""
    try:
        amount = parse_decimal(value)  # refuses floats, booleans and junk
    except (TypeError, ValueError):
        return "must be a decimal amount (str or Decimal)"
    if amount <= 0:
        return "must be greater than zero"
    if decimal_places(amount) > 2:
        return "at most 2 decimal places"
    return None


SUBACCOUNT_NAME = pattern(r"[a-z0-9]{3,24}", "must be 3-24 lower-case letters or digits")
CURRENCY = pattern(r"[A-Z]{3}", "must be a 3-letter upper-case currency code")
CLIENT_REF = pattern(r"[A-Za-z0-9_-]{1,64}", "must be 1-64 letters, digits, '-' or '_'")

# Reused parameter definitions: a Param is a frozen value, so sharing is safe.
NAME_IN_PATH = Param("name", "path", rules=(SUBACCOUNT_NAME,))
PAGING = (
    Param("cursor", "query", rules=(max_len(128),), doc="opaque; from next_cursor"),
    Param("limit", "query", rules=(int_range(1, 50),), doc="page size, default 20"),
)
MONEY_MOVE = (
    Param("account", required=True, rules=(SUBACCOUNT_NAME,)),
    Param("amount", required=True, rules=(amount_rule,)),
    Param("currency", required=True, rules=(CURRENCY,)),
    Param("client_ref", required=True, rules=(CLIENT_REF,)),
)
HISTORY_FILTERS = (
    Param("account", "query", rules=(SUBACCOUNT_NAME,)),
    Param("currency", "query", rules=(CURRENCY,)),
    Param("client_ref", "query", rules=(CLIENT_REF,)),
    *PAGING,
)


def build_catalog() -> Catalog:
    return Catalog(
        "acme",
        [
            # ----------------------------------------------------- sub-accounts
            Endpoint(
                "subaccount.create",
                "POST",
                "/v1/subaccounts",
                params=(
                    Param("name", required=True, rules=(SUBACCOUNT_NAME,)),
                    Param("label", rules=(max_len(64),)),
                ),
                rate_limit=WRITES,
                # POST defaults to idempotent=False: a lost answer becomes UnknownOutcome.
                reconcile="GET /v1/subaccounts/{name} tells whether it was created",
            ),
            Endpoint(
                "subaccount.delete",
                "DELETE",
                "/v1/subaccounts/{name}",
                params=(NAME_IN_PATH,),
                rate_limit=WRITES,
            ),
            Endpoint("subaccount.list", "GET", "/v1/subaccounts", params=PAGING, rate_limit=READS),
            Endpoint(
                "subaccount.get",
                "GET",
                "/v1/subaccounts/{name}",
                params=(NAME_IN_PATH,),
                rate_limit=READS,
            ),
            # ------------------------------------------------------------ funding
            Endpoint(
                "funding.deposit",
                "POST",
                "/v1/deposits",
                params=MONEY_MOVE,
                rate_limit=WRITES,
                # The pipeline mints client_ref once per logical call (unless the host
                # gave one) and reuses it on every retry ...
                idempotency_param="client_ref",
                # ... and Acme de-duplicates deposits by client_ref, so resending is safe.
                idempotent=True,
            ),
            Endpoint(
                "funding.withdraw",
                "POST",
                "/v1/withdrawals",
                params=MONEY_MOVE,
                rate_limit=WRITES,
                # Acme does NOT de-duplicate withdrawals: never resend one. client_ref is
                # still minted, so a host facing UnknownOutcome can look the withdrawal up.
                idempotency_param="client_ref",
                idempotent=False,
                reconcile="GET /v1/withdrawals?client_ref=<key> before trying again",
            ),
            Endpoint(
                "funding.deposits", "GET", "/v1/deposits", params=HISTORY_FILTERS, rate_limit=READS
            ),
            Endpoint(
                "funding.withdrawals",
                "GET",
                "/v1/withdrawals",
                params=HISTORY_FILTERS,
                rate_limit=READS,
            ),
            Endpoint(
                "funding.balances",
                "GET",
                "/v1/balances",
                params=(
                    Param("account", "query", required=True, rules=(SUBACCOUNT_NAME,)),
                    Param("currency", "query", rules=(CURRENCY,)),
                ),
                rate_limit=READS,
            ),
        ],
    )
