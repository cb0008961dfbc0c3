"""The Acme catalog's ``rules_module``: a rule the core lacks, as a plain function the
overlay names (``["named", "amount_rule"]``). The catalog itself is data:
``catalog/overlay.toml``, built into ``catalog.json`` by ``brokerport catalog build acme``.
"""

from __future__ import annotations

from typing import Any

from brokerport.types import decimal_places, parse_decimal

__all__ = ["amount_rule"]


def amount_rule(value: Any) -> str | None:
    """A positive decimal amount with at most 2 decimal places (1.5 and 1.50 are fine)."""
    try:
        amount = parse_decimal(value)  # refuses floats, booleans and junk
    except (TypeError, ValueError):
        return "must be a decimal amount (str or Decimal)"
    if amount <= 0:
        return "must be greater than zero"
    return "at most 2 decimal places" if decimal_places(amount) > 2 else None
