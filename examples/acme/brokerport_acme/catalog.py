"""The Acme Prime catalog's named rules.

The catalog itself is data: ``catalog/overlay.toml`` beside this package, built
into ``catalog.json`` by ``brokerport catalog build acme`` and read once, lazily,
by ``AcmeAdapter.catalog()``. This module is its ``rules_module``: the rules the
core's ``pattern`` / ``one_of`` / ``max_len`` / ``int_range`` / ``money`` do not
cover, as plain functions the overlay names (``["named", "amount_rule"]``).
"""

from __future__ import annotations

from typing import Any

from brokerport.types import decimal_places, parse_decimal

__all__ = ["amount_rule"]


# A rule takes the value and returns an error text, or None when it is fine.
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
