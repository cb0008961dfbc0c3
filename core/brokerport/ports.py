"""The five capability ports and extension ports.

A port is a class of async operations. A plugin subclasses a port, overrides
the operations its vendor supports, and lists them in its adapter's
``operations``. The client gates every port: an operation the adapter does
not declare raises :class:`~brokerport.errors.NotSupported` before any I/O,
even if a subclass happens to define it.

Operation names are ``"<port>.<method>"``, e.g. ``"subaccounts.create"``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .errors import NotSupported

if TYPE_CHECKING:
    # annotations only: importing the ports must not import the models (listing
    # plugins imports this module; the models load when a client opens)
    from . import models as m
    from .client import Client
    from .streams import OrderStream

__all__ = [
    "OPERATION_NAMES",
    "PORTS",
    "AccountPort",
    "Extension",
    "FundingPort",
    "KeyMgmtPort",
    "Port",
    "StreamPort",
    "SubAccountPort",
    "TradingPort",
    "all_operations",
    "stream_operation",
]

T = TypeVar("T")

#: Port name -> the names of its operations, in definition order: a static table,
#: so checking an adapter's declared names needs no port class and no model
#: (``tests/core/test_startup_imports.py`` checks it equals what the classes define).
OPERATION_NAMES: dict[str, tuple[str, ...]] = {
    "accounts": (
        "list",
        "get",
        "open_live",
        "open_demo",
        "update_profile",
        "get_leverage",
        "set_leverage",
        "set_trade_password",
        "get_trade_permissions",
        "update_trade_permissions",
        "set_state",
        "close",
    ),
    "funding": (
        "balances",
        "request_deposit",
        "confirm_deposit",
        "cancel_deposit",
        "request_withdrawal",
        "cancel_withdrawal",
        "transfer",
        "deposit_history",
        "withdrawal_history",
        "cash_ledger",
        "create_deposit_address",
        "update_deposit_address",
        "list_deposit_addresses",
        "list_payees",
        "add_payee",
        "update_payee",
        "delete_payee",
        "exchange_rate",
    ),
    "trading": (
        "place_order",
        "amend_order",
        "cancel_order",
        "get_order",
        "open_orders",
        "order_history",
        "fills",
        "positions",
        "buying_power",
    ),
    "subaccounts": (
        "create",
        "delete",
        "list",
        "set_level",
        "fee_rates",
        "report_ip",
        "set_demo_assets",
    ),
    "keys": (
        "create",
        "list",
        "update",
        "delete",
        "disable",
        "enable",
        "renew_token",
        "revoke_token",
    ),
    "streams": ("orders",),
}


def operation(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Marks a port method as an operation (the base raises NotSupported)."""
    fn.__brokerport_operation__ = True  # type: ignore[attr-defined]
    return fn


class Port:
    """Base of ports and extension ports."""

    #: The attribute name on the client (``client.subaccounts``).
    port_name: ClassVar[str] = ""

    def __init__(self, client: Client) -> None:
        self.client = client

    def structure(self, data: Any, cls: type[T]) -> T:
        """Structure decoded vendor data with the adapter's converter."""
        return self.client.structure(data, cls)

    @classmethod
    def operations(cls) -> tuple[str, ...]:
        """Every operation this port defines, as ``port.method`` names."""
        names = []
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if getattr(value, "__brokerport_operation__", False) and attr not in names:
                    names.append(attr)
        return tuple(f"{cls.port_name}.{n}" for n in names)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.client.vendor}>"


def stream_operation(fn: Callable[..., T]) -> Callable[..., T]:
    """Marks a port method that returns a stream (an async iterator), not an awaitable:
    undeclared, it raises NotSupported when called."""
    fn.__brokerport_operation__ = True  # type: ignore[attr-defined]
    fn.__brokerport_stream__ = True  # type: ignore[attr-defined]
    return fn


def _stream_unsupported(op: str, vendor: str) -> Callable[..., Any]:
    def not_supported(*args: Any, **kwargs: Any) -> Any:
        raise NotSupported(f"{vendor} does not support {op}", vendor=vendor, endpoint=op)

    not_supported.__name__ = op
    return not_supported


def _unsupported(op: str, vendor: str) -> Callable[..., Awaitable[Any]]:
    async def not_supported(*args: Any, **kwargs: Any) -> Any:
        raise NotSupported(f"{vendor} does not support {op}", vendor=vendor, endpoint=op)

    not_supported.__name__ = op
    return not_supported


def gate(port: Port, declared: frozenset[str], vendor: str) -> Port:
    """Replace every undeclared operation on ``port`` with a NotSupported raiser."""
    for op in type(port).operations():
        if op not in declared:
            method = op.split(".", 1)[1]
            stream = getattr(getattr(type(port), method), "__brokerport_stream__", False)
            raiser = (_stream_unsupported if stream else _unsupported)(op, vendor)
            object.__setattr__(port, method, raiser)
    return port


