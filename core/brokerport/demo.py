"""``brokerport demo`` and ``brokerport sandbox``: plugins on their embedded sandboxes.

The demo walks each installed plugin through the operations it declares,
with the plugin's own :class:`~brokerport.testing.samples.Samples` data, on its
in-process sandbox (127.0.0.1, no credentials), and prints what it did.
"""

from __future__ import annotations

import asyncio
import functools
import sys
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
        if self.has("streams.orders", "trading.place_order"):
            await self.stream_walk()
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

    def show(self, event: m.OrderEvent) -> None:
        avg = "-" if event.average_price is None else format(event.average_price, "f")
        qty = "?" if event.quantity is None else format(event.quantity, "f")
        self.say(
            f"    ↳ order {event.order_id} {event.status}: filled "
            f"{format(event.filled_quantity, 'f')}/{qty} at avg {avg} "
            f"({event.source}, {event.at:%H:%M:%S} UTC)"
        )

    async def stream_walk(self) -> None:
        """A live order stream: place an order, let the sandbox fill it, see every push."""
        c, s = self.client, self.samples

        async def until(stream: Any, order_id: str, final: bool) -> m.OrderEvent:
            while True:
                event: m.OrderEvent = await asyncio.wait_for(anext(stream), 5)
                self.show(event)
                if event.order_id == order_id and (event.final or not final):
                    return event

        try:
            async with c.streams.orders() as stream:
                self.say("  ✓ streams.orders: logged in and subscribed")
                ack = await c.trading.place_order(s.place_order(7))
                last = await until(stream, ack.order_id or "", False)
                if c.sandbox is not None:
                    for _ in range(2):  # the sandbox's fill schedule, one step at a time
                        if last.final:
                            break
                        c.sandbox.tick()
                        last = await until(stream, last.order_id, False)
                if not last.final and self.has("trading.cancel_order"):
                    ref = m.OrderRef(instrument=s.place_order(7).instrument, order_id=last.order_id)
                    await c.trading.cancel_order(ref)
                    last = await until(stream, last.order_id, True)
                self.done += 1
                self.say(f"  ✓ streams.orders: order {last.order_id} ended {last.status}")
        except (BrokerportError, TimeoutError, NotImplementedError) as exc:
            self.failures += 1
            self.say(f"  ✗ streams.orders: {type(exc).__name__}: {exc}")


def _all_ops() -> frozenset[str]:
    from .ports import all_operations

    return all_operations()


def load_samples(adapter: Any) -> type[Samples] | None:
    from .testing.samples import load_samples as load

    return load(adapter.samples) if adapter.samples else None


class LocalProxy:
    """``proxy.py`` (an HTTP CONNECT proxy from PyPI) on 127.0.0.1, in a subprocess,
    requiring a username and a password made up for this run."""

    def __init__(self) -> None:
        import secrets
        import tempfile
        from pathlib import Path

        self.dir = Path(tempfile.mkdtemp(prefix="brokerport-demo-proxy-"))
        self.username = "demo"
        self.password = secrets.token_urlsafe(12)
        self.port = 0
        self.proc: Any = None

    async def start(self) -> None:
        import subprocess
        import sys

        port_file = self.dir / "port"
        self.log = (self.dir / "proxy.log").open("wb")
        args = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"]
        args += ["--port-file", str(port_file), "--num-acceptors", "1", "--num-workers", "1"]
        args += ["--basic-auth", f"{self.username}:{self.password}", "--log-level", "INFO"]
        self.proc = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(400):
            text = port_file.read_text() if port_file.exists() else ""
            if text.strip():
                self.port = int(text)
                break
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        if not self.port:
            raise PluginError("the demo proxy (proxy.py) did not start")
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return
        raise PluginError("the demo proxy (proxy.py) does not accept connections")

    @property
    def settings(self) -> Any:
        from .proxy import ProxySettings

        return ProxySettings(
            host="127.0.0.1", port=self.port, username=self.username, password=self.password
        )

    async def tunnels_to(self, base_url: str) -> int:
        """CONNECT tunnels to ``base_url``'s port in proxy.py's access log (logged on close)."""
        port = base_url.rsplit(":", 1)[1].rstrip("/")
        count = 0
        for _ in range(40):
            text = (self.dir / "proxy.log").read_text(errors="replace")
            count = sum(
                1 for line in text.splitlines() if "CONNECT" in line and f":{port} " in line
            )
            if count:
                break
            await asyncio.sleep(0.05)
        return count

    def stop(self) -> None:
        import shutil

        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


async def demo_one(
    name: str, say: Say, verbose: bool = False, proxy: LocalProxy | None = None
) -> bool:
    from . import connect
    from .profile import Profile

    profile = Profile.load(name)
    if proxy is not None:
        import attrs

        profile = attrs.evolve(profile, proxy=proxy.settings)
    client = connect(name, profile)
    async with client:
        assert client.sandbox is not None or not client.profile.is_sandbox
        where = client.profile.base_url
        say(f"{name}: sandbox at {where}")
        if proxy is not None:
            say(f"  reached through {client.profile.proxy!r}")
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
    if proxy is not None and where:
        tunnels = await proxy.tunnels_to(where)
        say(f"  proxy.py logged {tunnels} CONNECT tunnel(s) to the sandbox (one shared pool)")
        if not tunnels:
            return False
    return walk.failures == 0


async def run_demo(vendors: list[str], *, verbose: bool = False, via_proxy: bool = False) -> int:
    proxy: LocalProxy | None = None
    if via_proxy:
        import importlib.util

        if importlib.util.find_spec("proxy") is None:
            print("--via-proxy needs the proxy.py package: pip install proxy.py")
            return 2
        proxy = LocalProxy()
        try:
            await proxy.start()
        except BaseException:
            proxy.stop()
            raise
        print(
            f"proxy: proxy.py listening on 127.0.0.1:{proxy.port}, HTTP CONNECT, "
            f"user {proxy.username!r} with a password made for this run\n"
        )
    try:
        return await _run_demo(vendors, verbose=verbose, proxy=proxy)
    finally:
        if proxy is not None:
            proxy.stop()


async def _run_demo(vendors: list[str], *, verbose: bool, proxy: LocalProxy | None) -> int:
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
    for i, name in enumerate(names, 1):
        if len(names) > 1:  # progress on stderr: what the demo did stays on stdout
            print(f"[{i}/{len(names)}] demo {name} ...", file=sys.stderr, flush=True)
        try:
            ok = await demo_one(name, print, verbose, proxy) and ok
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
