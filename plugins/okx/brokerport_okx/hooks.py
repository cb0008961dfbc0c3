"""Per-client pluggy hook implementations the OKX adapter registers.

:class:`BrokerCodeTagger` puts the configured broker code into ``tag`` of
every request that has one (orders, algo orders, each order of a batch) and
gives an order a ``clOrdId`` (``algoClOrdId``) when the host gave none. It is
registered under the name ``okx.broker_code``, so a host can look it up
(``client.hooks.get("okx.broker_code")``), unregister it or register its own
under that name instead.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from brokerport.hookspec import hookimpl

if TYPE_CHECKING:
    from brokerport.catalog import Catalog
    from brokerport.pipeline import Call

__all__ = ["BROKER_CODE_HOOK", "BrokerCodeTagger", "new_clordid"]

BROKER_CODE_HOOK = "okx.broker_code"


def new_clordid() -> str:
    """32 lower-case hex characters: within OKX's 1-32 alphanumerics."""
    return secrets.token_hex(16)


def tagged_endpoints(catalog: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """The document: "when a request has a ``tag`` parameter, enter your broker code":
    (endpoints with ``tag``, batches whose items are such an endpoint's requests)."""
    from .catalog import BATCH_ITEMS

    direct = frozenset(name for name, ep in catalog.items() if "tag" in ep.param_names)
    batched = frozenset(
        name
        for name, single in BATCH_ITEMS.items()
        if name in catalog and "tag" in catalog[single].param_names
    )
    return direct, batched


class BrokerCodeTagger:
    """``tag`` = broker code on every request that has a ``tag`` (each item of a
    batch too); a generated ``clOrdId`` (``algoClOrdId``) when missing.

    A ``tag`` the host set explicitly is kept (an explicit value wins; the
    README says so); an empty one is replaced.
    """

    hook_name = BROKER_CODE_HOOK

    def __init__(self, broker_code: str, catalog: Catalog) -> None:
        self.broker_code = broker_code
        self.endpoints, self.batches = tagged_endpoints(catalog)

    @hookimpl
    def brokerport_before_request(self, call: Call) -> None:
        name = call.endpoint.name
        if name in self.batches:
            items = call.params.get("orders")
            if isinstance(items, (list, tuple)):
                call.params["orders"] = [self._tagged(dict(i)) for i in items]
            return
        if name not in self.endpoints:
            return
        if not call.params.get("tag"):
            call.params["tag"] = self.broker_code
        key = call.endpoint.idempotency_param
        if key and not call.params.get(key):
            call.params[key] = new_clordid()
            call.idempotency_key = call.params[key]

    def _tagged(self, item: dict[str, object]) -> dict[str, object]:
        if not item.get("tag"):
            item["tag"] = self.broker_code
        if not item.get("clOrdId"):
            item["clOrdId"] = new_clordid()  # each order can be looked up after a lost answer
        return item

    def __repr__(self) -> str:
        return f"BrokerCodeTagger({self.broker_code!r})"
