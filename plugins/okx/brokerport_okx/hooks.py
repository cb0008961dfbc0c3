"""Per-client pluggy hook implementations the OKX adapter registers.

:class:`BrokerCodeTagger` puts the configured broker code into ``tag`` of
every order and gives an order a ``clOrdId`` when the host gave none. It is
registered under the name ``okx.broker_code``, so a host can look it up
(``client.hooks.get("okx.broker_code")``), unregister it or register its own
under that name instead.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from brokerport.hookspec import hookimpl

if TYPE_CHECKING:
    from brokerport.pipeline import Call

__all__ = ["BROKER_CODE_HOOK", "BrokerCodeTagger", "new_clordid"]

BROKER_CODE_HOOK = "okx.broker_code"

#: Catalog endpoints that place an order and so carry the broker code.
ORDER_ENDPOINTS = frozenset({"trade.place_order"})


def new_clordid() -> str:
    """32 lower-case hex characters: within OKX's 1-32 alphanumerics."""
    return secrets.token_hex(16)


class BrokerCodeTagger:
    """``tag`` = broker code on every order; a generated ``clOrdId`` when missing.

    A ``tag`` the host set explicitly is kept (an explicit value wins; the
    README says so); an empty one is replaced.
    """

    hook_name = BROKER_CODE_HOOK

    def __init__(self, broker_code: str, endpoints: frozenset[str] = ORDER_ENDPOINTS) -> None:
        self.broker_code = broker_code
        self.endpoints = endpoints

    @hookimpl
    def brokerport_before_request(self, call: Call) -> None:
        if call.endpoint.name not in self.endpoints:
            return
        if not call.params.get("tag"):
            call.params["tag"] = self.broker_code
        if not call.params.get("clOrdId"):
            call.params["clOrdId"] = new_clordid()
            call.idempotency_key = call.params["clOrdId"]

    def __repr__(self) -> str:
        return f"BrokerCodeTagger({self.broker_code!r})"
