"""What a plugin author supplies to the conformance kit and the demo: sample data.

Like the ``data`` fixtures of pandas' extension-array base tests, the kit
cannot invent valid input for a vendor, so each plugin provides a
:class:`Samples` subclass and names it on its adapter
(``samples = "brokerport_acme.testing:AcmeSamples"``). Every method is
optional; the kit *fails* (not skips) a contract whose operation the adapter
declares but whose sample is missing, because an unproven declaration is a
broken promise.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import attrs

from .. import models as m

if TYPE_CHECKING:
    from ..client import Client
    from ..errors import BrokerportError
    from ..sandbox import Sandbox

__all__ = ["ErrorCase", "InvalidCase", "PagedCase", "Samples"]

Invoke = Callable[["Client"], Awaitable[Any]]


@attrs.frozen
class InvalidCase:
    """Input the plugin must reject with InvalidRequest before any I/O."""

    operation: str
    invoke: Invoke
    why: str


@attrs.frozen
class ErrorCase:
    """A call the sandbox answers with ``vendor_code``; the host must see ``expected``."""

    name: str
    operation: str
    invoke: Invoke
    expected: type[BrokerportError]
    vendor_code: str


@attrs.frozen
class PagedCase:
    """A listing seeded with ``expected`` items, read with a small page size."""

    operation: str
    call: Callable[[Any], Awaitable[m.Page[Any]]]
    request: Any
    expected: frozenset[str]
    key: Callable[[Any], str]


class Samples:
    """Override what your vendor supports. ``client`` is connected to ``sandbox``."""

    #: Seconds the vendor accepts a request timestamp; None: no timestamp check.
    timestamp_window: float | None = None

    def __init__(self, client: Client, sandbox: Sandbox | None) -> None:
        self.client = client
        self.sandbox = sandbox

    async def prepare(self) -> None:
        """Create whatever the samples need (users, accounts, funds) before a test."""

    # ---------------------------------------------------------------- ports

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        raise NotImplementedError

    async def key_owner(self) -> str:
        """Who API keys are created for (e.g. a fresh sub-account)."""
        raise NotImplementedError

    def create_api_key(self, owner: str) -> m.CreateApiKey:
        raise NotImplementedError

    def funding_account(self) -> str:
        raise NotImplementedError

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        raise NotImplementedError

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        """Finish a requested deposit (e.g. confirm the payment) so history shows it."""

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        raise NotImplementedError

    def withdrawal_client(self, account_id: str) -> AbstractAsyncContextManager[Client]:
        """The client a withdrawal from ``account_id`` is requested with: the kit's own
        (default), or — where the vendor has an account withdraw with its own
        credentials (OKX's DMA sub-accounts) — one holding those, closed afterwards."""
        return contextlib.nullcontext(self.client)

    def history_query(self, account_id: str) -> m.FundingHistoryQuery:
        return m.FundingHistoryQuery(account_id=account_id)

    def list_accounts(self) -> m.ListAccounts:
        raise NotImplementedError

    def place_order(self, n: int = 0) -> m.PlaceOrder:
        raise NotImplementedError

    def order_query(self) -> m.OrderQuery:
        return m.OrderQuery()

    def position_query(self) -> m.PositionQuery:
        raise NotImplementedError

    async def paged_cases(self) -> list[PagedCase]:
        """Seed listings larger than one page and say what they must return."""
        return []

    def invalid_cases(self) -> list[InvalidCase]:
        return []

    def error_cases(self) -> list[ErrorCase]:
        return []

    # ---------------------------------------------------------- reliability

    def read_call(self) -> tuple[str, dict[str, Any]]:
        """An idempotent, signed read: (endpoint name, params)."""
        raise NotImplementedError

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        """A non-idempotent write with fresh params for each ``n``."""
        raise NotImplementedError

    def burst_call(self, n: int) -> tuple[str, dict[str, Any]]:
        """A rate-limited call for the burst test (defaults to :meth:`read_call`)."""
        return self.read_call()

    def tamper(self, body: bytes, query: str) -> tuple[bytes, str]:
        """Change one byte of what was signed; default: bump the last digit."""
        if body:
            return _bump_last_digit(body), query
        return body, _bump_last_digit(query.encode()).decode()


def _bump_last_digit(data: bytes) -> bytes:
    matches = list(re.finditer(rb"[0-9]", data))
    if not matches:
        # no digit: flip the case of the last letter
        letters = list(re.finditer(rb"[A-Za-z]", data))
        if not letters:
            return data + b" "
        i = letters[-1].start()
        return data[:i] + data[i : i + 1].swapcase() + data[i + 1 :]
    i = matches[-1].start()
    digit = (data[i] - 48 + 1) % 10
    return data[:i] + bytes([48 + digit]) + data[i + 1 :]
