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
import functools
import itertools
import logging
import secrets
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import aiohttp
import attrs
import pytest
import pytest_asyncio

from .. import errors as errors_module
from .. import models as m
from ..adapter import Adapter
from ..catalog import Signing
from ..client import Client, paginate
from ..errors import (
    BrokerportError,
    InvalidRequest,
    NotSupported,
    PluginError,
    RateLimited,
    UnknownOutcome,
)
from ..pipeline import RetryPolicy
from ..ports import PORTS, all_operations
from ..profile import Profile
from ..ratelimit import LimiterRegistry
from ..registry import load_adapter, load_sandbox
from ..sandbox import Sandbox
from ..transport import TransportSettings
from .samples import Samples, load_samples
from .tools import (
    TamperingTransport,
    VirtualClock,
    expand_parts,
    fail,
    flip,
    redact,
    remove_part,
    tamper_part,
)

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

    def client_for(
        self,
        adapter: type[Adapter],
        sandbox: Sandbox | None,
        *,
        profile: Profile | None = None,
        **kw: Any,
    ) -> Client:
        if sandbox is None:
            pytest.skip("no sandbox: override brokerport_client to use a test account")
        kw.setdefault("transport_settings", TransportSettings(total_timeout=10, read_timeout=5))
        kw.setdefault("retry", RetryPolicy(base_delay=0.01, max_delay=0.05))
        return Client(adapter, profile or sandbox.profile(), **kw)

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
        sandbox = getattr(samples, "sandbox", None)
        for case in cases:
            expected = f"{case.name}: {case.expected.__name__} with vendor code {case.vendor_code}"
            since = len(sandbox.journal) if sandbox is not None else 0
            try:
                result = await case.invoke(brokerport_client)
            except BrokerportError as exc:
                err = exc
            except Exception as exc:
                fail(
                    expected,
                    f"{type(exc).__name__} from port code ({exc}): a raw exception, not a "
                    "brokerport error",
                    sandbox,
                    since=since,
                )
            else:
                fail(expected, f"no error: the call returned {result!r}", sandbox, since=since)
            if not isinstance(err, case.expected) or err.vendor_code != case.vendor_code:
                got = f"{type(err).__name__} with vendor code {err.vendor_code!r}"
                fail(expected, got, sandbox, since=since)
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
        names = {v.reveal(): k for k, v in brokerport_client.profile.credentials.items()}
        for value in secrets:
            where = [i for i, text in enumerate(texts) if value in text]
            if where:
                first = texts[where[0]]
                fail(
                    f"no credential value in reprs, logs or errors ({len(texts)} texts looked at)",
                    f"the value of credential {names.get(value, '?')!r} appears in "
                    f"{len(where)} of them, first: {redact(first, secrets)[:300]}",
                    None,
                    secrets,
                )

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

    def _signing(self, client: Client) -> Signing:
        signing: Signing | None = client.catalog.signing
        if signing is None:
            pytest.fail(
                f"{client.vendor}: the catalog declares no [signing] section (what the vendor "
                "checks: credentials, carriers, signed parts, timestamp; docs/catalog-format.md, "
                '"Signing"): the kit cannot prove the sandbox refuses bad credentials',
                pytrace=False,
            )
        return signing

    def tampering_client(
        self, adapter: type[Adapter], sandbox: Sandbox, **kw: Any
    ) -> tuple[Client, TamperingTransport]:
        transport = TamperingTransport(  # over the default transport, as hosts get it
            TransportSettings(total_timeout=10, read_timeout=5).transport()
        )
        kw.setdefault("retry", RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0))
        return self.client_for(adapter, sandbox, transport=transport, **kw), transport

    async def _refused(
        self,
        sandbox: Sandbox,
        client: Client,
        name: str,
        params: dict[str, Any],
        expected: str,
    ) -> None:
        """Call ``name``; the sandbox must refuse every request of it for its credentials or
        signature (journal ``rejected``), apply nothing, and the host see a brokerport error."""
        since = len(sandbox.journal)
        outcome = "the call returned a result"
        try:
            await client.call(name, **params)
        except BrokerportError as exc:
            outcome = f"{type(exc).__name__} ({exc.vendor_code or 'no vendor code'})"
        except Exception as exc:
            fail(expected, f"{type(exc).__name__}, not a brokerport error", sandbox, since=since)
        sent = [e for e in sandbox.journal.entries[since:] if e.endpoint == name]
        secrets = _secret_values(client)
        if not sent:
            fail(expected, f"{outcome}, and no request reached the sandbox", sandbox, secrets)
        accepted = [e for e in sent if not e.rejected]
        effects = [e for e in sandbox.journal.entries[since:] if e.effect]
        if accepted or effects:
            got = f"{outcome}; {len(accepted)} of {len(sent)} requests accepted"
            fail(expected, got + f", {len(effects)} took effect", sandbox, secrets, since=since)

    @contract("auth", "wrong credentials")
    async def test_sandbox_refuses_wrong_credentials(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """Each credential the catalog says the vendor checks, one character wrong, is refused."""
        sandbox = self.need_sandbox(brokerport_sandbox)
        signing = self._signing(brokerport_client)
        creds = sandbox.credentials()
        unknown = [c for c in signing.credentials if c not in creds]
        if unknown:
            fail(
                f"signing.credentials to name credentials of Sandbox.credentials() "
                f"({', '.join(sorted(creds))})",
                f"it names {', '.join(unknown)}",
                None,
            )
        if not signing.credentials:
            pytest.skip(f"{brokerport_client.vendor}: signing.credentials names no credential")
        name, params = _needs(samples, "read_call")()
        for credential in signing.credentials:
            wrong = {**creds, credential: flip(creds[credential])}
            profile = attrs.evolve(brokerport_client.profile, credentials=wrong)
            client = self.client_for(
                brokerport_adapter,
                sandbox,
                profile=profile,
                retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
            )
            async with client:
                await self._refused(
                    sandbox,
                    client,
                    name,
                    params,
                    f"{name} with a wrong {credential} (one character changed) refused "
                    "by the sandbox for its credentials",
                )

    @contract("auth", "missing credentials")
    async def test_sandbox_refuses_missing_credentials(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """A request without each part the catalog says carries a credential is refused."""
        sandbox = self.need_sandbox(brokerport_sandbox)
        signing = self._signing(brokerport_client)
        if not signing.carriers:
            fail("signing.carriers to name where the credentials travel", "none named", None)
        name, params = _needs(samples, "read_call")()
        client, transport = self.tampering_client(brokerport_adapter, sandbox)
        async with client:
            for part in signing.carriers:
                transport.arm(name, functools.partial(remove_part, part=part))
                await self._refused(
                    sandbox, client, name, params, f"{name} without {part} refused by the sandbox"
                )
                if not any(transport.changed):
                    fail(f"{name} requests to carry {part} (signing.carriers)", "none did", None)

    @contract("*", "tampered signature")
    async def test_tampered_request_is_rejected(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """One byte of every part the catalog says is signed, changed after signing, is refused."""
        sandbox = self.need_sandbox(brokerport_sandbox)
        signing = self._signing(brokerport_client)
        read = _needs(samples, "read_call")()
        writes = _needs(samples, "write_call")
        calls: list[tuple[str, Callable[[int], dict[str, Any]]]] = [
            (read[0], lambda n: read[1]),
            (writes(1)[0], lambda n: writes(n)[1]),
        ]
        client, transport = self.tampering_client(brokerport_adapter, sandbox)
        tested: list[str] = []
        async with client:
            for n, (name, make) in enumerate(calls):
                parts = signing.signed_for(name)
                if not parts:
                    continue
                route = brokerport_client.catalog[name].route
                transport.arm(name, functools.partial(expand_parts, parts=parts, route=route))
                try:
                    await client.call(name, **make(200 + n))  # the control: accepted unchanged
                except BrokerportError as exc:
                    fail(
                        f"the untampered {name} accepted",
                        repr(exc),
                        sandbox,
                        _secret_values(client),
                    )
                concrete = transport.changed[0] if transport.changed else []
                if not concrete:
                    fail(f"{name} to carry a signed part ({', '.join(parts)})", "none", sandbox)
                absent = [p for p in parts if ":" in p and p not in concrete]
                if absent:
                    fail(f"{name} to carry the signed {', '.join(absent)}", "it does not", sandbox)
                for i, part in enumerate(concrete):
                    transport.arm(name, functools.partial(tamper_part, part=part, route=route))
                    await self._refused(
                        sandbox,
                        client,
                        name,
                        make(300 + 10 * n + i),
                        f"{name} with one byte of signed {part} changed after signing refused",
                    )
                    tested.append(f"{name} {part}")
        if not tested:
            pytest.skip(
                f"{brokerport_client.vendor} signs nothing on {read[0]} or {writes(1)[0]} "
                "(catalog signing): its credential checks are the wrong/missing-credential "
                "contracts"
            )

    @contract("*", "timestamp window")
    async def test_stale_or_future_timestamps_are_rejected(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        sandbox = self.need_sandbox(brokerport_sandbox)
        signing = self._signing(brokerport_client)
        window = signing.window
        if window is None or signing.timestamp is None:
            pytest.skip(f"{brokerport_client.vendor} signs no timestamp (catalog signing)")
        name, params = _needs(samples, "read_call")()
        for shift in (window + 5, -(window + 5)):
            since = len(sandbox.journal)
            sandbox.clock.advance(shift)  # the client signs fresh requests with its own clock
            try:
                await brokerport_client.call(name, **params)
            except BrokerportError:
                pass  # refused; a signer that resyncs its clock may also succeed on a retry
            finally:
                sandbox.clock.advance(-shift)
            first = next((e for e in sandbox.journal.entries[since:] if e.endpoint == name), None)
            if first is None or not first.rejected:
                fail(
                    f"a request signed {abs(shift)} s {'behind' if shift > 0 else 'ahead of'} "
                    f"the sandbox's clock refused (catalog window {window} s)",
                    "no request reached the sandbox" if first is None else "accepted",
                    sandbox,
                    _secret_values(brokerport_client),
                    since=since,
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
        declared = brokerport_client.catalog[name].is_idempotent
        sandbox.faults.add("lost", name)
        since = len(sandbox.journal)
        expected = f"{name} (a write the vendor does not de-duplicate) with its answer lost: "
        expected += "UnknownOutcome, sent once, applied once"
        outcome = "returned a result"
        try:
            await brokerport_client.call(name, **params)
        except UnknownOutcome as exc:
            outcome = "UnknownOutcome"
            if not (exc.idempotency_key or exc.reconcile_with) or not exc.how_to_reconcile:
                fail(expected + ", with a way to reconcile", "nothing to reconcile with", sandbox)
        except BrokerportError as exc:
            outcome = type(exc).__name__
        sent = [e for e in sandbox.journal.entries[since:] if e.endpoint == name]
        effects = [e for e in sent if e.effect]
        if outcome != "UnknownOutcome" or len(sent) != 1 or len(effects) != 1:
            got = f"{outcome}; sent {len(sent)} times, applied {len(effects)} times"
            if declared:
                got += f" (the catalog declares {name} idempotent)"
            fail(expected, got, sandbox, _secret_values(brokerport_client), since=since)

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
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """A burst one call over the limit, on a virtual clock the client's limiter and the
        sandbox share: the client waits a whole window (in no real time), the sandbox
        refuses nothing. Endpoints sharing the bucket are called in turn."""
        sandbox = self.need_sandbox(brokerport_sandbox)
        catalog = brokerport_client.catalog
        declared = sorted({ep.name for ep in catalog.values() if ep.rate_limit is not None})
        if not declared:
            pytest.skip(f"{brokerport_client.vendor} declares no rate limit")
        name, _ = _needs(samples, "burst_call")(0)
        limit = catalog[name].rate_limit
        if limit is None:
            fail(
                f"burst_call ({name}) to be rate-limited: the catalog declares limits on "
                f"{len(declared)} endpoints ({', '.join(declared[:4])}...)",
                f"{name} has none; name a rate-limited endpoint as burst_call",
                None,
            )
        bucket = limit.group or name
        calls = [samples.burst_call]
        read, _ = _needs(samples, "read_call")()
        read_limit = catalog[read].rate_limit
        if read != name and read_limit is not None and read_limit.group == limit.group == bucket:
            calls.append(lambda n: samples.read_call())  # a bucket shared by endpoints
        clock = VirtualClock()
        sandbox.monotonic, sandbox.enforce_rate_limits = clock, True
        sandbox._windows.clear()
        since = len(sandbox.journal)
        client = self.client_for(
            brokerport_adapter,
            sandbox,
            limiters=LimiterRegistry(clock=clock, sleep=clock.sleep),
            retry=RetryPolicy(max_attempts=1),
        )
        n = limit.count // max(1, catalog[name].cost) + 1
        async with client:
            for i in range(n):
                endpoint, params = calls[i % len(calls)](i)
                try:
                    await client.call(endpoint, **params)
                except RateLimited:
                    break
        tripped = sandbox.journal.rejections("rate_limit")
        if tripped or clock.slept < limit.per * 0.5:
            fail(
                f"{n} calls on bucket {bucket!r} ({limit.describe()}) spread over a window by the "
                "client, none refused by the sandbox",
                f"{len(tripped)} refused; the client waited {clock.slept:.2f} virtual s",
                sandbox,
                _secret_values(client),
                since=since,
            )
        # the sandbox enforces it: the same burst from a client whose limiter never waits
        sandbox._windows.clear()
        ahead = VirtualClock()

        def runaway() -> float:
            ahead.now += limit.per + 1
            return ahead.now

        since = len(sandbox.journal)
        client = self.client_for(
            brokerport_adapter,
            sandbox,
            limiters=LimiterRegistry(clock=runaway, sleep=ahead.sleep),
            retry=RetryPolicy(max_attempts=1),
        )
        refused: BrokerportError | None = None
        async with client:
            for i in range(n):
                endpoint, params = calls[i % len(calls)](i)
                try:
                    await client.call(endpoint, **params)
                except BrokerportError as exc:
                    refused = exc
                    break
        if not isinstance(refused, RateLimited) or not sandbox.journal.rejections("rate_limit"):
            fail(
                f"the sandbox to refuse call {n} within one window of {limit.describe()} with "
                "the vendor's rate-limit answer (RateLimited)",
                f"{type(refused).__name__ if refused else 'every call answered'}",
                sandbox,
                _secret_values(client),
                since=since,
                last=3,
            )

    @contract("*", "port writes sent once")
    async def test_lost_answer_to_a_port_write_is_unknown_outcome(
        self,
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """A declared write whose answer is lost is UnknownOutcome, applied once, never
        re-sent blindly (by the pipeline or by the port's own code); a vendor that
        deduplicates by a client key may settle it by lookup instead, still applied once."""
        sandbox = self.need_sandbox(brokerport_sandbox)
        c = brokerport_client
        writes: list[tuple[str, Callable[[], Any], Callable[[Client, Any], Awaitable[Any]]]] = [
            ("trading.place_order", lambda: samples.place_order(7), _op("trading.place_order")),
            ("subaccounts.create", lambda: samples.create_subaccount(7), _op("subaccounts.create")),
        ]
        tried = []
        for op, make, run in writes:
            if op not in c.capabilities:
                continue
            try:
                request = make()
            except NotImplementedError:
                continue  # proven missing by the declared-operations contract
            lost = [ep.name for ep in c.catalog.values() if not ep.is_idempotent]
            for endpoint in lost:
                sandbox.faults.add("lost", endpoint)
            since = len(sandbox.journal)
            expected = f"{op} with its answer lost: UnknownOutcome, applied once"
            try:
                await run(c, request)
            except UnknownOutcome:
                pass
            except BrokerportError as exc:
                fail(expected, f"{type(exc).__name__}: {exc}", sandbox, since=since)
            else:
                # a vendor that deduplicates by a client key (Adapter.deduplicates) may
                # settle the lost answer by looking the write up: a result, applied once
                hit = {e.endpoint for e in sandbox.journal.entries[since:]}
                if not hit & set(getattr(c.adapter_cls, "deduplicates", {})):
                    fail(
                        expected,
                        "returned a result (sent again after a lost answer?)",
                        sandbox,
                        _secret_values(c),
                        since=since,
                    )
            finally:
                sandbox.faults.clear()
            effects = [e for e in sandbox.journal.entries[since:] if e.effect]
            if len(effects) != 1:
                fail(expected, f"{len(effects)} effects", sandbox, _secret_values(c), since=since)
            tried.append(op)
        if not tried:
            pytest.skip(f"{c.vendor} declares none of {', '.join(w[0] for w in writes)}")

    # ------------------------------------------------------------ trading

    async def _place(
        self, client: Client, samples: Samples, n: int, sandbox: Sandbox | None
    ) -> tuple[m.PlaceOrder, m.OrderAck, m.Order]:
        """Place sample ``n`` with a fresh client order id; read it back by order id."""
        req = _needs(samples, "place_order")(n)
        if req.client_order_id is None:
            req = attrs.evolve(req, client_order_id=f"kit{next(_ORDER_IDS)}{secrets.token_hex(4)}")
        since = len(sandbox.journal) if sandbox else 0
        ack = await client.trading.place_order(req)
        if not ack.order_id:
            fail("place_order to answer the order's id", repr(ack), sandbox, since=since)
        order = await client.trading.get_order(
            m.OrderRef(instrument=req.instrument, order_id=ack.order_id)
        )
        return req, ack, order

    @staticmethod
    def _same_order(
        req: m.PlaceOrder,
        ack: m.OrderAck,
        order: m.Order,
        samples: Samples,
        sandbox: Sandbox | None,
        how: str,
    ) -> None:
        wrong = []
        if order.order_id != ack.order_id:
            wrong.append(f"order_id {order.order_id!r} (placed {ack.order_id!r})")
        if order.client_order_id not in (None, req.client_order_id):
            wrong.append(
                f"client_order_id {order.client_order_id!r} (sent {req.client_order_id!r})"
            )
        for name in samples.trading.echoed:
            sent, got = getattr(req, name), getattr(order, name, None)
            if name in ("quantity", "price") and sent is not None:
                if not isinstance(got, Decimal) or got != sent:
                    wrong.append(f"{name} {got!r} ({type(got).__name__}; placed {sent!r})")
            elif sent is not None and got is not None and str(got).lower() != str(sent).lower():
                wrong.append(f"{name} {got!r} (placed {sent!r})")
        if wrong:
            fail(f"get_order ({how}) to return the order placed", "; ".join(wrong), sandbox)

    @contract("trading", "place -> get -> open orders", "trading.place_order", "trading.get_order")
    async def test_order_round_trip_place_get_listed(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        c = brokerport_client
        req, ack, order = await self._place(c, samples, 1, brokerport_sandbox)
        self._same_order(req, ack, order, samples, brokerport_sandbox, "by order id")
        if "trading.open_orders" in c.capabilities:
            query = attrs.evolve(samples.order_query(), instrument=req.instrument)
            listed = [o.order_id for o in await _collect(paginate(c.trading.open_orders, query))]
            if listed.count(ack.order_id) != 1:
                fail(
                    f"open orders to list {ack.order_id} once",
                    f"listed {listed}",
                    brokerport_sandbox,
                )

    @contract("trading", "get returns that order", "trading.place_order", "trading.get_order")
    async def test_get_order_returns_that_order(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        c = brokerport_client
        placed = [await self._place(c, samples, n, brokerport_sandbox) for n in (2, 3)]
        for req, ack, order in placed:
            self._same_order(req, ack, order, samples, brokerport_sandbox, "by order id")
            by_client = await c.trading.get_order(
                m.OrderRef(instrument=req.instrument, client_order_id=req.client_order_id)
            )
            self._same_order(req, ack, by_client, samples, brokerport_sandbox, "by client order id")

    @contract("trading", "money is exact", "trading.place_order", "trading.get_order")
    async def test_money_is_exact_decimal(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        """Quantity and price come back as the very Decimals placed: never a float, never
        rounded."""
        req, _ack, order = await self._place(brokerport_client, samples, 4, brokerport_sandbox)
        for name in ("quantity", "price"):
            sent, got = getattr(req, name), getattr(order, name)
            if sent is None:
                continue
            if (
                type(got) is not Decimal
                or got != sent
                or str(got.normalize()) != str(sent.normalize())
            ):
                fail(
                    f"{name} read back as Decimal({str(sent)!r}) exactly",
                    f"{got!r} ({type(got).__name__})",
                    brokerport_sandbox,
                )

    @contract("trading", "amend", "trading.place_order", "trading.amend_order", "trading.get_order")
    async def test_amend_changes_the_order(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        c = brokerport_client
        req, ack, order = await self._place(c, samples, 5, brokerport_sandbox)
        amend = _needs(samples, "amend_order")(order, 5)
        await c.trading.amend_order(amend)
        after = await c.trading.get_order(
            m.OrderRef(instrument=req.instrument, order_id=ack.order_id)
        )
        for new, field in (("new_price", "price"), ("new_quantity", "quantity")):
            wanted = getattr(amend, new)
            if wanted is not None and getattr(after, field) != wanted:
                fail(
                    f"after amend_order, {field} {wanted}",
                    f"{field} {getattr(after, field)!r}",
                    brokerport_sandbox,
                )

    @contract(
        "trading", "cancel", "trading.place_order", "trading.cancel_order", "trading.get_order"
    )
    async def test_cancel_cancels_the_order(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        """cancel -> the order's state is cancelled, it leaves the open orders, and a second
        cancel is answered the way the vendor says (samples ``[trading] cancel_again``)."""
        c, sandbox = brokerport_client, brokerport_sandbox
        req, ack, _ = await self._place(c, samples, 6, sandbox)
        ref = m.OrderRef(instrument=req.instrument, order_id=ack.order_id)
        await c.trading.cancel_order(ref)
        after = await c.trading.get_order(ref)
        if not samples.trading.is_cancelled(after.status):
            wanted = ", ".join(samples.trading.cancelled) or "cancel*"
            fail(f"after cancel_order, status {wanted}", f"status {after.status!r}", sandbox)
        if "trading.open_orders" in c.capabilities:
            query = attrs.evolve(samples.order_query(), instrument=req.instrument)
            listed = [o.order_id for o in await _collect(paginate(c.trading.open_orders, query))]
            if ack.order_id in listed:
                fail("a cancelled order gone from open orders", "still listed", sandbox)
        await self._as_vendor_says(
            lambda: c.trading.cancel_order(ref),
            samples.trading.cancel_again,
            "a second cancel",
            sandbox,
        )

    async def _as_vendor_says(
        self, call: Callable[[], Awaitable[Any]], rule: str, what: str, sandbox: Sandbox | None
    ) -> Any:
        since = len(sandbox.journal) if sandbox else 0
        if rule in ("ok", "same"):
            try:
                return await call()
            except BrokerportError as exc:
                fail(
                    f"{what} answered as a success ([trading] says {rule!r})",
                    f"{type(exc).__name__}: {exc}",
                    sandbox,
                    since=since,
                )
        expected = getattr(errors_module, rule, None)
        if not (isinstance(expected, type) and issubclass(expected, BrokerportError)):
            pytest.fail(f"samples [trading]: {rule!r} is not a brokerport error", pytrace=False)
        try:
            result = await call()
        except expected:
            return None
        except Exception as exc:
            fail(
                f"{what} refused with {rule}", f"{type(exc).__name__}: {exc}", sandbox, since=since
            )
        fail(f"{what} refused with {rule}", f"accepted: {result!r}", sandbox, since=since)

    @contract("trading", "client order id", "trading.place_order", "trading.get_order")
    async def test_client_order_id_is_honoured(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        """The host's client order id goes to the vendor (the order read back by it is the
        one placed), and reusing it is refused or resolved as the vendor says
        (``[trading] duplicate``)."""
        c, sandbox = brokerport_client, brokerport_sandbox
        req, ack, _order = await self._place(c, samples, 8, sandbox)
        if ack.client_order_id not in (None, req.client_order_id):
            fail(
                f"the ack to echo client_order_id {req.client_order_id!r}",
                repr(ack.client_order_id),
                sandbox,
            )
        found = await c.trading.get_order(
            m.OrderRef(instrument=req.instrument, client_order_id=req.client_order_id)
        )
        if found.order_id != ack.order_id or found.client_order_id not in (
            None,
            req.client_order_id,
        ):
            fail(
                f"the order with client_order_id {req.client_order_id!r} to be {ack.order_id}",
                f"{found.order_id} (client_order_id {found.client_order_id!r})",
                sandbox,
            )
        before = len(sandbox.journal.effects()) if sandbox else 0
        again = await self._as_vendor_says(
            lambda: c.trading.place_order(attrs.evolve(req, price=req.price)),
            samples.trading.duplicate,
            f"a second order with client_order_id {req.client_order_id!r}",
            sandbox,
        )
        if samples.trading.duplicate == "same" and getattr(again, "order_id", None) != ack.order_id:
            fail("the reused client order id answered with the first order", repr(again), sandbox)
        if sandbox is not None and len(sandbox.journal.effects()) != before:
            fail("a reused client order id to place nothing", "an order was placed", sandbox)

    @contract("trading", "fills and positions", "trading.place_order")
    async def test_fills_and_positions_follow_filled_orders(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        c = brokerport_client
        reads = [op for op in ("trading.fills", "trading.positions") if op in c.capabilities]
        if not reads:
            pytest.skip(f"{c.vendor} declares neither trading.fills nor trading.positions")
        req, ack, order = await self._place(c, samples, 9, brokerport_sandbox)
        await _needs(samples, "fill_order")(order)
        if "trading.fills" in c.capabilities:
            fills = await _collect(paginate(c.trading.fills, samples.order_query()))
            mine = sum((f.quantity for f in fills if f.order_id == ack.order_id), Decimal(0))
            if mine != req.quantity:
                fail(
                    f"fills of {ack.order_id} to add up to {req.quantity}",
                    str(mine),
                    brokerport_sandbox,
                )
        if "trading.positions" in c.capabilities:
            held = await _collect(paginate(c.trading.positions, samples.position_query()))
            if not any(p.instrument == req.instrument for p in held):
                fail(
                    f"a position in {req.instrument} after a filled order",
                    f"positions in {[p.instrument for p in held]}",
                    brokerport_sandbox,
                )

    # ---------------------------------------------------- accounts, balances

    @contract("accounts", "list -> get", "accounts.list", "accounts.get")
    async def test_accounts_list_and_get_agree(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        c = brokerport_client
        listed = await _collect(paginate(c.accounts.list, _needs(samples, "list_accounts")()))
        if not listed:
            fail("list_accounts' sample to list at least one account", "none", brokerport_sandbox)
        for account in listed[:2]:
            got = await c.accounts.get(m.GetAccount(account_id=account.account_id))
            if got.account_id != account.account_id:
                fail(
                    f"accounts.get({account.account_id!r}) to be that account",
                    f"account {got.account_id!r}",
                    brokerport_sandbox,
                )

    @contract("funding", "balances move", "funding.balances", "funding.request_deposit")
    async def test_balances_move_with_deposits(
        self, brokerport_client: Client, samples: Samples, brokerport_sandbox: Sandbox | None
    ) -> None:
        """A completed deposit raises the account's balance in its currency by its amount
        (or, where the vendor credits it later, leaves it as it was: samples
        ``deposit_moves_balance = false``)."""
        c = brokerport_client
        account = _needs(samples, "funding_account")()
        req = _needs(samples, "deposit")(account, 3)

        async def balance() -> Decimal:
            rows = await c.funding.balances(m.GetBalances(account_id=account))
            for row in rows:
                if type(row.total) is not Decimal:
                    fail("balances as Decimal", f"{row.total!r}", brokerport_sandbox)
            return sum((r.total for r in rows if req.currency in (None, r.currency)), Decimal(0))

        before = await balance()
        ticket = await c.funding.request_deposit(req)
        await samples.complete_deposit(ticket, req)
        after = await balance()
        rise = req.amount if samples.deposit_moves_balance else Decimal(0)
        if after - before != rise:
            fail(
                f"the balance to rise by {rise} {req.currency or ''} "
                f"(deposit_moves_balance = {str(samples.deposit_moves_balance).lower()})",
                f"{before} -> {after}",
                brokerport_sandbox,
            )

    # ------------------------------------------------ every declared operation

    @contract("*", "declared operations")
    async def test_every_declared_operation_is_proven(
        self,
        brokerport_adapter: type[Adapter],
        brokerport_client: Client,
        samples: Samples,
        brokerport_sandbox: Sandbox | None,
    ) -> None:
        """Every declared operation (and extension) is exercised: by a contract above, a
        paged case, or a ``[[calls]]`` sample run here. One with no sample fails."""
        c = brokerport_client
        declared = set(c.capabilities.operations)
        proven: set[str] = set().union(*(needs for needs in _PROVEN if needs <= declared))
        proven |= {case.operation for case in await samples.paged_cases()}
        problems = []
        for case in samples.calls():
            try:
                result = await case.invoke(c)
            except Exception as exc:
                problems.append(f"{case.operation}: {type(exc).__name__}: {exc}")
                continue
            wrong = case.check(result)
            if wrong:
                problems.append(f"{case.operation}: {wrong}")
            proven.add(case.operation)
        for ext in brokerport_adapter.extensions:
            if not any(op.startswith(f"{ext}:") for op in proven):
                problems.append(f"extension {ext}: no [[calls]] sample")
        unproven = sorted(declared - proven)
        if unproven:
            problems.append(f"declared but no contract or sample proves: {', '.join(unproven)}")
        if problems:
            fail(
                "a successful call of every declared operation and extension",
                "\n          ".join(problems),
                brokerport_sandbox,
            )

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


def _op(name: str) -> Callable[[Client, Any], Awaitable[Any]]:
    port, _, method = name.partition(".")
    return lambda client, request: getattr(getattr(client, port), method)(request)


_ORDER_IDS = itertools.count(1)
#: sets of operations a contract above proves together (when all are declared, it ran)
_PROVEN: tuple[frozenset[str], ...] = tuple(
    frozenset(needs)
    for needs in (
        ("subaccounts.create", "subaccounts.list", "subaccounts.delete"),
        ("keys.create", "keys.list", "keys.delete"),
        ("funding.request_deposit", "funding.deposit_history"),
        ("funding.request_withdrawal", "funding.withdrawal_history"),
        ("funding.balances", "funding.request_deposit"),
        ("trading.place_order", "trading.get_order"),
        ("trading.place_order", "trading.get_order", "trading.amend_order"),
        ("trading.place_order", "trading.get_order", "trading.cancel_order"),
        ("trading.place_order", "trading.get_order", "trading.open_orders"),
        ("accounts.list", "accounts.get"),
        # the stream contracts (appended below) place an order and read it on the stream
        ("trading.place_order", "streams.orders"),
    )
)


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
