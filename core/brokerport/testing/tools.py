"""The kit's instruments: readable, redacted failures; a virtual clock; a tampering transport.

* :func:`evidence` renders the sandbox journal's last entries with every credential
  value replaced by ``***`` (header *values* are shown only for headers that carry no
  credential); :func:`fail` ends a contract with what was expected and that evidence.
  A contract never lets pytest print a journal entry, a header or a body itself.
* :class:`VirtualClock` is a monotonic clock and an ``asyncio.sleep`` that advances it
  instead of waiting: the client's rate limiter and the sandbox's windows share it, so a
  200-per-minute bucket is tested in milliseconds.
* :class:`TamperingTransport` sends what the client signed, changed after signing (one
  byte of a signed part, or a credential header left out): a fresh request with its own
  nonce and timestamp, so the sandbox can refuse it only for the change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from ..adapter import dumps
from ..transport import RawResponse, Transport

if TYPE_CHECKING:
    from ..sandbox import JournalEntry, Sandbox
    from ..signing import PreparedRequest

__all__ = [
    "TamperingTransport",
    "VirtualClock",
    "evidence",
    "fail",
    "flip",
    "redact",
    "tamper_part",
]

MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value (and its URL-encoded form) replaced by ``***``."""
    from urllib.parse import quote

    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK).replace(quote(value, safe=""), MASK)
    return text


def _entry_line(entry: JournalEntry, secrets: list[str], sensitive: frozenset[str]) -> str:
    what = f"#{entry.seq} {entry.method} {entry.path}"
    if entry.query:
        what += f"?{entry.query}"
    state = f"-> {entry.status if entry.status is not None else 'no answer'}"
    if entry.endpoint:
        state += f" [{entry.endpoint}]"
    flags = [f"rejected={entry.rejected}"] if entry.rejected else []
    flags += ["effect"] if entry.effect else []
    flags += [f"fault={entry.fault}"] if entry.fault else []
    headers = ", ".join(
        f"{k}: {MASK if k.lower() in sensitive else v}"
        for k, v in sorted(entry.headers.items())
        if k.lower() not in ("host", "content-length", "user-agent", "accept", "accept-encoding")
    )
    body = entry.body[:300].decode("utf-8", "replace") + ("..." if len(entry.body) > 300 else "")
    text = f"  {what} {state} {' '.join(flags)}\n    headers {{{headers}}}"
    if body:
        text += f"\n    body {body}"
    return redact(text, secrets)


def evidence(
    sandbox: Sandbox | None,
    secrets: Iterable[str] = (),
    *,
    last: int = 6,
    since: int = 0,
    sensitive: Iterable[str] = (),
) -> str:
    """The journal's last ``last`` entries (after entry ``since``), credentials redacted."""
    if sandbox is None:
        return "  (no sandbox journal)"
    values = [*secrets, *sandbox.credentials().values()]
    for creds in sandbox.credential_sets().values():
        values += creds.values()
    marked = frozenset(
        h.lower()
        for h in (
            *sensitive,
            "authorization",
            "cookie",
            *_carrier_headers(sandbox),
        )
    )
    entries = [e for e in sandbox.journal if e.seq > since][-last:]
    if not entries:
        return "  (the sandbox journal holds no request)"
    return "\n".join(_entry_line(e, values, marked) for e in entries)


def _carrier_headers(sandbox: Sandbox) -> list[str]:
    signing = getattr(sandbox.catalog, "signing", None)
    if signing is None:
        return []
    return [c.split(":", 1)[1] for c in signing.carriers if c.startswith("header:")]


def fail(
    expected: str,
    got: str,
    sandbox: Sandbox | None,
    secrets: Iterable[str] = (),
    *,
    since: int = 0,
    last: int = 6,
) -> NoReturn:
    """End the contract: what was expected, what happened, what the journal shows."""
    secrets = list(secrets)
    text = (
        f"expected: {redact(expected, secrets)}\n"
        f"got:      {redact(got, secrets)}\n"
        f"sandbox journal (last requests, credentials redacted):\n"
        f"{evidence(sandbox, secrets, since=since, last=last)}"
    )
    pytest.fail(text, pytrace=False)


# ------------------------------------------------------------------ clock


