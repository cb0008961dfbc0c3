"""A deliberately BROKEN Acme adapter, for the conformance kit's own tests. Never copy it.

1. ``ports_for`` hands out the sub-account port without the capability gate, so
   the undeclared ``subaccounts.delete`` reaches the vendor instead of raising
   ``NotSupported`` with no I/O.
2. The withdrawal endpoint is marked ``idempotent=True``, but Acme does not
   de-duplicate withdrawals: a lost answer is resent and the money leaves twice,
   instead of ``UnknownOutcome``.
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
