"""A deliberately BROKEN Acme adapter (``acme-broken``), for the kit's own tests. Never copy it.

1. ``ports_for`` hands out the sub-account port without the capability gate: the
   undeclared ``subaccounts.delete`` reaches the vendor instead of ``NotSupported``.
2. Withdrawals are marked ``idempotent``, but Acme does not de-duplicate them: a lost
   answer is resent and the money leaves twice, instead of ``UnknownOutcome``.
More defects, one per variant, are the mutants of ``examples/acme/tests/mutants.py``.
"""

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