class AccountPort(Port):
    """Trading accounts a user owns at the vendor."""

    port_name = "accounts"

    @operation
    async def list(self, request: m.ListAccounts) -> m.Page[m.Account]:
        raise NotSupported("accounts.list")

    @operation
    async def get(self, request: m.GetAccount) -> m.Account:
        raise NotSupported("accounts.get")

    @operation
    async def open_live(self, request: m.OpenAccount) -> m.AccountApplication:
        raise NotSupported("accounts.open_live")

    @operation
    async def open_demo(self, request: m.OpenDemoAccount) -> m.AccountApplication:
        raise NotSupported("accounts.open_demo")

    @operation
    async def update_profile(self, request: m.UpdateProfile) -> m.Ack:
        raise NotSupported("accounts.update_profile")

    @operation
    async def get_leverage(self, request: m.GetLeverage) -> m.Leverage:
        raise NotSupported("accounts.get_leverage")

    @operation
    async def set_leverage(self, request: m.SetLeverage) -> m.Ack:
        raise NotSupported("accounts.set_leverage")

    @operation
    async def set_trade_password(self, request: m.SetTradePassword) -> m.Ack:
        raise NotSupported("accounts.set_trade_password")

    @operation
    async def get_trade_permissions(self, request: m.GetTradePermissions) -> m.TradePermissions:
        raise NotSupported("accounts.get_trade_permissions")

    @operation
    async def update_trade_permissions(self, request: m.UpdateTradePermissions) -> m.Ack:
        raise NotSupported("accounts.update_trade_permissions")

    @operation
    async def set_state(self, request: m.SetAccountState) -> m.Ack:
        raise NotSupported("accounts.set_state")

    @operation
    async def close(self, request: m.CloseAccount) -> m.Ack:
        raise NotSupported("accounts.close")


