"""Shared state across processes on Redis: rate-limit windows, OAuth token
rotation and the outbox (``pip install brokerport[redis]``).

Hosts that outgrow one process run several workers on one vendor key. Each
worker's client then needs the same view of

* **rate-limit windows** — :class:`RedisLimiterRegistry`: the sliding-window
  log of :mod:`brokerport.ratelimit` kept in a sorted set per bucket, admitted
  by one Lua script (atomic: read the window, decide, record the grant) on the
  Redis server's clock, so every process counts the same window;
* **OAuth token rotation** — :class:`RedisTokenStore`: the current token pair
  lives in Redis; one process at a time refreshes (a lock with a fencing
  version), the others wait for and adopt its pair, and a refresh token is
  marked spent before it is sent, so a rotated one is never used twice;
* **the outbox** — :class:`RedisOutbox`: a hash of entries every worker can
  list, reconcile and drain (atomically).

Selected by the profile option ``redis_url`` or the environment variable
``BROKERPORT_REDIS_URL`` (see :func:`backend_for`); without either, the
in-process backends stay the default. Uses the ``redis`` client's asyncio API.
Token pairs are stored in Redis in clear: protect the server as the secrets.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .catalog import Endpoint, RateLimit
from .errors import AuthenticationError, PluginError, RateLimited
from .outbox import Outbox, OutboxEntry
from .ratelimit import Limiter, LimiterRegistry

if TYPE_CHECKING:
    import builtins

    from .signing import TokenPair

__all__ = [
    "RedisBackend",
    "RedisLimiter",
    "RedisLimiterRegistry",
    "RedisOutbox",
    "RedisTokenStore",
    "backend_for",
]

ENV = "BROKERPORT_REDIS_URL"
log = logging.getLogger("brokerport.redis_backend")

# KEYS[1]: the bucket's sorted set (score: when the vendor's answer came back, in
# ms; a slot not answered yet is *held*: scored now + hold_ms, so it counts as the
# newest and still expires if its process died holding it)
# ARGV: now_ms ("" = the server's clock), per_ms, count, cost, margin_ms, member, hold_ms
# -> 0 when admitted (slots held), > 0 the ms to wait, < 0 only a release can make
# room: poll again in -n ms
_ADMIT = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local per, count, cost, margin, hold = tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per - margin)
local n = redis.call('ZCARD', KEYS[1])
if n + cost <= count then
  for i = 1, cost do
    redis.call('ZADD', KEYS[1], now + hold, ARGV[6] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], per + margin + hold + 1000)
  return 0
end
local idx = n + cost - count - 1
local e = redis.call('ZRANGE', KEYS[1], idx, idx, 'WITHSCORES')
local at = tonumber(e[2])
if at > now then
  local poll = math.floor(per / 100)
  if poll < 2 then poll = 2 end
  if poll > 50 then poll = 50 end
  return -poll
end
local wait = at + per + margin - now
if wait < 1 then wait = 1 end
return wait
"""

# KEYS[1]: the bucket; ARGV: now_ms ("" = the server's clock), member, cost
# the held slots of member count from now (XX: one whose hold expired stays gone)
_RELEASE = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
for i = 1, tonumber(ARGV[3]) do
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[2] .. ':' .. i)
end
return 0
"""

# KEYS[1]: outbox hash; ARGV[1]: vendor ("" = all) -> the entries taken
_DRAIN = """
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local ok, doc = pcall(cjson.decode, all[i + 1])
  if ARGV[1] == '' or (ok and doc['vendor'] == ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(out, all[i + 1])
  end
end
return out
"""

# KEYS[1]: token key; ARGV[1]: expected version, ARGV[2]: new document
_CAS = """
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = cjson.decode(cur)['version'] end
if tostring(v) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1]: lock key; ARGV[1]: owner token
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _redis() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError:  # pragma: no cover - the extra is not installed
        raise PluginError(
            "the Redis backend needs the redis package: pip install 'brokerport[redis]'"
        ) from None
    return aioredis


class RedisBackend:
    """One Redis connection pool and key prefix, shared by the three backends."""

    def __init__(self, url: str, *, prefix: str = "brokerport", client: Any = None) -> None:
        self.url = url
        self.prefix = prefix
        self.redis: Any = client if client is not None else _redis().from_url(url)
        self._admit = self.redis.register_script(_ADMIT)
        self._release = self.redis.register_script(_RELEASE)
        self._drain = self.redis.register_script(_DRAIN)
        self._cas = self.redis.register_script(_CAS)
        self._unlock = self.redis.register_script(_UNLOCK)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def aclose(self) -> None:
        await self.redis.aclose()

    def __repr__(self) -> str:
        return f"RedisBackend(prefix={self.prefix!r})"  # never the URL: it may hold a password


# ------------------------------------------------------------ rate limits


