"""The catalog's ``rules_module``: amount rules for wlink's string amounts."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_DECIMAL = re.compile(r"\d+(\.\d+)?")


def amount_text(value: Any) -> str | None:
    """A positive decimal amount (Decimal, int or its text), never a float."""
    if isinstance(value, (float, bool)):
        return "amounts are Decimal or decimal text, never float"
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    if not _DECIMAL.fullmatch(text) or Decimal(text) <= 0:
        return "must be a positive decimal amount"
    return None


def quoted_text(value: Any) -> str | None:
    """A value the vendor quoted (fee, exchange rate), echoed exactly: text only."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return "echo the vendor's quoted text exactly (a decimal string)"
    return None