class FundingPort(Port):
    """Money in, out and between accounts, and its history."""

    port_name = "funding"

    @operation
    async def balances(self, request: m.GetBalances) -> tuple[m.Balance, ...]:
        raise NotSupported("funding.balances")

    @operation
    async def request_deposit(self, request: m.DepositRequest) -> m.DepositTicket:
        raise NotSupported("funding.request_deposit")

    @operation
    async def confirm_deposit(self, request: m.DepositConfirmation) -> m.Ack:
        raise NotSupported("funding.confirm_deposit")

    @operation
    async def cancel_deposit(self, request: m.CancelDeposit) -> m.Ack:
        raise NotSupported("funding.cancel_deposit")

    @operation
    async def request_withdrawal(self, request: m.WithdrawalRequest) -> m.WithdrawalTicket:
        raise NotSupported("funding.request_withdrawal")

    @operation
    async def cancel_withdrawal(self, request: m.CancelWithdrawal) -> m.Ack:
        raise NotSupported("funding.cancel_withdrawal")

    @operation
    async def transfer(self, request: m.TransferRequest) -> m.TransferResult:
        raise NotSupported("funding.transfer")

    @operation
    async def deposit_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        raise NotSupported("funding.deposit_history")

    @operation
    async def withdrawal_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        raise NotSupported("funding.withdrawal_history")

    @operation
    async def cash_ledger(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        raise NotSupported("funding.cash_ledger")

    @operation
    async def create_deposit_address(self, request: m.CreateDepositAddress) -> m.DepositAddress:
        raise NotSupported("funding.create_deposit_address")

    @operation
    async def update_deposit_address(self, request: m.UpdateDepositAddress) -> m.DepositAddress:
        raise NotSupported("funding.update_deposit_address")

    @operation
    async def list_deposit_addresses(
        self, request: m.ListDepositAddresses
    ) -> tuple[m.DepositAddress, ...]:
        raise NotSupported("funding.list_deposit_addresses")

    @operation
    async def list_payees(self, request: m.ListPayees) -> tuple[m.Payee, ...]:
        raise NotSupported("funding.list_payees")

    @operation
    async def add_payee(self, request: m.AddPayee) -> m.Payee:
        raise NotSupported("funding.add_payee")

    @operation
    async def update_payee(self, request: m.UpdatePayee) -> m.Payee:
        raise NotSupported("funding.update_payee")

    @operation
    async def delete_payee(self, request: m.DeletePayee) -> m.Ack:
        raise NotSupported("funding.delete_payee")

    @operation
    async def exchange_rate(self, request: m.ExchangeRateQuery) -> m.ExchangeRate:
        raise NotSupported("funding.exchange_rate")


class TradingPort(Port):
    """Orders, fills and positions."""

    port_name = "trading"

    @operation
    async def place_order(self, request: m.PlaceOrder) -> m.OrderAck:
        raise NotSupported("trading.place_order")

    @operation
    async def amend_order(self, request: m.AmendOrder) -> m.OrderAck:
        raise NotSupported("trading.amend_order")

    @operation
    async def cancel_order(self, request: m.OrderRef) -> m.OrderAck:
        raise NotSupported("trading.cancel_order")

    @operation
    async def get_order(self, request: m.OrderRef) -> m.Order:
        raise NotSupported("trading.get_order")

    @operation
    async def open_orders(self, request: m.OrderQuery) -> m.Page[m.Order]:
        raise NotSupported("trading.open_orders")

    @operation
    async def order_history(self, request: m.OrderQuery) -> m.Page[m.Order]:
        raise NotSupported("trading.order_history")

    @operation
    async def fills(self, request: m.OrderQuery) -> m.Page[m.Fill]:
        raise NotSupported("trading.fills")

    @operation
    async def positions(self, request: m.PositionQuery) -> m.Page[m.Position]:
        raise NotSupported("trading.positions")

    @operation
    async def buying_power(self, request: m.BuyingPowerQuery) -> m.BuyingPower:
        raise NotSupported("trading.buying_power")


class SubAccountPort(Port):
    """Sub-accounts a broker or IB manages under its own account."""

    port_name = "subaccounts"

    @operation
    async def create(self, request: m.CreateSubAccount) -> m.SubAccount:
        raise NotSupported("subaccounts.create")

    @operation
    async def delete(self, request: m.SubAccountRef) -> m.Ack:
        raise NotSupported("subaccounts.delete")

    @operation
    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        raise NotSupported("subaccounts.list")

    @operation
    async def set_level(self, request: m.SetSubAccountLevel) -> m.Ack:
        raise NotSupported("subaccounts.set_level")

    @operation
    async def fee_rates(self, request: m.FeeRateQuery) -> m.Page[m.FeeRate]:
        raise NotSupported("subaccounts.fee_rates")

    @operation
    async def report_ip(self, request: m.ReportLoginIp) -> m.Ack:
        raise NotSupported("subaccounts.report_ip")

    @operation
    async def set_demo_assets(self, request: m.SetDemoAssets) -> m.Ack:
        raise NotSupported("subaccounts.set_demo_assets")


class KeyMgmtPort(Port):
    """API keys (of sub-accounts or the host's own) and session tokens."""

    port_name = "keys"

    @operation
    async def create(self, request: m.CreateApiKey) -> m.ApiKey:
        raise NotSupported("keys.create")

    @operation
    async def list(self, request: m.ListApiKeys) -> tuple[m.ApiKey, ...]:
        raise NotSupported("keys.list")

    @operation
    async def update(self, request: m.UpdateApiKey) -> m.ApiKey:
        raise NotSupported("keys.update")

    @operation
    async def delete(self, request: m.ApiKeyRef) -> m.Ack:
        raise NotSupported("keys.delete")

    @operation
    async def disable(self, request: m.ApiKeyRef) -> m.Ack:
        raise NotSupported("keys.disable")

    @operation
    async def enable(self, request: m.ApiKeyRef) -> m.Ack:
        raise NotSupported("keys.enable")

    @operation
    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        raise NotSupported("keys.renew_token")

    @operation
    async def revoke_token(self, request: m.RenewToken) -> m.Ack:
        raise NotSupported("keys.revoke_token")


class StreamPort(Port):
    """Events the vendor pushes: ``async for event in client.streams.orders(...)``.

    A plugin subclasses this, overrides ``orders`` to return
    :meth:`open_stream` with its :class:`~brokerport.streams.StreamProtocol`,
    and declares ``"streams.orders"``. Closing the client ends every stream.
    """

    port_name = "streams"

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self._streams: set[OrderStream] = set()

    @stream_operation
    def orders(self, query: m.OrderStreamQuery | None = None, **settings: Any) -> m.OrderEvents:
        """Order events (:class:`~brokerport.models.OrderEvent`) of the account."""
        raise NotSupported("streams.orders")

    def open_stream(self, protocol: Any, **settings: Any) -> OrderStream:
        """A stream run by the core websocket client (:mod:`brokerport.streams`) with the
        vendor's ``protocol``; ``settings`` are :class:`~brokerport.streams.StreamSettings`
        fields (``max_buffered``, ``backoff``, ``sleep``, ...)."""
        from .streams import OrderStream

        stream = OrderStream(self.client, protocol, on_close=self._streams.discard, **settings)
        self._streams.add(stream)
        return stream

    async def aclose(self) -> None:
        """End every open stream (the client calls this when it closes)."""
        for stream in list(self._streams):
            await stream.aclose()


class Extension(Port):
    """A vendor-namespaced port for what fits no core port (``client.ext("okx.rebates")``).

    Subclasses set ``port_name`` to the namespaced name and define plain async
    methods; every method is reachable once the adapter lists the extension.
    """


PORTS: dict[str, type[Port]] = {
    p.port_name: p
    for p in (AccountPort, FundingPort, TradingPort, SubAccountPort, KeyMgmtPort, StreamPort)
}


@functools.cache
def all_operations() -> frozenset[str]:
    return frozenset(op for p in PORTS.values() for op in p.operations())