class RedisLimiter(Limiter):
    """A bucket whose window log is a Redis sorted set shared by every process.

    Same semantics as the in-process limiter: a slot is held (scored
    ``hold_timeout`` ahead, so a process that dies holding one frees it then)
    until :meth:`release` scores it with the Redis clock when the answer is in.
    A caller that finds only held slots ahead polls every ``per / 100``
    (2–50 ms): Redis has no wake-up for us without a second connection.
    """

    __slots__ = ("_backend", "_held", "_key", "_now_ms", "_releases", "hold_timeout")

    def __init__(
        self,
        limit: RateLimit,
        backend: RedisBackend,
        key: str,
        *,
        now_ms: Callable[[], int] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        margin: float | None = None,
        max_wait: float | None = None,
        hold_timeout: float = 120.0,
    ) -> None:
        super().__init__(limit, sleep=sleep, margin=margin, max_wait=max_wait)
        self._backend = backend
        self._key = key
        self._now_ms = now_ms
        #: members this process holds, oldest first
        self._held: list[tuple[str, int]] = []
        self._releases: set[asyncio.Task[None]] = set()
        #: seconds after which a slot never released (its process died) frees itself
        self.hold_timeout = hold_timeout

    async def acquire(self, cost: int = 1) -> float:
        # one task per process asks Redis at a time (FIFO, as the in-process
        # limiter): waiters do not all wake and poll the server together
        started = time.monotonic()
        async with self._lock:
            if self._releases:  # our own answers count before we ask again
                await asyncio.gather(*list(self._releases), return_exceptions=True)
            await self._admit(cost)
        waited = time.monotonic() - started
        self.waited += waited
        return waited

    def release(self, cost: int = 1) -> None:
        # the oldest of this process's holds of the same cost (any one will do:
        # each is scored with the time of this answer, which is after its own request left)
        i = next((i for i, (_, held) in enumerate(self._held) if held == cost), None)
        if i is None:
            return
        member, held = self._held.pop(i)
        now = "" if self._now_ms is None else str(self._now_ms())
        task = asyncio.ensure_future(
            self._backend._release(keys=[self._key], args=[now, member, held])
        )
        self._releases.add(task)
        task.add_done_callback(self._released_done)

    def _released_done(self, task: asyncio.Task[None]) -> None:
        self._releases.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # the hold frees itself after hold_timeout
            log.warning("cannot release a rate-limit slot in Redis: %r", task.exception())

    async def _admit(self, cost: int) -> None:
        window = self.window
        member = secrets.token_hex(8)
        while True:
            now = "" if self._now_ms is None else str(self._now_ms())
            wait_ms = int(
                await self._backend._admit(
                    keys=[self._key],
                    args=[
                        now,
                        int(window.per * 1000),
                        window.count,
                        cost,
                        int(window.margin * 1000),
                        member,
                        int(self.hold_timeout * 1000),
                    ],
                )
            )
            if wait_ms == 0:
                self._held.append((member, cost))
                return
            until_released = wait_ms < 0
            wait = abs(wait_ms) / 1000
            if self.max_wait is not None and (window.per if until_released else wait) > (
                self.max_wait
            ):
                shown = window.per if until_released else wait
                raise RateLimited(
                    f"client-side rate limit: the next slot is {shown:.1f} s away",
                    retry_after=shown,
                )
            self.waits += 1
            await self._sleep(wait)


class RedisLimiterRegistry(LimiterRegistry):
    """Limiters whose windows live in Redis: every process sharing a vendor key
    (the limiter scope) shares its limits. ``now_ms`` replaces the Redis
    server's clock (tests); ``margin`` overrides each limit's jitter margin."""

    def __init__(
        self,
        backend: RedisBackend,
        *,
        now_ms: Callable[[], int] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        margin: float | None = None,
        max_wait: float | None = None,
    ) -> None:
        super().__init__(sleep=sleep, max_wait=max_wait)
        self.backend = backend
        self.now_ms = now_ms
        self.margin = margin

    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        limit = endpoint.rate_limit
        if limit is None:
            return None
        bucket = f"{scope}|{limit.group or endpoint.name}"
        limiter = self._limiters.get(bucket)
        if limiter is None:
            limiter = self._limiters[bucket] = RedisLimiter(
                limit,
                self.backend,
                self.backend.key("rl", bucket),
                now_ms=self.now_ms,
                sleep=self.sleep,
                margin=self.margin,
                max_wait=self.max_wait,
            )
        return limiter

    def reset(self) -> None:  # pragma: no cover - a shared window is not one process's to clear
        raise PluginError("a shared rate-limit window cannot be reset by one client")

    async def flush(self) -> None:
        """Wait for the releases still being written, so a client closed (and its
        backend after it) leaves no answered slot held until ``hold_timeout``."""
        pending = [t for lim in self._limiters.values() for t in getattr(lim, "_releases", ())]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


# ----------------------------------------------------------------- outbox


