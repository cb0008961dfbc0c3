"""The outbox: every write whose outcome is unknown, until a host reconciles it.

Each :class:`~brokerport.errors.UnknownOutcome` a client raises, and each
write the host cancelled after it may have left, is recorded as an
:class:`OutboxEntry`. A host lists the entries, reconciles each with
``await client.reconcile(entry)`` (which removes those it settles), or drains
them into its own store. The default :class:`MemoryOutbox` lives as long as the
process; :class:`brokerport.redis_backend.RedisOutbox` is shared by processes.
Entries hold redacted parameters only (no credential), as text.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["MemoryOutbox", "Outbox", "OutboxEntry"]

Kind = Literal["unknown_outcome", "cancelled"]


@attrs.frozen(slots=True)
class OutboxEntry:
    """One write whose outcome the host must settle."""

    vendor: str
    endpoint: str
    kind: Kind
    message: str
    #: the call's parameters as text, credentials redacted
    params: Mapping[str, str] = attrs.field(factory=dict)
    idempotency_key: str | None = None
    how_to_reconcile: str = ""
    #: epoch seconds when the call started and when it was recorded
    started: float = 0.0
    at: float = attrs.field(factory=time.time)
    id: str = attrs.field(factory=lambda: secrets.token_hex(12))

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> OutboxEntry:
        data: dict[str, Any] = json.loads(text)
        data["params"] = {str(k): str(v) for k, v in dict(data.get("params") or {}).items()}
        return cls(**data)


class Outbox:
    """Where a client records unknown outcomes. Subclass for another store."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[None]] = set()

    async def add(self, entry: OutboxEntry) -> None:
        raise NotImplementedError

    async def list(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        raise NotImplementedError

    async def remove(self, entry_id: str) -> bool:
        """Forget one entry (it is settled); False when it was not there."""
        raise NotImplementedError

    async def drain(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        """Take every entry out (atomically where the store allows)."""
        raise NotImplementedError

    def add_soon(self, entry: OutboxEntry) -> None:
        """Record without awaiting (from a cancelled task); :meth:`flush` waits for it."""
        future = asyncio.ensure_future(self.add(entry))
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        await self.flush()


class MemoryOutbox(Outbox):
    """In-process outbox (the default): entries in insertion order."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, OutboxEntry] = {}

    async def add(self, entry: OutboxEntry) -> None:
        self._entries[entry.id] = entry

    def add_soon(self, entry: OutboxEntry) -> None:
        self._entries[entry.id] = entry

    async def list(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        return [e for e in self._entries.values() if vendor is None or e.vendor == vendor]

    async def remove(self, entry_id: str) -> bool:
        return self._entries.pop(entry_id, None) is not None

    async def drain(self, vendor: str | None = None) -> builtins.list[OutboxEntry]:
        taken = await self.list(vendor)
        for e in taken:
            del self._entries[e.id]
        return taken

    def __len__(self) -> int:
        return len(self._entries)
