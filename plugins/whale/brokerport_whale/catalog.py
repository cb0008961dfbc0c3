"""The catalog's rules module (named rules) and the path-version data.

Imported when the catalog loads (``rules_module`` in catalog/overlay.toml).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MOVED_TO_V2", "check_cash_value"]

#: The 12 operations the vendor's newer spec ([H], 2026-08) moved from /v1 to /v2:
#: name -> the v2 path when it is not the v1 path at v2 (whale-endpoints.md §6).
#: Profile option ``path_versions = "moved"`` sends all of them to their v2 path.
MOVED_TO_V2: dict[str, str | None] = {
    "asset.adjust_cash": None,
    "asset.adjust_stock": None,
    "asset.frozen_cash": None,
    "asset.unfrozen_cash": None,
    "asset.temp_adjust": None,
    "ipo.withdraw": None,
    "portfolio.withdraw": None,
    "portfolio.withdraw_pre": None,
    "portfolio.withdraw_card_delete": None,
    "trade.order_update": None,
    "trade.order_delete": None,
    "trade.execution_history_v2": "/{version}/whaleapi/trade/execution/history",
}


def check_cash_value(value: Any) -> str | None:
    """Reward cash: ``{currency: HKD|USD, amount: integer cents >= 1}`` (never a fraction)."""
    if not isinstance(value, dict):
        return "must be an object {currency, amount}"
    if value.get("currency") not in ("HKD", "USD"):
        return "currency must be HKD or USD"
    amount = value.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        return "amount must be a whole number of cents >= 1 (use whale.rewards.send_cash)"
    return None
