"""The conformance kit: the port contracts every plugin must honour.

Opt in by subclassing, as with SQLAlchemy's dialect suite or pandas'
extension-array base tests::

    # plugins/acme/tests/test_conformance.py
    from brokerport.testing.conformance import ConformanceSuite

    class TestAcmeConformance(ConformanceSuite):
        vendor = "acme"

The suite connects to the plugin's embedded sandbox (override the
``brokerport_sandbox`` / ``brokerport_client`` fixtures to point it elsewhere),
reads sample data from the adapter's :class:`~brokerport.testing.samples.Samples`,
and checks contracts, not vendors. A contract whose operations the adapter
does not declare is *skipped* with a reason naming the operation; a declared
operation whose contract fails, or that has no sample to prove it, *fails*.

The suite is a public contract: test names and meanings are stable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import aiohttp
import pytest
import pytest_asyncio

from .. import models as m
from ..adapter import Adapter
from ..client import Client, paginate
from ..errors import (
    BrokerportError,
    InvalidRequest,
    NotSupported,
    PluginError,
    UnknownOutcome,
)
from ..pipeline import RetryPolicy
from ..ports import PORTS, all_operations
from ..registry import load_adapter, load_sandbox
from ..sandbox import Sandbox
from ..transport import TransportSettings
from .samples import Samples, load_samples

__all__ = ["ConformanceSuite", "contract"]

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def contract(port: str, operation: str, *requires: str) -> Callable[[F], F]:
    """Marks a kit test with the port/operation it proves and the operations it needs."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        async def wrapper(self: ConformanceSuite, *args: Any, **kwargs: Any) -> None:
            if requires:  # tests that need no operation may not take the client fixture
                client: Client = kwargs["brokerport_client"]
                missing = [op for op in requires if op not in client.capabilities]
                if missing:
                    pytest.skip(f"{client.vendor} does not declare {', '.join(missing)}")
            await fn(self, *args, **kwargs)

        marked = pytest.mark.brokerport_contract(port, operation, requires)(wrapper)
        return pytest.mark.asyncio(marked)  # type: ignore[no-any-return]

    return deco


def _needs(samples: Samples, what: str) -> Any:
    """Call a Samples method; a missing sample for a declared operation fails."""
    method = getattr(samples, what)

    def call(*args: Any) -> Any:
        try:
            return method(*args)
        except NotImplementedError:
            pytest.fail(
                f"{samples.client.vendor} declares the operations of this contract but its "
                f"Samples does not implement {what}(); the kit cannot prove the contract",
                pytrace=False,
            )

    return call


def _secret_values(client: Client) -> list[str]:
    return [s.reveal() for s in client.profile.credentials.values() if len(s.reveal()) >= 6]


async def _collect(it: AsyncIterator[Any]) -> list[Any]:
    return [x async for x in it]


