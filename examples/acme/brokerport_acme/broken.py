"""A deliberately BROKEN Acme adapter (``acme-broken``), for the kit's own tests. Never copy it.

1. ``ports_for`` skips the capability gate: undeclared ``subaccounts.delete`` is sent.
2. Withdrawals marked ``idempotent``: a lost answer is resent, the money leaves twice.
More defects, one per variant: the mutants of ``examples/acme/tests/mutants.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .adapter import AcmeAdapter

if TYPE_CHECKING:  # listing plugins imports this module too: nothing heavy at import
    from brokerport.catalog import Catalog
    from brokerport.client import Client
    from brokerport.ports import Port

__all__ = ["BrokenAcmeAdapter"]


class BrokenAcmeAdapter(AcmeAdapter):
    name = "acme-broken"
    operations = AcmeAdapter.operations - {"subaccounts.delete"}

    @classmethod
    def build_catalog(cls) -> Catalog:  # BUG 2: a non-idempotent write marked safe
        return super().build_catalog().evolve({"funding.withdraw": {"idempotent": True}})

    def ports_for(self, client: Client) -> dict[str, Port]:
        from .ports import AcmeSubAccounts

        ports = super().ports_for(client)
        ports["subaccounts"] = AcmeSubAccounts(client)  # BUG 1: skips the capability gate
        return ports
