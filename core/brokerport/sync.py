"""A synchronous facade: the same client, ports, models, errors and hooks, blocking.

For hosts that are not async (Django views, scripts, notebooks)::

    import brokerport.sync

    with brokerport.sync.connect("okx") as client:
        sub = client.subaccounts.create(CreateSubAccount(name="desk01a"))

Each call runs the async client on a private event-loop thread (one per
process, started on first use, a daemon) and waits for its result; errors
are the same exception objects the async API raises. Any number of host
threads may share one facade client: its calls run concurrently on the
loop, through the one connection pool. Hooks run on the loop thread.

Called from inside a running event loop, a facade method would block that
loop: it raises :class:`EventLoopRunning` instead, telling the host to use
the async API. Open facade clients are closed at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import BrokerportError, PluginError

if TYPE_CHECKING:
    from types import TracebackType

    from .client import Client
    from .models import Page
    from .profile import Profile

__all__ = ["EventLoopRunning", "SyncClient", "connect", "paginate"]

T = TypeVar("T")


class EventLoopRunning(BrokerportError, RuntimeError):
    """A blocking facade call was made where it would block an event loop."""


class _LoopThread:
    """The private event loop every facade client runs on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="brokerport-sync-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C while waiting: do not leave the call running
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        if self.thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(drain(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


_lock = threading.Lock()
_runner: _LoopThread | None = None
_open_clients: weakref.WeakSet[SyncClient] = weakref.WeakSet()


def _loop_thread() -> _LoopThread:
    global _runner
    with _lock:
        if _runner is None or not _runner.thread.is_alive():
            _runner = _LoopThread()
        return _runner


def _check_context(what: str) -> None:
    runner = _runner
    if runner is not None and threading.current_thread() is runner.thread:
        raise EventLoopRunning(
            f"{what} was called from brokerport's own loop thread (a hook?): "
            "inside hooks and coroutines use the async client"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise EventLoopRunning(
        f"{what} blocks, and this thread is running an event loop: use the async API "
        "(`async with brokerport.connect(...) as client: await client...`) here, "
        "or call the sync facade from a worker thread (asyncio.to_thread)"
    )


@atexit.register
def _close_all() -> None:
    """Close every facade client still open, then stop the loop thread."""
    global _runner
    runner = _runner
    if runner is None:
        return
    for client in list(_open_clients):
        with contextlib.suppress(Exception):
            client.close()
    runner.stop()
    _runner = None


class _SyncNamespace:
    """A port or extension whose async methods block until done."""

    def __init__(self, target: Any, client: SyncClient) -> None:
        self._target = target
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        client = self._client

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return client._run(attr, *args, **kwargs)

        setattr(self, name, blocking)  # wrapped once per name
        return blocking

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"


class SyncClient:
    """A blocking view of an (unopened or open) async :class:`~brokerport.client.Client`.

    ``accounts``, ``funding``, ``trading``, ``subaccounts`` and ``keys`` are the
    ports, with the same methods, models and errors, blocking; ``call``,
    ``ext``, ``capabilities``, ``profile``, ``hooks`` and ``sandbox`` as on the
    async client (``aio`` is the async client itself).
    """

    def __init__(self, client: Client) -> None:
        self.aio = client
        self._ports: dict[str, _SyncNamespace] = {}
        self._opened = self._closed = False

    # ----------------------------------------------------------- lifecycle

    def open(self) -> SyncClient:
        if self._closed:
            raise PluginError(f"{self.aio.vendor} sync client is closed", vendor=self.aio.vendor)
        _check_context("brokerport.sync.connect")
        if not self._opened:
            _loop_thread().run(self.aio.open())
            self._opened = True
            _open_clients.add(self)
        return self

    def close(self) -> None:
        """Close the client (its sessions, its sandbox). Idempotent."""
        if self._closed:
            return
        self._closed = True
        _open_clients.discard(self)
        runner = _runner
        if runner is not None and runner.thread.is_alive():
            _check_context("SyncClient.close")
            runner.run(self.aio.aclose())

    def __enter__(self) -> SyncClient:
        return self.open()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------- calling

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        _check_context(f"{self.aio.vendor} {getattr(fn, '__qualname__', 'call')}")
        if self._closed:
            raise PluginError(f"{self.aio.vendor} sync client is closed", vendor=self.aio.vendor)
        return _loop_thread().run(_call(fn, args, kwargs))

    def __getattr__(self, name: str) -> Any:
        from .ports import PORTS

        if name in PORTS:
            port = self._ports.get(name)
            if port is None:
                port = self._ports[name] = _SyncNamespace(self.aio.port(name), self)
            return port
        if name in ("capabilities", "profile", "hooks", "sandbox", "vendor", "catalog"):
            return getattr(self.aio, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def call(self, endpoint_name: str, **params: Any) -> Any:
        """Raw call to any endpoint in the vendor's catalog (blocking)."""
        return self._run(self.aio.call, endpoint_name, **params)

    def ext(self, name: str) -> Any:
        """A namespaced extension port, blocking (``client.ext("okx.rebates")``)."""
        return _SyncNamespace(self.aio.ext(name), self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        aio = self.aio
        return f"<brokerport.sync.SyncClient {aio.vendor} profile={aio.profile.name} {state}>"


async def _call(fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Runs on the loop thread: the port method, and its coroutine if it returns one."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def connect(vendor: str, profile: Profile | str | None = None, **options: Any) -> SyncClient:
    """:func:`brokerport.connect`, opened and blocking; use ``with`` or call ``close()``."""
    _check_context("brokerport.sync.connect")
    from . import connect as aconnect

    return SyncClient(aconnect(vendor, profile, **options)).open()


def paginate(
    operation: Callable[[Any], Page[T]], request: Any, *, max_pages: int | None = None
) -> Iterator[T]:
    """Every item of a paged facade operation, across pages (see :func:`brokerport.paginate`)."""
    import attrs

    pages = 0
    seen: set[str | None] = set()
    while True:
        page = operation(request)
        yield from page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None or (max_pages is not None and pages >= max_pages):
            return
        if cursor in seen:
            raise BrokerportError("the vendor repeated a page cursor; stopping")
        seen.add(cursor)
        request = attrs.evolve(request, cursor=cursor)
