"""The client a host holds: ports, capabilities, extensions, raw calls, hooks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from . import hookspec
from .errors import BrokerportError, NotSupported, PluginError, UnknownOutcome
from .outbox import MemoryOutbox, Outbox, OutboxEntry
from .pipeline import Pipeline, RetryPolicy
from .ports import (
    PORTS,
    AccountPort,
    Extension,
    FundingPort,
    KeyMgmtPort,
    Port,
    StreamPort,
    SubAccountPort,
    TradingPort,
)
from .profile import Profile
from .ratelimit import LimiterRegistry
from .transport import Transport, TransportSettings

if TYPE_CHECKING:
    from types import TracebackType

    import cattrs

    from .adapter import Adapter
    from .models import Page
    from .reconcile import Reconciliation
    from .testing.sandbox import Sandbox

__all__ = ["Capabilities", "Client", "Hooks", "paginate"]

T = TypeVar("T")
Q = TypeVar("Q")

#: Host hook implementations registered for every client created afterwards.
_global_hooks: list[object] = []


def register_hooks(*impls: object) -> None:
    """Register host hook implementations for every client connected from now on."""
    _global_hooks.extend(impls)


def unregister_hooks(*impls: object) -> None:
    for impl in impls:
        if impl in _global_hooks:
            _global_hooks.remove(impl)


class Hooks:
    """A client's pluggy manager, with cached 'has implementations' flags."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.pm = pluggy.PluginManager(hookspec.PROJECT)
        self.pm.add_hookspecs(hookspec)
        self.credentials = credentials
        self.before_request = self.after_response = self.on_error = False

    def register(self, impl: object, name: str | None = None) -> None:
        if self.pm.is_registered(impl):
            return  # registered globally and for this client too: it runs once
        self.pm.register(impl, name=name)
        self.pm.check_pending()
        self._refresh()

    def unregister(self, impl: object | None = None, name: str | None = None) -> None:
        self.pm.unregister(impl, name=name)
        self._refresh()

    def get(self, name: str) -> object | None:
        return self.pm.get_plugin(name)

    def _refresh(self) -> None:
        h = self.pm.hook
        self.before_request = bool(h.brokerport_before_request.get_hookimpls())
        self.after_response = bool(h.brokerport_after_response.get_hookimpls())
        self.on_error = bool(h.brokerport_on_error.get_hookimpls())