class RedisOutbox(Outbox):
    """The outbox in a Redis hash: every worker lists, reconciles and drains the same."""

    def __init__(self, backend: RedisBackend, name: str = "outbox") -> None:
        super().__init__()
        self.backend = backend
        self.key = backend.key(name)

    async def add(self, entry: OutboxEntry) -> None:
        await self.backend.redis.hset(self.key, entry.id, entry.to_json())

    async def list(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        raw = await self.backend.redis.hvals(self.key)
        entries = [OutboxEntry.from_json(v) for v in raw]
        return sorted(
            (e for e in entries if vendor is None or e.vendor == vendor), key=lambda e: e.at
        )

    async def remove(self, entry_id: str) -> bool:
        return bool(await self.backend.redis.hdel(self.key, entry_id))

    async def drain(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        raw = await self.backend._drain(keys=[self.key], args=[vendor or ""])
        return sorted((OutboxEntry.from_json(v) for v in raw), key=lambda e: e.at)


# ------------------------------------------------------------ token store


def _fingerprint(secret: Any) -> str:
    value = secret.reveal() if hasattr(secret, "reveal") else str(secret)
    return hashlib.sha256(value.encode()).hexdigest()


class RedisTokenStore:
    """Where a :class:`~brokerport.signing.BearerToken` keeps its pair across processes.

    ``refresh`` runs the refresher in one process at a time (a lock with a
    time-to-live), always on the newest stored pair, marks the refresh token
    spent *before* sending it, and stores the new pair only if no one else
    stored one meanwhile (a version compare-and-set). Others wait for the
    stored version to change and adopt the pair.
    """

    def __init__(
        self,
        backend: RedisBackend,
        name: str,
        *,
        lock_ttl: float = 30.0,
        poll: float = 0.05,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.backend = backend
        self.key = backend.key("token", name)
        self.lock_key = self.key + ":lock"
        self.spent_key = self.key + ":spent"
        self.lock_ttl = lock_ttl
        self.poll = poll
        self._sleep = sleep

    async def load(self) -> tuple[int, TokenPair | None]:
        from .signing import TokenPair
        from .types import Secret

        raw = await self.backend.redis.get(self.key)
        if raw is None:
            return 0, None
        doc = json.loads(raw)
        pair = TokenPair(
            access_token=Secret(doc["access_token"]),
            refresh_token=Secret(doc["refresh_token"]) if doc.get("refresh_token") else None,
            expires_at=doc.get("expires_at"),
        )
        return int(doc["version"]), pair

    async def save(self, pair: TokenPair, expected_version: int) -> bool:
        doc = {
            "version": expected_version + 1,
            "access_token": pair.access_token.reveal(),
            "refresh_token": pair.refresh_token.reveal() if pair.refresh_token else None,
            "expires_at": pair.expires_at,
        }
        done = await self.backend._cas(
            keys=[self.key], args=[str(expected_version), json.dumps(doc)]
        )
        return bool(done)

    async def seed(self, pair: TokenPair) -> TokenPair:
        """Store ``pair`` unless a pair is stored already; the stored pair wins."""
        _, stored = await self.load()
        if stored is None and await self.save(pair, 0):
            return pair
        _, stored = await self.load()
        return stored or pair

    async def refresh(
        self, seen: Any, refresher: Callable[[TokenPair], Awaitable[TokenPair]]
    ) -> TokenPair:
        """The newest pair after a refresh of ``seen`` (an access token) by someone."""
        owner = secrets.token_hex(12)
        redis = self.backend.redis
        while True:
            version, stored = await self.load()
            if stored is not None and stored.access_token != seen:
                return stored  # another process rotated already: adopt its pair
            got = await redis.set(self.lock_key, owner, nx=True, px=int(self.lock_ttl * 1000))
            if got:
                break
            await self._sleep(self.poll)
        try:
            version, stored = await self.load()
            if stored is None:
                raise AuthenticationError("no token pair is stored to refresh")
            if stored.access_token != seen:
                return stored
            if stored.refresh_token is None:
                raise AuthenticationError("access token expired and no refresh token is available")
            spent = _fingerprint(stored.refresh_token)
            if not await redis.sadd(self.spent_key, spent):
                # used before (a lock that expired mid-refresh): never send it twice
                raise AuthenticationError("this refresh token was already used by another worker")
            await redis.expire(self.spent_key, 7 * 86400)
            new = await refresher(stored)
            if not await self.save(new, version):  # pragma: no cover - fencing
                raise AuthenticationError("another worker stored a token pair meanwhile")
            return new
        finally:
            await self.backend._unlock(keys=[self.lock_key], args=[owner])


def backend_for(options: Any, *, env: Any = None) -> RedisBackend | None:
    """The Redis backend a profile selects (option ``redis_url``, else the
    ``BROKERPORT_REDIS_URL`` environment variable), or None."""
    import os

    environ = os.environ if env is None else env
    url = (options or {}).get("redis_url") or environ.get(ENV)
    if not url:
        return None
    prefix = (options or {}).get("redis_prefix") or "brokerport"
    return RedisBackend(str(url), prefix=str(prefix))


def _now_ms() -> int:  # pragma: no cover - convenience for hosts' tests
    return int(time.time() * 1000)
