"""The procedural part of the WhaleAPI samples; the data is ``samples.toml``.

What a TOML table cannot say: what the sandbox's market and ledger made (trade
ids of fills, ledger serial numbers, the positions they leave).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from brokerport.testing.samples import DataSamples

__all__ = ["WhaleSamples"]


class WhaleSamples(DataSamples):
    def fill_orders(self, orders: list[str]) -> list[str]:
        """``hook``: the market fills 10 of each of the first three orders; the trade ids."""
        sb: Any = self.sandbox
        before = len(sb.trades)
        for order_id in orders[:3]:
            sb.fill(order_id, Decimal("10"), Decimal("300"))
        return [t["trade_id"] for t in sb.trades[before:]]

    def ledger_serials(self, account_no: str) -> list[str]:
        """``hook``: the serial numbers of the account's cash flows."""
        return [f["serial_num"] for f in getattr(self.sandbox, "flows", {}).get(account_no, [])]

    def position_symbols(self, account_no: str) -> list[str]:
        """``hook``: the symbols the account holds."""
        stock = getattr(self.sandbox, "stock", {})
        return [s for (a, s), q in stock.items() if a == account_no and q]

    async def revoke_spare_token(self) -> Any:
        """``hook`` proving ``keys.revoke_token``: the sandbox issues a second token of the
        key the client signs with; revoking it leaves the client's own token working."""
        from brokerport import models as m

        sb: Any = self.sandbox
        spare = sb._token(sb.app_key, sb.clock.now())
        sb.keys[sb.app_key]["tokens"].append(spare)
        return await self.client.keys.revoke_token(m.RenewToken(refresh_token=spare["token"]))
