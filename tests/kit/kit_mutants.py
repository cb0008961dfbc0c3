"""The mutants that measure the conformance kit: one defect of a known class each.

Each is a good plugin (mostly the example, Acme; two real plugins where it is cheap)
patched in this process; ``contract`` is the kit contract that must fail on it.
``tests/kit/test_mutants.py`` runs them all and asserts 100 % detection;
``python bench/mutants.py`` prints the table.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any
from unittest import mock

import attrs
from brokerport import models as m
from brokerport.adapter import parse_json
from brokerport.binding import bind
from brokerport.errors import UnknownOutcome
from brokerport.testing.mutants import Mutant
from brokerport_acme import ports as acme_ports
from brokerport_acme.adapter import AcmeAdapter
from brokerport_acme.ports import AcmeFunding, AcmeTrading
from brokerport_acme.protocol import AcmeSigner
from brokerport_acme.sandbox import AcmeSandbox

__all__ = ["MUTANTS", "SECRETS"]

Stack = contextlib.ExitStack
#: credential values no failure text may show (the sandboxes' defaults)
SECRETS = ("acme-sandbox-secret", "acme-sandbox-key")


def patch(stack: Stack, owner: Any, name: str, value: Any) -> None:
    stack.enter_context(mock.patch.object(owner, name, value))


# ------------------------------------------------------------------ Acme


def any_key(stack: Stack) -> None:
    good = AcmeSandbox.authenticate

    def authenticate(self: AcmeSandbox, request: Any, endpoint: Any, body: bytes) -> None:
        saved, self.api_key = self.api_key, request.headers.get("X-Acme-Key", "")
        try:  # BUG: whatever key arrives is taken for the right one
            return good(self, request, endpoint, body)
        finally:
            self.api_key = saved

    patch(stack, AcmeSandbox, "authenticate", authenticate)


def no_client_order_id(stack: Stack) -> None:
    params = {k: v for k, v in acme_ports.PLACE.items() if k != "client_order_id"}
    # BUG: the host's client order id is dropped (the pipeline mints another)
    patch(stack, AcmeTrading, "place_order", bind("order.place", params=params,
          into=m.OrderAck, fields=acme_ports.ACK))  # fmt: skip


def cancel_noop(stack: Stack) -> None:
    async def cancel_order(self: AcmeTrading, request: m.OrderRef) -> m.OrderAck:
        return m.OrderAck(order_id=request.order_id, status="cancelled")  # BUG: no call

    patch(stack, AcmeTrading, "cancel_order", cancel_order)


def get_other(stack: Stack) -> None:
    async def get_order(self: AcmeTrading, request: m.OrderRef) -> m.Order:
        # BUG: "the" order is the oldest open one
        page = await self.open_orders(m.OrderQuery(instrument=request.instrument, limit=1))
        return page.items[0]

    patch(stack, AcmeTrading, "get_order", get_order)


def write_idempotent(stack: Stack) -> None:
    catalog = AcmeAdapter.catalog().evolve({"funding.withdraw": {"idempotent": True}})
    patch(stack, AcmeAdapter, "_catalog", catalog)  # BUG: Acme does not de-duplicate these


def secret_repr(stack: Stack) -> None:
    def __repr__(self: AcmeSigner) -> str:
        return f"AcmeSigner(key={self._key.reveal()}, secret={self._secret.reveal()})"  # BUG

    patch(stack, AcmeSigner, "__repr__", __repr__)


def _order_fields(price: Any) -> Any:
    return bind("order.get", params=acme_ports.GET, into=m.Order,
                fields={**acme_ports.ORDER, "price": price})  # fmt: skip


def money_rounded(stack: Stack) -> None:
    rounded = _order_fields(lambda item, ctx: Decimal(item["price"]).quantize(Decimal(1)))
    patch(stack, AcmeTrading, "get_order", rounded)  # BUG: the price rounded to units


def money_float(stack: Stack) -> None:
    through_float = _order_fields(lambda item, ctx: Decimal(float(item["price"])))
    patch(stack, AcmeTrading, "get_order", through_float)  # BUG: parsed through a float


def page_dropped(stack: Stack) -> None:
    good = AcmeTrading.open_orders

    async def open_orders(self: AcmeTrading, request: m.OrderQuery) -> m.Page[m.Order]:
        page: m.Page[m.Order] = await good(self, request)
        if page.next_cursor:  # BUG: the cursor of the page after the next one
            skipped: m.Page[m.Order] = await good(
                self, attrs.evolve(request, cursor=page.next_cursor)
            )
            return attrs.evolve(page, next_cursor=skipped.next_cursor)
        return page

    patch(stack, AcmeTrading, "open_orders", open_orders)


def raw_key_error(stack: Stack) -> None:
    good = AcmeTrading.get_order

    async def get_order(self: AcmeTrading, request: m.OrderRef) -> m.Order:
        opened = await self.client.invoke(
            "order.open", {"limit": 50}, read=lambda d: {o["id"]: o for o in d["items"]}
        )
        opened[request.order_id]  # BUG: KeyError for an order that is not open (or unknown)
        order: m.Order = await good(self, request)
        return order

    patch(stack, AcmeTrading, "get_order", get_order)


def unread_error(stack: Stack) -> None:
    def decode(self: AcmeAdapter, endpoint: Any, response: Any) -> Any:
        return parse_json(response, vendor=self.name).get("result")  # BUG: "ok" never read

    patch(stack, AcmeAdapter, "decode", decode)


def resent_write(stack: Stack) -> None:
    good = AcmeTrading.place_order

    async def place_order(self: AcmeTrading, request: m.PlaceOrder) -> m.OrderAck:
        try:
            ack: m.OrderAck = await good(self, request)
        except UnknownOutcome:  # BUG: "it probably failed": sent again
            ack = await good(self, request)
        return ack

    patch(stack, AcmeTrading, "place_order", place_order)


def withdrawal_float(stack: Stack) -> None:
    funds = bind("funding.deposits", params=acme_ports.FILTERS, page=acme_ports.PAGES,
                 into=m.FundingRecord, fields={**acme_ports.RECORD, "amount": lambda i, c:
                 Decimal(str(round(float(i["amount"]), 1)))})  # fmt: skip
    patch(stack, AcmeFunding, "deposit_history", funds)  # BUG: money through a float, rounded


# ---------------------------------------------------------- real plugins


def okx_cancel_noop(stack: Stack) -> None:
    from brokerport_okx.ports import OkxTrading

    async def cancel_order(self: Any, request: m.OrderRef) -> m.OrderAck:
        return m.OrderAck(order_id=request.order_id, status="canceled")  # BUG: no call

    patch(stack, OkxTrading, "cancel_order", cancel_order)


def lwork_any_token(stack: Stack) -> None:
    from brokerport_lwork.sandbox import LworkSandbox

    good = LworkSandbox.authenticate

    def authenticate(self: Any, request: Any, endpoint: Any, body: bytes) -> None:
        saved, self._token = self._token, request.headers.get("x-api-token") or "none"
        try:  # BUG: any token is the tenant's
            return good(self, request, endpoint, body)
        finally:
            self._token = saved

    patch(stack, LworkSandbox, "authenticate", authenticate)


MUTANTS = tuple(
    Mutant(vendor, name, defect, contract, apply)
    for vendor, name, defect, contract, apply in (
        ("acme", "any-key", "sandbox accepts any API key",
         "test_sandbox_refuses_wrong_credentials", any_key),
        ("acme", "no-client-order-id", "ignores the client order id",
         "test_client_order_id_is_honoured", no_client_order_id),
        ("acme", "cancel-noop", "cancel_order is a no-op",
         "test_cancel_cancels_the_order", cancel_noop),
        ("acme", "get-other", "get_order returns another order",
         "test_get_order_returns_that_order", get_other),
        ("acme", "write-idempotent", "a write declared idempotent",
         "test_lost_write_is_unknown_outcome_never_repeated", write_idempotent),
        ("acme", "secret-repr", "a secret in a repr",
         "test_secrets_absent_from_reprs_logs_and_errors", secret_repr),
        ("acme", "money-rounded", "money rounded",
         "test_money_is_exact_decimal", money_rounded),
        ("acme", "page-dropped", "a page dropped",
         "test_pagination_returns_every_item_once", page_dropped),
        ("acme", "float-money", "a float where a Decimal belongs",
         "test_money_is_exact_decimal", money_float),
        ("acme", "float-history", "a float (rounded) in deposit history",
         "test_deposit_appears_in_history", withdrawal_float),
        ("acme", "raw-key-error", "a raw KeyError from port code",
         "test_vendor_errors_map_to_typed_errors", raw_key_error),
        ("acme", "unread-error", "an unread vendor error code",
         "test_vendor_errors_map_to_typed_errors", unread_error),
        ("acme", "resent-write", "a write re-sent after a lost answer",
         "test_lost_answer_to_a_port_write_is_unknown_outcome", resent_write),
        ("okx", "cancel-noop", "cancel_order is a no-op",
         "test_cancel_cancels_the_order", okx_cancel_noop),
        ("lwork", "any-token", "sandbox accepts any token",
         "test_sandbox_refuses_wrong_credentials", lwork_any_token),
    )
)  # fmt: skip
