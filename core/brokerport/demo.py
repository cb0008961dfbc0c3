"""``brokerport demo`` and ``brokerport sandbox``: plugins on their embedded sandboxes.

The demo walks each installed plugin through the operations it declares,
with the plugin's own :class:`~brokerport.testing.samples.Samples` data, on its
in-process sandbox (127.0.0.1, no credentials), and prints what it did.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import models as m
from .errors import BrokerportError, InvalidRequest, NotSupported, PluginError

if TYPE_CHECKING:
    from .client import Client
    from .testing.samples import Samples

Say = Callable[[str], None]


def _short(value: Any, limit: int = 110) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Walk:
    def __init__(self, client: Client, samples: Samples, say: Say, verbose: bool) -> None:
        self.client = client
        self.samples = samples
        self.say = say
        self.verbose = verbose
        self.failures = 0
        self.done = 0

    def has(self, *ops: str) -> bool:
        return all(op in self.client.capabilities for op in ops)

    async def step(self, op: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        try:
            result = await fn()
        except NotImplementedError:
            self.say(f"  - {op}: no sample data in the plugin; skipped")
            return None
        except BrokerportError as exc:
            self.failures += 1
            self.say(f"  ✗ {op}: {type(exc).__name__}: {exc}")
            return None
        self.done += 1
        if isinstance(result, m.Page):
            text = f"{len(result.items)} item(s)" + (
                f", next cursor {result.next_cursor!r}" if result.next_cursor else ""
            )
            if result.items:
                text += f"; first: {_short(result.items[0], 80)}"
        elif isinstance(result, tuple):
            text = f"{len(result)} item(s)" + (
                f"; first: {_short(result[0], 80)}" if result else ""
            )
        else:
            text = _short(result, 10_000 if self.verbose else 110)
        self.say(f"  ✓ {op}: {text}")
        return result

    async def run(self) -> None:
        c, s = self.client, self.samples
        if self.has("subaccounts.create"):
            sub = await self.step(
                "subaccounts.create", lambda: c.subaccounts.create(s.create_subaccount(0))
            )
            if self.has("subaccounts.list"):
                await self.step(
                    "subaccounts.list", lambda: c.subaccounts.list(m.ListSubAccounts(limit=10))
                )
            if sub is not None and self.has("keys.create", "keys.list"):
                req = s.create_api_key(sub.name)
                key = await self.step("keys.create", lambda: c.keys.create(req))
                await self.step("keys.list", lambda: c.keys.list(m.ListApiKeys(owner=sub.name)))
                if key is not None and self.has("keys.delete"):
                    await self.step(
                        "keys.delete",
                        lambda: c.keys.delete(m.ApiKeyRef(owner=sub.name, api_key=key.api_key)),
                    )
            if sub is not None and self.has("subaccounts.delete"):
                await self.step(
                    "subaccounts.delete",
                    lambda: c.subaccounts.delete(m.SubAccountRef(name=sub.name)),
                )
        if self.has("accounts.list"):
            await self.step("accounts.list", lambda: c.accounts.list(s.list_accounts()))
        account: str | None = None
        try:
            account = s.funding_account()
        except NotImplementedError:
            account = None
        if account is not None:
            acct = account
            if self.has("accounts.get"):
                await self.step(
                    "accounts.get", lambda: c.accounts.get(m.GetAccount(account_id=acct))
                )
            if self.has("funding.balances"):
                await self.step(
                    "funding.balances", lambda: c.funding.balances(m.GetBalances(account_id=acct))
                )
            if self.has("funding.request_deposit"):
                dep = s.deposit(acct, 0)
                ticket = await self.step(
                    "funding.request_deposit", lambda: c.funding.request_deposit(dep)
                )
                if ticket is not None:
                    await s.complete_deposit(ticket, dep)
            if self.has("funding.request_withdrawal"):

                async def withdraw() -> Any:
                    async with s.withdrawal_client(acct) as own:  # OKX: the account's own key
                        return await own.funding.request_withdrawal(s.withdrawal(acct, 0))

                await self.step("funding.request_withdrawal", withdraw)
            for op in ("deposit_history", "withdrawal_history", "cash_ledger"):
                if self.has(f"funding.{op}"):
                    history = getattr(c.funding, op)
                    query = s.history_query(acct)
                    await self.step(f"funding.{op}", functools.partial(history, query))
        if self.has("trading.place_order"):
            order = await self.step(
                "trading.place_order", lambda: c.trading.place_order(s.place_order(0))
            )
            if order is not None and self.has("trading.get_order"):
                inst = s.place_order(0).instrument
                await self.step(
                    "trading.get_order",
                    lambda: c.trading.get_order(
                        m.OrderRef(instrument=inst, order_id=order.order_id)
                    ),
                )
        for op in ("open_orders", "order_history"):
            if self.has(f"trading.{op}"):
                listing = getattr(c.trading, op)
                await self.step(f"trading.{op}", functools.partial(listing, s.order_query()))
        if self.has("trading.positions"):
            await self.step("trading.positions", lambda: c.trading.positions(s.position_query()))
        # bad input is refused before any I/O
        for case in s.invalid_cases()[:2]:
            try:
                await case.invoke(c)
            except (InvalidRequest, ValueError, TypeError) as exc:
                self.say(f"  ✓ refused before sending ({case.why}): {type(exc).__name__}")
            else:
                self.failures += 1
                self.say(f"  ✗ {case.operation}: {case.why} was accepted")
        # an operation the vendor does not offer
        undeclared = sorted(set(_all_ops()) - c.capabilities.operations)
        if undeclared:
            op = undeclared[0]
            port, _, method = op.partition(".")
            try:
                await getattr(getattr(c, port), method)(None)
            except NotSupported:
                self.say(f"  ✓ {op}: NotSupported, no request sent")


def _all_ops() -> frozenset[str]:
    from .ports import all_operations

    return all_operations()


def load_samples(adapter: Any) -> type[Samples] | None:
    path = adapter.samples
    if not path:
        return None
    module, _, attr = path.partition(":")
    cls: type[Samples] = getattr(importlib.import_module(module), attr)
    return cls


async def demo_one(name: str, say: Say, verbose: bool = False) -> bool:
    from . import connect

    client = connect(name)
    async with client:
        assert client.sandbox is not None or not client.profile.is_sandbox
        where = client.profile.base_url
        say(f"{name}: sandbox at {where}")
        caps = client.capabilities.ports
        say("  capabilities: " + "; ".join(f"{p}: {', '.join(o)}" for p, o in caps.items()))
        samples_cls = load_samples(client.adapter_cls)
        if samples_cls is None:
            say("  (the plugin ships no samples: nothing more to walk)")
            return True
        samples = samples_cls(client, client.sandbox)
        await samples.prepare()
        walk = Walk(client, samples, say, verbose)
        await walk.run()
        if client.sandbox is not None:
            j = client.sandbox.journal
            say(
                f"  {walk.done} operations, {len(j)} signed requests verified by the sandbox, "
                f"{len(j.effects())} state changes, {walk.failures} failures"
            )
        return walk.failures == 0


async def run_demo(vendors: list[str], *, verbose: bool = False) -> int:
    from .registry import list_plugins

    plugins = list_plugins()
    names = vendors or [p.name for p in plugins if p.ok and p.has_sandbox]
    broken = [p for p in plugins if not p.ok and (not vendors or p.name in vendors)]
    for p in broken:
        print(f"{p.name}: not loaded: {p.error}")
    if not names:
        print("no plugin with a sandbox is installed")
        return 1
    ok = True
    for name in names:
        try:
            ok = await demo_one(name, print, verbose) and ok
        except (BrokerportError, PluginError) as exc:
            ok = False
            print(f"{name}: failed: {exc}")
        print()
    print("demo finished: " + ("all plugins walked cleanly" if ok else "with failures"))
    return 0 if ok else 1


async def serve_sandbox(name: str, host: str, port: int, seconds: float | None) -> None:
    """Moved to :func:`brokerport.sandbox.serve.serve_sandbox` (options, --json)."""
    from .sandbox.serve import serve_sandbox as serve

    await serve(name, host=host, port=port, seconds=seconds)