class Capabilities:
    """What the connected vendor supports."""

    def __init__(self, adapter: type[Adapter]) -> None:
        self.operations = frozenset(adapter.operations)
        self.extensions = frozenset(adapter.extensions)
        self.endpoints = frozenset(adapter.catalog())

    def __contains__(self, op: object) -> bool:
        return op in self.operations or op in self.extensions

    def supports(self, op: str) -> bool:
        return op in self

    def port(self, name: str) -> frozenset[str]:
        return frozenset(o for o in self.operations if o.startswith(name + "."))

    @property
    def ports(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for name in PORTS:
            ops = sorted(o.split(".", 1)[1] for o in self.port(name))
            if ops:
                out[name] = tuple(ops)
        return out

    def __repr__(self) -> str:
        return f"Capabilities({sorted(self.operations)})"


class Client:
    """A connection to one vendor. Use ``async with await brokerport.connect(...)``
    or ``async with brokerport.connect(...)``.

    Attributes ``accounts``, ``funding``, ``trading``, ``subaccounts``, ``keys``
    and ``streams`` are the ports; an undeclared operation raises NotSupported.
    """

    accounts: AccountPort
    funding: FundingPort
    trading: TradingPort
    subaccounts: SubAccountPort
    keys: KeyMgmtPort
    #: pushed events: ``async for event in client.streams.orders()``
    streams: StreamPort

    def __init__(
        self,
        adapter_cls: type[Adapter],
        profile: Profile,
        *,
        transport: Transport | None = None,
        transport_settings: TransportSettings | None = None,
        retry: RetryPolicy | None = None,
        limiters: LimiterRegistry | None = None,
        hooks: Iterable[object] = (),
        clock: Callable[[], float] = time.time,
        sandbox_factory: Callable[[], Sandbox] | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.adapter_cls = adapter_cls
        self.vendor = adapter_cls.name
        self.profile = profile
        #: what open() starts from: a reopened client gets a fresh sandbox, not the old URL
        self._given_profile = profile
        self.retry_policy = retry or RetryPolicy()
        #: what the host chose; otherwise open() may pick the Redis backend
        self._given = (limiters, outbox)
        self._redis: Any = None
        self.limiters = limiters or LimiterRegistry()
        self.clock = clock
        #: Seconds to add to the local clock to get the vendor's (learned on skew errors).
        self.clock_offset = 0.0
        self.capabilities = Capabilities(adapter_cls)
        self._transport = transport
        self._transport_settings = transport_settings
        self._extra_hooks = list(hooks)
        self._sandbox_factory = sandbox_factory
        self.sandbox: Sandbox | None = None
        self._pipeline: Pipeline | None = None
        self._ext: dict[str, Extension] = {}
        self._open = False
        #: Writes whose outcome is unknown (UnknownOutcome, or cancelled after
        #: sending) until reconciled: ``await client.outbox.list()`` / ``drain()``.
        self.outbox: Outbox = outbox if outbox is not None else MemoryOutbox()

    # ------------------------------------------------------------ lifecycle

    async def open(self) -> Client:
        if self._open:
            return self
        profile = self.profile = self._given_profile
        if profile.is_sandbox:
            if self._sandbox_factory is None:
                raise PluginError(
                    f"{self.vendor}: profile has no base_url and the plugin ships no sandbox",
                    vendor=self.vendor,
                )
            self.sandbox = self._sandbox_factory()
            base_url = await self.sandbox.start()
            profile = self.profile = profile.with_sandbox(
                base_url, self.sandbox.credentials(), self.sandbox.profile_options()
            )
        try:
            self.adapter = self.adapter_cls(profile)
            self.signer = self.adapter.create_signer()
            self.converter: cattrs.Converter = self.adapter.create_converter()
            # one transport (one pool) for every port: the profile's proxy, TLS, pool
            # and timeouts, unless connect(transport_settings=...) gave its own
            self.transport = (
                self._transport or profile.transport_settings(self._transport_settings).transport()
            )
            self.transport.closed = False  # a reopened client may send again
            self.limiter_scope = self.signer.redacted().get("scope", "") or profile.name
            self._use_shared_state(profile)
            self.hooks = Hooks(dict(self.signer.redacted()))
            for impl in _global_hooks:
                self.hooks.register(impl)
            for impl in self.adapter.hook_impls():
                self.hooks.register(impl, name=getattr(impl, "hook_name", None))
            for impl in self._extra_hooks:
                self.hooks.register(impl)
            # port and extension classes are imported (and checked) here, once per class
            self.adapter_cls.resolve()
            for name, port in self.adapter.ports_for(self).items():
                setattr(self, name, port)
            self._pipeline = Pipeline(self)
            # ports call invoke on every request: skip one coroutine frame
            self.invoke = self._pipeline.invoke  # type: ignore[method-assign]
            # auth flows: the adapter and signer may now run sub-requests
            # (clock resync, token refresh) through this client's pipeline
            self.adapter.attach(self)
            self.signer.attach(self)
        except BaseException:
            await self._close_sandbox()
            raise
        self._open = True
        self.hooks.pm.hook.brokerport_client_created(client=self)
        return self

    async def aclose(self) -> None:
        if not self._open:
            await self._close_sandbox()
            return
        self._open = False
        pipeline, self._pipeline = self._pipeline, None
        self.__dict__.pop("invoke", None)
        try:
            streams = self.__dict__.get("streams")
            if isinstance(streams, StreamPort):
                await streams.aclose()  # every stream ends cleanly, before the session goes
            # no request is sent from here on; calls in flight end with typed errors
            if pipeline is not None:
                await pipeline.close()
            await self.limiters.flush()
            await self.outbox.flush()
        finally:
            await self._close_rest()

    def _use_shared_state(self, profile: Profile) -> None:
        """Redis for rate-limit windows, token rotation and the outbox when the
        profile (option ``redis_url``) or ``BROKERPORT_REDIS_URL`` names one."""
        import os

        if not (profile.options.get("redis_url") or os.environ.get("BROKERPORT_REDIS_URL")):
            return
        from .redis_backend import (
            RedisLimiterRegistry,
            RedisOutbox,
            RedisTokenStore,
            backend_for,
        )
        from .signing import BearerToken

        backend = self._redis = backend_for(profile.options)
        if backend is None:  # pragma: no cover - checked above
            return
        limiters, outbox = self._given
        if limiters is None:
            self.limiters = RedisLimiterRegistry(backend)
        if outbox is None:
            self.outbox = RedisOutbox(backend)
        token = getattr(self.signer, "token", None)
        if isinstance(token, BearerToken) and token.store is None:
            token.store = RedisTokenStore(backend, f"{self.vendor}:{self.limiter_scope}")

    async def _close_rest(self) -> None:
        try:
            self.hooks.pm.hook.brokerport_client_closed(client=self)
        finally:
            try:
                try:
                    await self.signer.aclose()
                finally:
                    await self.transport.aclose()  # never leak the session
            finally:
                try:
                    await self._close_sandbox()
                finally:
                    if self._redis is not None:
                        redis, self._redis = self._redis, None
                        await redis.aclose()

    async def _close_sandbox(self) -> None:
        if self.sandbox is not None:
            sandbox, self.sandbox = self.sandbox, None
            await sandbox.stop()

    async def __aenter__(self) -> Client:
        return await self.open()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __await__(self) -> Any:
        return self.open().__await__()

    # ------------------------------------------------------------- calling

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise PluginError(
                f"{self.vendor} client is not open: use 'async with' or 'await'",
                vendor=self.vendor,
            )
        return self._pipeline

    def __getattr__(self, name: str) -> Any:
        # ports are attached by open(): before that, a typed error, not AttributeError
        if name in PORTS:
            raise PluginError(
                f"{self.vendor} client is not open: use 'async with' or 'await'",
                vendor=self.vendor,
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    async def invoke(
        self,
        name: str,
        params: Mapping[str, Any],
        *,
        into: Any = None,
        idempotency_key: str | None = None,
        read: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Run one catalog endpoint through the pipeline (used by ports and signers).

        ``into``/``read`` turn the payload into the result inside the call, so an
        unreadable answer to a write is ``UnknownOutcome`` (see Pipeline.invoke).
        """
        return await self.pipeline.invoke(
            name, params, into=into, idempotency_key=idempotency_key, read=read
        )

    async def call(self, endpoint_name: str, **params: Any) -> Any:
        """Raw call to any endpoint in the vendor's catalog, signed and error-mapped."""
        return await self.pipeline.invoke(endpoint_name, params)

    def structure(self, data: Any, cls: type[T]) -> T:
        """Structure vendor data that is not a call's answer; a failure is ``DecodeError``.

        A call's answer is read inside the call (``invoke(..., into=/read=)`` or a
        binding), where an unreadable answer to a write becomes ``UnknownOutcome``.
        """
        try:
            return self.converter.structure(data, cls)
        except BrokerportError:
            raise
        except Exception as exc:
            raise self.pipeline.unreadable(None, getattr(cls, "__name__", str(cls)), exc) from None

    def ext(self, name: str) -> Any:
        """A namespaced extension port, e.g. ``client.ext("okx.rebates")``."""
        port = self._ext.get(name)
        if port is None:
            cls = self.adapter_cls.resolve().extensions.get(name)
            if cls is None:
                raise NotSupported(f"{self.vendor} has no extension {name!r}", vendor=self.vendor)
            port = self._ext[name] = cls(self)
        return port

    def port(self, name: str) -> Port:
        if name not in PORTS:
            raise NotSupported(f"no port named {name!r}", vendor=self.vendor)
        if not self._open:
            raise PluginError(f"{self.vendor} client is not open", vendor=self.vendor)
        port: Port = getattr(self, name)
        return port

    async def reconcile(self, unknown: UnknownOutcome | OutboxEntry | str) -> Reconciliation:
        """Ask the vendor whether a write of unknown outcome was applied.

        ``unknown`` is the :class:`UnknownOutcome` raised, an outbox entry, or
        its id. Runs the plugin's lookup for the endpoint; a settled answer
        (``applied`` with the result, or ``not_applied``) removes the entry from
        the outbox; ``unknown`` (the vendor gives no way to tell) leaves it.
        """
        from .reconcile import Reconciliation
        from .reconcile import unknown as undecided

        entry = await self._outbox_entry(unknown)
        reconciler = self.adapter.reconciler(entry.endpoint)
        if reconciler is None:
            verdict = undecided(
                f"{self.vendor} offers no way to look {entry.endpoint} up; "
                + (entry.how_to_reconcile or "check at the vendor by hand")
            )
        else:
            verdict = await reconciler(self, entry)
        if verdict.settled:
            await self.outbox.remove(entry.id)
        return Reconciliation(verdict.status, verdict.result, verdict.detail, verdict.hint, entry)

    async def _outbox_entry(self, ref: UnknownOutcome | OutboxEntry | str) -> OutboxEntry:
        import attrs

        if isinstance(ref, OutboxEntry):
            return ref
        wanted = ref.outbox_id if isinstance(ref, UnknownOutcome) else ref
        for entry in await self.outbox.list():
            if entry.id == wanted:
                return entry
        if isinstance(ref, UnknownOutcome) and ref.endpoint:
            # not (or no longer) in the outbox: rebuild what the error carries
            rebuilt = OutboxEntry(
                vendor=ref.vendor or self.vendor,
                endpoint=ref.endpoint,
                kind="unknown_outcome",
                message=ref.message,
                params=dict(ref.reconcile_with),
                idempotency_key=ref.idempotency_key,
                how_to_reconcile=ref.how_to_reconcile or "",
            )
            return attrs.evolve(rebuilt, id=ref.outbox_id) if ref.outbox_id else rebuilt
        raise NotSupported(f"no outbox entry {wanted!r}", vendor=self.vendor)

    @property
    def catalog(self) -> Any:
        return self.adapter_cls.catalog()

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<brokerport.Client {self.vendor} profile={self.profile.name} {state}>"


async def paginate(
    operation: Callable[[Q], Awaitable[Page[T]]], request: Q, *, max_pages: int | None = None
) -> AsyncIterator[T]:
    """Every item of a paged operation, across pages, in order.

    ``operation`` is a port method returning :class:`~brokerport.models.Page`;
    ``request`` is its request model with a ``cursor`` field.
    """
    import attrs

    pages = 0
    seen: set[str | None] = set()
    while True:
        page = await operation(request)
        for item in page.items:
            yield item
        pages += 1
        cursor = page.next_cursor
        if cursor is None or (max_pages is not None and pages >= max_pages):
            return
        if cursor in seen:
            raise BrokerportError("the vendor repeated a page cursor; stopping")
        seen.add(cursor)
        request = attrs.evolve(request, cursor=cursor)  # type: ignore[misc]
