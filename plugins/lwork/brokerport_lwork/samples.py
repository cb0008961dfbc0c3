"""The procedural part of the lwork samples; the data is ``samples.toml``.

What a TOML table cannot say: which withdrawal and transfer records the
sandbox made for an account (their ids are the sandbox's, not the tickets'),
and a tamper that changes a signed JSON body field (the default bumps the
last digit of the body, which may be the unsigned comment).
"""

from __future__ import annotations

import json
from decimal import Decimal

from brokerport.testing.samples import DataSamples

__all__ = ["LworkSamples"]


class LworkSamples(DataSamples):
    def withdrawal_ids(self, login: str) -> list[str]:
        """``hook``: the sandbox's withdrawal records of ``login``."""
        return [
            w["id"] for w in getattr(self.sandbox, "withdrawals", ()) if w["accountId"] == login
        ]

    def transfer_ids(self, login: str) -> list[str]:
        """``hook``: the sandbox's transfer records of ``login``."""
        records = getattr(self.sandbox, "transfers", ())
        return [t["id"] for t in records if t["accountId"] == login]

    def tamper(self, body: bytes, query: str) -> tuple[bytes, str]:
        """Raise the signed depositAmount after signing."""
        doc = json.loads(body)
        doc["depositAmount"] = f"{Decimal(doc['depositAmount']) + 100:.2f}"
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), query