class ConformanceSuite:
    """Inherit this in a ``Test*`` class and set ``vendor``."""

    #: The entry-point name of the adapter under test.
    vendor: ClassVar[str] = ""
    #: Keyword options for the sandbox factory.
    sandbox_options: ClassVar[dict[str, Any]] = {}
    #: The Samples class; default: the adapter's ``samples``.
    samples_class: ClassVar[type[Samples] | None] = None

    # ------------------------------------------------------------ fixtures

    @pytest.fixture
    def brokerport_adapter(self, request: pytest.FixtureRequest) -> type[Adapter]:
        name = self.vendor or request.config.getoption("brokerport_vendor", None)
        if not name:
            pytest.fail("set `vendor` on the conformance class or pass --brokerport-vendor")
        return load_adapter(str(name))

    @pytest_asyncio.fixture
    async def brokerport_sandbox(
        self, brokerport_adapter: type[Adapter]
    ) -> AsyncIterator[Sandbox | None]:
        if brokerport_adapter.sandbox is None:
            yield None
            return
        sandbox = load_sandbox(brokerport_adapter.sandbox)(**self.sandbox_options)
        await sandbox.start()
        try:
            yield sandbox
        finally:
            await sandbox.stop()

    def client_for(self, adapter: type[Adapter], sandbox: Sandbox | None, **kw: Any) -> Client:
        if sandbox is None:
            pytest.skip("no sandbox: override brokerport_client to use a test account")
        kw.setdefault("transport_settings", TransportSettings(total_timeout=10, read_timeout=5))
        kw.setdefault("retry", RetryPolicy(base_delay=0.01, max_delay=0.05))
        return Client(adapter, sandbox.profile(), **kw)

    @pytest_asyncio.fixture
    async def brokerport_client(
        self, brokerport_adapter: type[Adapter], brokerport_sandbox: Sandbox | None
    ) -> AsyncIterator[Client]:
        async with self.client_for(brokerport_adapter, brokerport_sandbox) as client:
            yield client

    @pytest_asyncio.fixture
    async def samples(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        brokerport_sandbox: Sandbox | None,
    ) -> Samples:
        cls = self.samples_class
        if cls is None:
            if brokerport_adapter.samples is None:
                pytest.fail(f"{brokerport_adapter.name}: the adapter names no samples")
            cls = load_samples(brokerport_adapter.samples)
        s = cls(brokerport_client, brokerport_sandbox)
        await s.prepare()
        return s

    @staticmethod
    def need_sandbox(sandbox: Sandbox | None) -> Sandbox:
        if sandbox is None:
            pytest.skip("this contract needs the plugin's sandbox")
        return sandbox

    # -------------------------------------------------------- capabilities

    @contract("client", "port classes")
    async def test_port_and_extension_classes_resolve(
        self, brokerport_adapter: type[Adapter]
    ) -> None:
        """Each named class imports, subclasses its port and implements what is declared."""
        try:
            brokerport_adapter.resolve()
        except PluginError as exc:
            pytest.fail(str(exc), pytrace=False)

    @contract("client", "capabilities")
    async def test_capabilities_are_declared_operations(
        self, brokerport_client: Client, brokerport_adapter: type[Adapter]
    ) -> None:
        caps = brokerport_client.capabilities
        assert caps.operations == brokerport_adapter.operations
        assert caps.operations <= all_operations(), caps.operations - all_operations()
        for port, ops in caps.ports.items():
            for op in ops:
                assert f"{port}.{op}" in caps

    @contract("client", "undeclared operations")
    async def test_undeclared_operations_raise_not_supported_without_io(
        self, brokerport_client: Client, brokerport_sandbox: Sandbox | None
    ) -> None:
        before = len(brokerport_sandbox.journal) if brokerport_sandbox else 0
        undeclared = sorted(all_operations() - brokerport_client.capabilities.operations)
        leaked = []
        for op in undeclared:
            port_name, _, method = op.partition(".")
            port = getattr(brokerport_client, port_name)
            try:
                await getattr(port, method)(None)
            except NotSupported:
                continue
            except Exception as exc:
                leaked.append(f"{op} ({type(exc).__name__})")
            else:
                leaked.append(f"{op} (returned)")
        assert not leaked, f"undeclared operations did not raise NotSupported: {leaked}"
        with pytest.raises(NotSupported):
            brokerport_client.ext("no.such-extension")
        if brokerport_sandbox is not None:
            assert len(brokerport_sandbox.journal) == before, "an undeclared operation did I/O"

    # ------------------------------------------------------- round trips

    @contract(
        "subaccounts",
        "create/list/delete",
        "subaccounts.create",
        "subaccounts.list",
        "subaccounts.delete",
    )
    async def test_subaccount_round_trip(self, brokerport_client: Client, samples: Samples) -> None:
        c = brokerport_client
        req = _needs(samples, "create_subaccount")(1)
        created = await c.subaccounts.create(req)
        assert created.name == req.name
        names = [s.name for s in await _collect(paginate(c.subaccounts.list, m.ListSubAccounts()))]
        assert names.count(req.name) == 1, f"{req.name} listed {names.count(req.name)} times"
        ack = await c.subaccounts.delete(m.SubAccountRef(name=req.name))
        assert isinstance(ack, m.Ack) and ack.ok
        names = [s.name for s in await _collect(paginate(c.subaccounts.list, m.ListSubAccounts()))]
        assert req.name not in names

    @contract("keys", "create/list/delete", "keys.create", "keys.list", "keys.delete")
    async def test_api_key_round_trip(self, brokerport_client: Client, samples: Samples) -> None:
        c = brokerport_client
        owner = await _needs(samples, "key_owner")()
        req = _needs(samples, "create_api_key")(owner)
        key = await c.keys.create(req)
        assert key.api_key
        if key.secret_key is not None:
            assert key.secret_key.reveal() not in repr(key)
        listed = await c.keys.list(m.ListApiKeys(owner=owner))
        assert [k.api_key for k in listed].count(key.api_key) == 1
        await c.keys.delete(m.ApiKeyRef(owner=owner, api_key=key.api_key))
        listed = await c.keys.list(m.ListApiKeys(owner=owner))
        assert key.api_key not in [k.api_key for k in listed]

    async def _history_has(
        self,
        op: Callable[[m.FundingHistoryQuery], Awaitable[m.Page[m.FundingRecord]]],
        query: m.FundingHistoryQuery,
        amount: Any,
        currency: str | None,
    ) -> m.FundingRecord:
        records = await _collect(paginate(op, query))
        for rec in records:
            assert isinstance(rec.amount, type(amount)), "amounts must be Decimal"
            same_currency = currency is None or rec.currency in (None, currency)
            if abs(rec.amount) == amount and same_currency:
                found: m.FundingRecord = rec
                return found
        pytest.fail(f"no record of {amount} {currency} among {len(records)} history records")

    @contract("funding", "deposit -> history", "funding.request_deposit", "funding.deposit_history")
    async def test_deposit_appears_in_history(
        self, brokerport_client: Client, samples: Samples
    ) -> None:
        account = _needs(samples, "funding_account")()
        req = _needs(samples, "deposit")(account, 1)
        ticket = await brokerport_client.funding.request_deposit(req)
        await samples.complete_deposit(ticket, req)
        await self._history_has(
            brokerport_client.funding.deposit_history,
            samples.history_query(account),
            req.amount,
            req.currency,
        )

    @contract(
        "funding",
        "withdrawal -> history",
        "funding.request_withdrawal",
        "funding.withdrawal_history",
    )
    async def test_withdrawal_appears_in_history(
        self, brokerport_client: Client, samples: Samples
    ) -> None:
        account = _needs(samples, "funding_account")()
        req = _needs(samples, "withdrawal")(account, 1)
        async with samples.withdrawal_client(account) as client:
            await client.funding.request_withdrawal(req)
        await self._history_has(
            brokerport_client.funding.withdrawal_history,
            samples.history_query(account),
            req.amount,
            req.currency,
        )

    # -------------------------------------------------------- pagination

    @contract("*", "pagination")
    async def test_pagination_returns_every_item_once(
        self, brokerport_client: Client, samples: Samples
    ) -> None:
        paged = {op for op in brokerport_client.capabilities.operations if _returns_page(op)}
        if not paged:
            pytest.skip(f"{brokerport_client.vendor} declares no paged operation")
        cases = await samples.paged_cases()
        missing = paged - {c.operation for c in cases}
        assert not missing, f"declared paged operations without a PagedCase: {sorted(missing)}"
        for case in cases:
            keys = [case.key(item) for item in await _collect(paginate(case.call, case.request))]
            dupes = {k for k in keys if keys.count(k) > 1}
            assert not dupes, f"{case.operation}: items repeated across pages: {sorted(dupes)}"
            lost = case.expected - set(keys)
            assert not lost, f"{case.operation}: items lost across pages: {sorted(lost)}"

    # ------------------------------------------------------- bad input

    @contract("*", "bad input")
    async def test_bad_input_raises_invalid_request_before_io(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        cases = samples.invalid_cases()
        assert cases, "Samples.invalid_cases() gives no case: the kit cannot prove validation"
        for case in cases:
            before = len(brokerport_sandbox.journal) if brokerport_sandbox else 0
            try:
                await case.invoke(brokerport_client)
            except (InvalidRequest, ValueError, TypeError) as exc:
                if not isinstance(exc, InvalidRequest) and not _model_error(exc):
                    raise
            else:
                pytest.fail(f"{case.operation}: {case.why}: accepted")
            if brokerport_sandbox is not None:
                assert len(brokerport_sandbox.journal) == before, (
                    f"{case.operation}: {case.why}: a request reached the server"
                )

    # ---------------------------------------------------- error mapping

    @contract("*", "vendor error codes")
    async def test_vendor_errors_map_to_typed_errors(
        self, brokerport_client: Client, samples: Samples
    ) -> None:
        cases = samples.error_cases()
        assert cases, "Samples.error_cases() gives no case: the kit cannot prove error mapping"
        for case in cases:
            with pytest.raises(BrokerportError) as info:
                await case.invoke(brokerport_client)
            err = info.value
            assert isinstance(err, case.expected), (
                f"{case.name}: got {type(err).__name__}, expected {case.expected.__name__}"
            )
            assert err.vendor_code == case.vendor_code, f"{case.name}: vendor code lost"
            assert err.vendor == brokerport_client.vendor

    # ------------------------------------------------------------ secrets

    @contract("*", "secrets")
    async def test_secrets_absent_from_reprs_logs_and_errors(
        self,
        brokerport_client: Client,
        samples: Samples,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        secrets = _secret_values(brokerport_client)
        if not secrets:
            pytest.skip("the profile holds no credential to look for")
        texts = [
            repr(brokerport_client),
            repr(brokerport_client.profile),
            str(brokerport_client.profile),
            repr(brokerport_client.signer),
            repr(brokerport_client.hooks.credentials),
        ]
        with caplog.at_level(logging.DEBUG):
            name, params = _needs(samples, "read_call")()
            await brokerport_client.call(name, **params)
            for case in samples.error_cases():
                try:
                    await case.invoke(brokerport_client)
                except BrokerportError as exc:
                    texts += [str(exc), repr(exc), repr(exc.details)]
        texts += [r.getMessage() for r in caplog.records]
        texts += [repr(r.args) for r in caplog.records]
        blob = "\n".join(texts)
        for value in secrets:
            assert value not in blob, "a credential value leaked into reprs, logs or errors"

    # ------------------------------------------------------------ signing

    async def _replay(self, sandbox: Sandbox, entry: Any, body: bytes, query: str) -> int:
        headers = {
            k: v
            for k, v in entry.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        url = sandbox.base_url + entry.path + (f"?{query}" if query else "")
        from yarl import URL

        async with (
            aiohttp.ClientSession() as s,
            s.request(
                entry.method, URL(url, encoded=True), data=body or None, headers=headers
            ) as resp,
        ):
            await resp.read()
            return resp.status

    @contract("*", "tampered signature")
    async def test_tampered_request_is_rejected(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        name, params = _needs(samples, "write_call")(1)
        with contextlib.suppress(BrokerportError):
            await brokerport_client.call(name, **params)
        entry = sandbox.journal.for_endpoint(name)[-1]
        effects = len(sandbox.journal.effects())
        body, query = samples.tamper(entry.body, entry.query)
        assert (body, query) != (entry.body, entry.query), "tamper() changed nothing"
        await self._replay(sandbox, entry, body, query)
        replay = sandbox.journal.last()
        assert replay is not None and replay.rejected, "the sandbox accepted a tampered request"
        assert len(sandbox.journal.effects()) == effects, "a tampered request took effect"

    @contract("*", "timestamp window")
    async def test_stale_or_future_timestamps_are_rejected(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        window = samples.timestamp_window
        if window is None:
            pytest.skip(f"{brokerport_client.vendor} signs no timestamp")
        name, params = _needs(samples, "read_call")()
        await brokerport_client.call(name, **params)
        entry = sandbox.journal.for_endpoint(name)[-1]
        for shift in (window + 5, -(window + 5)):
            sandbox.clock.advance(shift)
            try:
                await self._replay(sandbox, entry, entry.body, entry.query)
            finally:
                sandbox.clock.advance(-shift)
            replay = sandbox.journal.last()
            assert replay is not None and replay.rejected, (
                f"a request {abs(shift)} s {'old' if shift > 0 else 'early'} was accepted"
            )

    # -------------------------------------------------------- reliability

    @contract("*", "retries of reads")
    async def test_idempotent_read_survives_transient_faults(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        name, params = _needs(samples, "read_call")()
        sandbox.faults.add("status", name, status=503)
        sandbox.faults.add("reset", name)
        await brokerport_client.call(name, **params)
        assert len(sandbox.journal.for_endpoint(name)) == 3

    @contract("*", "write sent once")
    async def test_lost_write_is_unknown_outcome_never_repeated(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        name, params = _needs(samples, "write_call")(2)
        assert not brokerport_client.catalog[name].is_idempotent, f"{name} must be a write"
        sandbox.faults.add("lost", name)
        with pytest.raises(UnknownOutcome) as info:
            await brokerport_client.call(name, **params)
        err = info.value
        assert err.idempotency_key or err.reconcile_with, "nothing to reconcile with"
        assert err.how_to_reconcile
        sent = sandbox.journal.for_endpoint(name)
        assert len(sent) == 1, f"a non-idempotent write was sent {len(sent)} times"
        assert len(sandbox.journal.effects(name)) == 1

    @contract("*", "typed failures")
    async def test_every_failure_is_a_brokerport_error(
        self,
        brokerport_adapter: type[Adapter],
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        read, rparams = _needs(samples, "read_call")()
        write, _ = _needs(samples, "write_call")(3)
        client = self.client_for(
            brokerport_adapter,
            sandbox,
            transport_settings=TransportSettings(total_timeout=2, read_timeout=0.3),
            retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
        )
        async with client:
            for i, kind in enumerate(
                ("status", "html", "not_json", "empty", "truncate", "reset", "timeout", "lost")
            ):
                for name, params in ((read, rparams), (write, samples.write_call(10 + i)[1])):
                    sandbox.faults.clear()
                    sandbox.faults.add(kind, name, times=-1, delay=1.0)  # type: ignore[arg-type]
                    try:
                        await client.call(name, **params)
                    except BrokerportError:
                        continue
                    except Exception as exc:
                        pytest.fail(
                            f"{kind} on {name} raised {type(exc).__name__}, not a brokerport error"
                        )
                    pytest.fail(f"{kind} on {name} did not fail")
        sandbox.faults.clear()

    @contract("*", "rate limits")
    async def test_client_respects_rate_limits(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        name, _ = _needs(samples, "burst_call")(0)
        limit = brokerport_client.catalog[name].rate_limit
        if limit is None:
            pytest.skip(f"{name} has no documented rate limit")
        n = limit.count * 2 + 1
        if limit.per * 2 > 15:
            pytest.skip(f"{name}: a burst over {limit.describe()} takes too long; pick another")
        calls = [
            brokerport_client.call(samples.burst_call(i)[0], **samples.burst_call(i)[1])
            for i in range(n)
        ]
        await asyncio.gather(*calls)
        assert not sandbox.journal.rejections("rate_limit"), "the client tripped the rate limit"
        assert len(sandbox.journal.for_endpoint(name)) >= n

    # ------------------------------------------------ the synchronous facade
    # A sample of the contracts above, run through brokerport.sync from a worker
    # thread (the facade refuses to block this test's event loop, and says so).

    def sync_client_for(self, adapter: type[Adapter], sandbox: Sandbox | None) -> Any:
        from ..sync import SyncClient

        return SyncClient(self.client_for(adapter, sandbox))

    @contract("sync", "capabilities and undeclared operations")
    async def test_sync_facade_gates_undeclared_operations(
        self, brokerport_adapter: type[Adapter], brokerport_sandbox: Sandbox | None
    ) -> None:
        from ..sync import EventLoopRunning

        sandbox = self.need_sandbox(brokerport_sandbox)
        facade = self.sync_client_for(brokerport_adapter, sandbox)
        with pytest.raises(EventLoopRunning):
            facade.open()  # inside a running loop: use the async API

        def body() -> None:
            with facade as client:
                assert client.capabilities.operations == brokerport_adapter.operations
                for op in sorted(all_operations() - client.capabilities.operations)[:3]:
                    port_name, _, method = op.partition(".")
                    with pytest.raises(NotSupported):
                        getattr(getattr(client, port_name), method)(None)

        before = len(sandbox.journal)
        await asyncio.to_thread(body)
        assert len(sandbox.journal) == before, "an undeclared operation did I/O"

    @contract("sync", "read, errors, write sent once")
    async def test_sync_facade_reads_maps_errors_and_sends_writes_once(
        self,
        brokerport_adapter: type[Adapter],
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        read, rparams = _needs(samples, "read_call")()
        write, wparams = _needs(samples, "write_call")(20)
        facade = self.sync_client_for(brokerport_adapter, sandbox)

        def body() -> None:
            with facade as client:
                client.call(read, **rparams)
                for case in samples.error_cases()[:2]:
                    # error cases are written for the async client: same objects, same errors
                    with pytest.raises(BrokerportError) as info:
                        client._run(case.invoke, client.aio)
                    assert isinstance(info.value, case.expected), case.name
                before = len(sandbox.journal.for_endpoint(write))
                sandbox.faults.add("lost", write)
                with pytest.raises(UnknownOutcome):
                    client.call(write, **wparams)
                sent = len(sandbox.journal.for_endpoint(write)) - before
                assert sent == 1, f"a non-idempotent write was sent {sent} times"

        await asyncio.to_thread(body)

    @contract("sync", "subaccounts create/list", "subaccounts.create", "subaccounts.list")
    async def test_sync_facade_subaccount_round_trip(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        from ..sync import paginate as sync_paginate

        sandbox = self.need_sandbox(brokerport_sandbox)
        req = _needs(samples, "create_subaccount")(2)
        facade = self.sync_client_for(brokerport_adapter, sandbox)

        def body() -> list[str]:
            with facade as client:
                created = client.subaccounts.create(req)
                assert isinstance(created, m.SubAccount) and created.name == req.name
                return [s.name for s in sync_paginate(client.subaccounts.list, m.ListSubAccounts())]

        names = await asyncio.to_thread(body)
        assert names.count(req.name) == 1


def _model_error(exc: BaseException) -> bool:
    """attrs validators raise ValueError/TypeError while building a request model."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(("models.py", "_make.py")) or "attrs" in (
            tb.tb_frame.f_code.co_filename
        ):
            return True
        tb = tb.tb_next
    return False


@functools.cache
def _returns_page(op: str) -> bool:
    port_name, _, method = op.partition(".")
    fn = getattr(PORTS[port_name], method)
    hints = typing.get_type_hints(fn, globalns=vars(m) | {"m": m})
    origin = typing.get_origin(hints.get("return"))
    return origin is m.Page


# ------------------------------------------------------------------ streams
# Appended: the StreamPort contracts (client.streams.orders), written as a class
# and copied onto ConformanceSuite below, so every plugin's kit class runs them.


async def _instant(delay: float) -> None:
    await asyncio.sleep(0)


async def _next_for(stream: Any, order_id: str, *, final: bool = False) -> list[m.OrderEvent]:
    """Events up to the first of ``order_id`` (its first final one with ``final``); a
    10 s bound only so a broken plugin fails instead of hanging."""
    got: list[m.OrderEvent] = []
    while True:
        event = await asyncio.wait_for(anext(stream), 10)
        got.append(event)
        if event.order_id == order_id and (event.final or not final):
            return got


class StreamContracts:
    """Order streams: seen, once, across a dropped socket (``streams.orders``)."""

    async def _placed(self, client: Client, samples: Samples, n: int) -> tuple[str, m.PlaceOrder]:
        request = _needs(samples, "place_order")(n)
        ack = await client.trading.place_order(request)
        assert ack.order_id, "the vendor gave no order id to follow on the stream"
        return ack.order_id, request

    async def _cancel(self, client: Client, request: m.PlaceOrder, order_id: str) -> bool:
        if "trading.cancel_order" not in client.capabilities:
            return False
        await client.trading.cancel_order(
            m.OrderRef(instrument=request.instrument, order_id=order_id)
        )
        return True

    @contract("streams", "orders: a placed order is seen", "streams.orders", "trading.place_order")
    async def test_order_placed_through_trading_is_seen_on_the_stream(
        self, brokerport_client: Client, samples: Samples
    ) -> None:
        async with brokerport_client.streams.orders() as stream:
            order_id, request = await self._placed(brokerport_client, samples, 40)
            first = (await _next_for(stream, order_id))[-1]
            assert isinstance(first, m.OrderEvent) and first.at.tzinfo is not None
            assert first.raw, "the event keeps the vendor's raw event"
            for amount in (first.filled_quantity, first.remaining_quantity, first.average_price):
                assert amount is None or isinstance(amount, type(first.filled_quantity))
            if await self._cancel(brokerport_client, request, order_id):
                last = (await _next_for(stream, order_id, final=True))[-1]
                assert last.status in m.FINAL_ORDER_STATUSES

    @contract("streams", "orders: every event once", "streams.orders", "trading.place_order")
    async def test_every_order_event_is_yielded_once(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = ConformanceSuite.need_sandbox(brokerport_sandbox)
        sandbox.push.faults.duplicate_every = 1  # every push is sent twice
        try:
            async with brokerport_client.streams.orders() as stream:
                order_id, request = await self._placed(brokerport_client, samples, 41)
                events = await _next_for(stream, order_id)
                if await self._cancel(brokerport_client, request, order_id):
                    events += await _next_for(stream, order_id, final=True)
                mine = [e.version for e in events if e.order_id == order_id]
                assert mine == sorted(mine) and len(set(mine)) == len(mine), mine
                assert sandbox.push.faults.duplicated >= 1
                assert stream.duplicates >= 1  # type: ignore[attr-defined]
        finally:
            sandbox.push.faults.clear()

    @contract(
        "streams", "orders: survives a dropped socket", "streams.orders", "trading.place_order"
    )
    async def test_stream_survives_a_dropped_connection(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        sandbox = ConformanceSuite.need_sandbox(brokerport_sandbox)
        faults = sandbox.push.faults
        try:
            async with brokerport_client.streams.orders(sleep=_instant) as stream:
                faults.drop_every = faults.pushes + 1  # the next push drops its socket instead
                order_id, request = await self._placed(brokerport_client, samples, 42)
                seen = await _next_for(stream, order_id)  # read again after the reconnect
                assert faults.dropped == 1
                assert seen[-1].order_id == order_id
                faults.drop_every = None
                if await self._cancel(brokerport_client, request, order_id):
                    last = (await _next_for(stream, order_id, final=True))[-1]
                    assert last.status in m.FINAL_ORDER_STATUSES
                assert stream.connections >= 2  # type: ignore[attr-defined]
        finally:
            faults.clear()


for _name, _member in list(vars(StreamContracts).items()):
    if callable(_member) and not _name.startswith("__"):
        setattr(ConformanceSuite, _name, _member)  # every plugin's kit class runs them
