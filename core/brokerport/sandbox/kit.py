"""The sandbox toolkit's parts that hold no server: JSON, clock, journal, faults."""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
from aiohttp import web

from ..signing import rsa_sha1_verify

__all__ = [
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Journal",
    "JournalEntry",
    "SandboxClock",
    "dumps_json",
    "json_response",
    "rsa_sha1_verify",
    "verify_digest",
]


# ------------------------------------------------------------------ JSON


def dumps_json(obj: Any) -> bytes:
    """JSON with Decimals as bare numbers (as vendors send doubles), exact digits."""
    numbers: list[str] = []
    # a per-call nonce: a string value in the data can never look like a placeholder
    tag = secrets.token_hex(8)

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            numbers.append(format(value, "f"))
            return f"\x00{tag}:{len(numbers) - 1}\x00"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"))
    if numbers:
        for i, num in enumerate(numbers):
            text = text.replace(f'"\\u0000{tag}:{i}\\u0000"', num, 1)
    return text.encode()


def json_response(
    obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps_json(obj),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def verify_digest(expected: str | bytes, provided: str | bytes | None) -> bool:
    """Constant-time comparison of a computed signature with the one sent."""
    if provided is None:
        return False
    a = expected.encode() if isinstance(expected, str) else expected
    b = provided.encode() if isinstance(provided, str) else provided
    return hmac.compare_digest(a, b)


# ----------------------------------------------------------------- clock


class SandboxClock:
    """Wall-clock seconds, with an offset you can set, advance, or freeze."""

    def __init__(self, *, frozen_at: float | None = None) -> None:
        self._offset = 0.0
        self._frozen = frozen_at

    def now(self) -> float:
        return self._frozen if self._frozen is not None else time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds

    def freeze(self, at: float | None = None) -> None:
        self._frozen = self.now() if at is None else at

    def unfreeze(self) -> None:
        if self._frozen is not None:
            self._offset = self._frozen - time.time()
        self._frozen = None

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen = None

    def now_ms(self) -> int:
        return int(self.now() * 1000)


# --------------------------------------------------------------- journal


def _names_only(headers: Mapping[str, str]) -> str:
    return "{" + ", ".join(sorted(headers)) + "}"


def _size_only(body: bytes) -> str:
    return f"<{len(body)} bytes>"


@attrs.define(slots=True)
class JournalEntry:
    """One request as received. Its repr shows header *names* and the body's size only:
    a failing assertion that prints an entry must never print a credential."""

    seq: int
    at: float
    method: str
    #: the decoded path (aiohttp's ``request.path``); ``raw_path`` is as received
    path: str
    #: the query text exactly as received (never decoded and re-encoded)
    query: str
    headers: Mapping[str, str] = attrs.field(repr=_names_only)
    body: bytes = attrs.field(repr=_size_only)
    endpoint: str | None
    status: int | None = None
    effect: bool = False
    fault: str | None = None
    rejected: str | None = None
    raw_path: str = ""


class Journal:
    """Every request the sandbox received, in order."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()

    def for_endpoint(self, endpoint: str) -> list[JournalEntry]:
        return [e for e in self.entries if e.endpoint == endpoint]

    def effects(self, endpoint: str | None = None) -> list[JournalEntry]:
        return [
            e for e in self.entries if e.effect and (endpoint is None or e.endpoint == endpoint)
        ]

    def rejections(self, reason: str | None = None) -> list[JournalEntry]:
        return [e for e in self.entries if e.rejected and (reason is None or e.rejected == reason)]

    def last(self) -> JournalEntry | None:
        return self.entries[-1] if self.entries else None


# ---------------------------------------------------------------- faults

FaultKind = Literal[
    "latency",
    "status",
    "reset",
    "truncate",
    "html",
    "not_json",
    "empty",
    "lost",
    "timeout",
]


@attrs.define(slots=True)
class Fault:
    """One injected failure.

    ``kind``:
      * ``latency`` — wait ``delay`` seconds, then answer normally;
      * ``status`` — answer HTTP ``status`` (default 503) with the sandbox's 5xx body;
      * ``html`` — answer ``status`` (default 502) with an HTML error page;
      * ``not_json`` / ``empty`` — answer 200 with a non-JSON / empty body;
      * ``reset`` — drop the connection without answering (before the handler);
      * ``truncate`` — run the handler, then send half of its body;
      * ``lost`` — run the handler (the effect is applied), then drop the connection;
      * ``timeout`` — hold the request for ``delay`` seconds (default 5) without
        answering; with ``after_effect`` the handler runs first.
    ``endpoint``: the catalog endpoint it applies to (None: every endpoint).
    ``skip``: let this many matching requests pass first. ``times``: how many
    to affect (-1: all).
    """

    kind: FaultKind
    endpoint: str | None = None
    times: int = 1
    skip: int = 0
    status: int | None = None
    delay: float | None = None
    after_effect: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, endpoint: str | None) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times >= 0 and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class FaultPlan:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, kind: FaultKind, endpoint: str | None = None, **kw: Any) -> Fault:
        fault = Fault(kind, endpoint, **kw)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, endpoint: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(endpoint):
                return fault
        return None
