"""The Acme Prime adapter: only what is vendor-specific (the core does the rest).
``brokerport plugins`` imports this module: ``protocol.py`` and the catalog load on use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json

if TYPE_CHECKING:
    from brokerport.catalog import Catalog, Endpoint
    from brokerport.profile import Profile
    from brokerport.signing import Signer
    from brokerport.transport import RawResponse

__all__ = ["AcmeAdapter"]


class AcmeAdapter(Adapter):
    """Acme Prime: sub-accounts, their funding, and orders."""

    name = "acme"  # the entry-point name: brokerport.connect("acme")
    version = "0.1.0"
    description = "Acme Prime (example plugin): sub-accounts, funding, orders"
    # What the ports implement; anything else is NotSupported before any I/O.
    operations = frozenset(
        {
            *("subaccounts.create", "subaccounts.delete", "subaccounts.list"),
            *("funding.balances", "funding.request_deposit", "funding.request_withdrawal"),
            *("funding.deposit_history", "funding.withdrawal_history"),
            *("trading.place_order", "trading.get_order", "trading.open_orders"),
            *("trading.amend_order", "trading.cancel_order"),
        }
    )
    # "module:Class": `brokerport plugins` lists the adapter without importing the ports
    ports: ClassVar[Mapping[str, str]] = {
        "subaccounts": "brokerport_acme.ports:AcmeSubAccounts",
        "funding": "brokerport_acme.ports:AcmeFunding",
        "trading": "brokerport_acme.ports:AcmeTrading",
    }
    sandbox = "acme"  # our entry in brokerport.sandboxes
    samples = "brokerport_acme:samples.toml"  # sample data for the conformance kit

    @classmethod
    def build_catalog(cls) -> Catalog:
        from brokerport.catalog import Catalog

        return Catalog.load("brokerport_acme")  # catalog.json, built from catalog/overlay.toml

    @classmethod
    def build_error_map(cls) -> ErrorMap:  # AcmeAdapter.error_map, built on first read
        from .protocol import ACME_ERRORS

        return ACME_ERRORS

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        from .protocol import ENVELOPE  # once per client: decode reads it on every answer

        self.envelope = ENVELOPE

    def create_signer(self) -> Signer:
        from .protocol import AcmeSigner

        # Profile.credential raises InvalidRequest naming the missing key (never its value).
        return AcmeSigner(self.profile.credential("api_key"), self.profile.credential("secret_key"))

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """``{"ok": true, "result": ...}`` -> result; ``{"ok": false, ...}`` -> VendorFault."""
        body = parse_json(response, vendor=self.name)  # numbers parse as Decimal
        try:
            return self.envelope.unwrap(body, http_status=response.status, vendor=self.name)
        except VendorFault as fault:
            wait = response.headers.get("Retry-After", "")
            fault.retry_after = float(wait) if wait.isdigit() else None
            raise  # http_status: the pipeline fills in the response's
