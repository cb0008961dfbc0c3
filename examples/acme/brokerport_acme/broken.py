"""A deliberately BROKEN variant of the Acme adapter, for the conformance kit's own tests.

Never copy this. It breaks two contracts the kit checks:

1. It does not declare ``subaccounts.delete``, yet a host can still reach
   the vendor through ``client.subaccounts.delete``: ``ports_for`` hands out
   the sub-account port without the gate that turns undeclared operations
   into ``NotSupported`` with no I/O.
2. It marks the withdrawal endpoint ``idempotent=True``. Acme does not
   de-duplicate withdrawals, so when an answer is lost the pipeline resends
   and the money leaves twice, instead of raising ``UnknownOutcome``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from brokerport.catalog import Catalog
from brokerport.ports import Port

from .adapter import AcmeAdapter

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["BrokenAcmeAdapter"]


class BrokenAcmeAdapter(AcmeAdapter):
    name = "acme-broken"
    operations = AcmeAdapter.operations - {"subaccounts.delete"}
    sandbox = "acme"  # the same Acme sandbox

    @classmethod
    def build_catalog(cls) -> Catalog:
        good = super().build_catalog()
        endpoints = [
            attrs.evolve(ep, idempotent=True) if name == "funding.withdraw" else ep
            for name, ep in good.items()
        ]  # BUG 2: a non-idempotent write marked safe
        return Catalog(good.vendor, endpoints)

    def ports_for(self, client: Client) -> dict[str, Port]:
        from .ports import AcmeSubAccounts

        ports = super().ports_for(client)
        ports["subaccounts"] = AcmeSubAccounts(client)  # BUG 1: skips the capability gate
        return ports
