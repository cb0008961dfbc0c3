"""The synchronous facade: same ports, models, errors and hooks; several threads;
a clear error inside a running loop; clean exit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal

import brokerport
import brokerport.sync
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.sync import EventLoopRunning, SyncClient
from fakex_vendor import FAST_RETRY, Fakex, FakexSandbox


def test_ports_models_errors_and_paging() -> None:
    with brokerport.sync.connect("acme") as client:
        assert "subaccounts.create" in client.capabilities
        sub = client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        assert isinstance(sub, m.SubAccount) and sub.name == "desk1"
        for name in ("desk2", "desk3"):
            client.subaccounts.create(m.CreateSubAccount(name=name))
        names = [
            s.name
            for s in brokerport.sync.paginate(client.subaccounts.list, m.ListSubAccounts(limit=2))
        ]
        assert sorted(names) == ["desk1", "desk2", "desk3"]
        with pytest.raises(brokerport.Conflict):
            client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        with pytest.raises(brokerport.NotSupported):
            client.trading.fills(None)
        with pytest.raises(brokerport.InvalidRequest):
            client.funding.request_deposit(
                m.DepositRequest(account_id="desk1", amount=Decimal("1.001"), currency="USD")
            )
        # the same pipeline: a lost answer to acme's keyed deposit is retried, applied once
        client.sandbox.faults.add("lost", "funding.deposit")
        client.funding.request_deposit(
            m.DepositRequest(account_id="desk1", amount=Decimal("5"), currency="USD")
        )
        assert len(client.sandbox.journal.effects("funding.deposit")) == 1
        assert client.call("subaccount.list")["items"]
    assert "closed" in repr(client)
    with pytest.raises(brokerport.PluginError, match="closed"):
        client.call("subaccount.list")


def test_hooks_run_and_may_not_call_back_into_the_facade() -> None:
    seen: list[str] = []
    holder: dict[str, SyncClient] = {}

    class Audit:
        @brokerport.hookimpl
        def brokerport_after_response(self, call, response, result):  # type: ignore[no-untyped-def]
            seen.append(call.endpoint.name)
            if len(seen) == 1:
                with pytest.raises(EventLoopRunning, match="loop thread"):
                    holder["c"].call("subaccount.list")  # would deadlock: refused
                seen.append("refused")

    with brokerport.sync.connect("acme", hooks=[Audit()]) as client:
        holder["c"] = client
        client.subaccounts.create(m.CreateSubAccount(name="desk4"))
    assert seen == ["subaccount.create", "refused"]


def test_safe_from_several_threads() -> None:
    errors: list[BaseException] = []
    with brokerport.sync.connect("acme") as client:

        def work(i: int) -> None:
            try:
                for j in range(2):
                    client.subaccounts.create(m.CreateSubAccount(name=f"t{i}x{j}aa"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        names = {
            s.name for s in brokerport.sync.paginate(client.subaccounts.list, m.ListSubAccounts())
        }
        assert len(names) == 16
        assert len(client.sandbox.journal.effects()) == 16


async def test_inside_a_running_loop_it_says_use_the_async_api() -> None:
    with pytest.raises(EventLoopRunning, match="use the async API"):
        brokerport.sync.connect("acme")
    # a facade opened in a worker thread refuses to block this loop too
    client = await asyncio.to_thread(brokerport.sync.connect, "acme")
    try:
        with pytest.raises(EventLoopRunning, match="async API"):
            client.subaccounts.list(m.ListSubAccounts())
        page = await asyncio.to_thread(client.subaccounts.list, m.ListSubAccounts())
        assert page.items == ()
    finally:
        await asyncio.to_thread(client.close)
    assert isinstance(EventLoopRunning("x"), brokerport.BrokerportError)


async def test_wrapping_an_async_client(sandbox: FakexSandbox) -> None:
    def body() -> None:
        with SyncClient(Client(Fakex, sandbox.profile(), retry=FAST_RETRY)) as client:
            assert client.ext("fakex.tools").ping() is not None
            client.subaccounts.create(m.CreateSubAccount(name="desk5"))

    await asyncio.to_thread(body)
    assert len(sandbox.journal) == 2


def test_open_clients_close_cleanly_at_exit() -> None:
    script = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("error")
        import brokerport.sync
        from brokerport import models as m
        client = brokerport.sync.connect("acme")
        client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        print("done")
        # no close(): atexit closes the client, its session and sandbox, then the loop
        """
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
    assert out.stderr == "", out.stderr  # no unclosed session, no pending task