class VirtualClock:
    """Monotonic seconds that move only when someone sleeps on them."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
            self.slept += seconds
        await asyncio.sleep(0)


# --------------------------------------------------------------- tampering


def flip(text: str) -> str:
    """One character changed: the last digit bumped, else the last letter's case (or
    next letter), else a character appended. The result keeps the value's shape.
    Padded base64 (``...=``) changes its first character instead: the last one may
    hold only padding bits, and another spelling of the same bytes changes nothing."""
    if text.endswith("=") and len(text) > 2 and text[0].isascii() and text[0].isalnum():
        first = text[0]
        swapped = str((int(first) + 1) % 10) if first.isdigit() else first.swapcase()
        return swapped + text[1:]
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c.isdigit():
            return text[:i] + str((int(c) + 1) % 10) + text[i + 1 :]
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c.isascii() and c.isalpha():
            nxt = chr((ord(c.lower()) - 97 + 1) % 26 + 97)
            return text[:i] + (nxt.upper() if c.isupper() else nxt) + text[i + 1 :]
    return text + "0"


def _flip_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, Decimal)):
        return type(value)(flip(str(value)))
    if isinstance(value, float):
        return float(flip(repr(value)))
    if isinstance(value, str):
        return flip(value)
    return None  # nested objects: not a field the kit changes


def _path_index(route: str, name: str) -> int | None:
    segments = route.split("/")
    return segments.index(f"{{{name}}}") if f"{{{name}}}" in segments else None


def tamper_part(request: PreparedRequest, part: str, route: str = "") -> list[str]:
    """Change one byte of ``part`` of ``request`` in place; the names of what changed
    (``[]``: the request has no such part). ``query``/``body`` alone: the first field.
    ``path:NAME`` needs the endpoint's ``route`` (the path with placeholders)."""
    kind, _, name = part.partition(":")
    if kind == "path":
        at = _path_index(route, name)
        segments = request.path.split("/")
        if at is None or at >= len(segments) or not segments[at]:
            return []
        segments[at] = flip(segments[at])
        request.path = "/".join(segments)
        return [part]
    if kind == "header":
        for key in list(request.headers):
            if key.lower() == name.lower():
                request.headers[key] = flip(request.headers[key])
                return [part]
        return []
    if kind == "query":
        pairs = request.query.split("&") if request.query else []
        for i, pair in enumerate(pairs):
            key, eq, value = pair.partition("=")
            if (not name or key == name) and value:
                pairs[i] = f"{key}{eq}{flip(value)}"
                request.query = "&".join(pairs)
                return [f"query:{key}"]
        return []
    try:
        doc = json.loads(request.body or b"", parse_float=Decimal)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return []
    for key, value in doc.items():
        if (not name or key == name) and _flip_value(value) is not None and value not in ("", None):
            doc[key] = _flip_value(value)
            request.body = dumps(doc)
            return [f"body:{key}"]
    return []


def expand_parts(request: PreparedRequest, parts: Iterable[str], route: str = "") -> list[str]:
    """``query`` / ``body`` expanded to every field the request carries; named parts
    the request does not carry are left out."""
    out: list[str] = []
    for part in parts:
        if ":" in part:
            probe = _copy(request)
            if tamper_part(probe, part, route):
                out.append(part)
            continue
        if part == "query":
            out += [f"query:{p.partition('=')[0]}" for p in request.query.split("&") if p]
        elif part == "body":
            try:
                doc = json.loads(request.body or b"", parse_float=Decimal)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                out += [f"body:{k}" for k, v in doc.items() if _flip_value(v) not in (None, "")]
    return list(dict.fromkeys(out))


def _copy(request: PreparedRequest) -> PreparedRequest:
    from ..signing import PreparedRequest as Prepared

    return Prepared(
        request.method,
        request.base_url,
        request.path,
        request.query,
        dict(request.headers),
        request.body,
        request.endpoint,
    )


def remove_part(request: PreparedRequest, part: str) -> bool:
    """Leave ``part`` out of ``request``; False when it was not there."""
    kind, _, name = part.partition(":")
    if kind == "header":
        keys = [k for k in request.headers if k.lower() == name.lower()]
        for key in keys:
            del request.headers[key]
        return bool(keys)
    if kind == "query":
        pairs = [p for p in request.query.split("&") if p]
        kept = [p for p in pairs if p.partition("=")[0] != name]
        request.query = "&".join(kept)
        return len(kept) != len(pairs)
    try:
        doc = json.loads(request.body or b"", parse_float=Decimal)
    except ValueError:
        return False
    if not isinstance(doc, dict) or name not in doc:
        return False
    del doc[name]
    request.body = dumps(doc)
    return True


Change = Callable[["PreparedRequest"], Any]


class TamperingTransport(Transport):
    """Wraps the real transport; while armed, changes each request to ``endpoint``
    after it was signed (``change(request)``) and records what it changed."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.endpoint: str | None = None
        self.change: Change | None = None
        self.changed: list[Any] = []

    def arm(self, endpoint: str, change: Change) -> None:
        self.endpoint, self.change, self.changed = endpoint, change, []

    def disarm(self) -> None:
        self.endpoint = self.change = None

    async def send(self, request: PreparedRequest) -> RawResponse:
        if self.change is not None and request.endpoint == self.endpoint:
            copy = _copy(request)
            self.changed.append(self.change(copy))
            request = copy
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
