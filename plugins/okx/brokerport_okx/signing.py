"""OKX V5 request signing and OAuth bearer tokens.

REST signature (OKX's standard scheme)::

    OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))

``requestPath`` includes ``?query`` for GET; ``body`` is the exact bytes
sent. The timestamp is ISO-8601 UTC with milliseconds
(``2020-12-08T09:08:57.715Z``). ``x-simulated-trading: 1`` selects demo
trading.

Both signers consult a :class:`FaultNote` the adapter's decoder fills: on
``50102`` (timestamp expired) the HMAC signer resyncs the client clock from
the public time endpoint; on ``53000``/``53002`` the bearer signer refreshes
the token (one flight, shared by every concurrent caller).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from brokerport.errors import BrokerportError
from brokerport.signing import (
    BearerSigner,
    BearerToken,
    PreparedRequest,
    Signer,
    hmac_sha256_b64,
)
from brokerport.types import REDACTED, Secret

from .errors import TIMESTAMP_EXPIRED, TOKEN_REFRESHABLE

__all__ = [
    "FaultNote",
    "OkxHmacSigner",
    "OkxOAuthSigner",
    "okx_timestamp",
    "prehash",
    "sign",
]


def okx_timestamp(now: float) -> str:
    """Epoch seconds -> ``2020-12-08T09:08:57.715Z``."""
    ms = round(now * 1000)
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def prehash(timestamp: str, method: str, request_path: str, body: bytes | None) -> bytes:
    return (timestamp + method.upper() + request_path).encode() + (body or b"")


def sign(
    secret: Secret | str, timestamp: str, method: str, request_path: str, body: bytes | None = None
) -> str:
    """The OK-ACCESS-SIGN value."""
    return hmac_sha256_b64(secret, prehash(timestamp, method, request_path, body))


class FaultNote:
    """The last vendor code the decoder saw on this client (read before any await)."""

    __slots__ = ("code",)

    def __init__(self) -> None:
        self.code: str | None = None


Resync = Callable[[], Awaitable[bool]]


class OkxHmacSigner(Signer):
    """OK-ACCESS-KEY / SIGN / TIMESTAMP / PASSPHRASE over the exact bytes sent."""

    sensitive_headers = frozenset({"ok-access-sign", "ok-access-passphrase", "authorization"})

    def __init__(
        self,
        api_key: Secret,
        secret_key: Secret,
        passphrase: Secret,
        *,
        simulated: bool = False,
        public_endpoints: frozenset[str] = frozenset(),
        note: FaultNote | None = None,
    ) -> None:
        self._api_key = api_key
        self._secret = secret_key
        self._passphrase = passphrase
        self.simulated = simulated
        self.public_endpoints = public_endpoints
        self.note = note or FaultNote()
        self.resync: Resync | None = None
        self.resyncs = 0

    def sign(self, request: PreparedRequest, now: float) -> None:
        if self.simulated:
            request.headers["x-simulated-trading"] = "1"
        if request.endpoint in self.public_endpoints:
            return
        ts = okx_timestamp(now)
        request.headers["OK-ACCESS-KEY"] = self._api_key.reveal()
        request.headers["OK-ACCESS-SIGN"] = sign(
            self._secret, ts, request.method, request.path_with_query, request.body
        )
        request.headers["OK-ACCESS-TIMESTAMP"] = ts
        request.headers["OK-ACCESS-PASSPHRASE"] = self._passphrase.reveal()

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        code = error.vendor_code
        if (
            code == TIMESTAMP_EXPIRED
            and self.resync is not None
            and request.endpoint not in self.public_endpoints
        ):
            self.resyncs += 1
            return await self.resync()
        return False

    def redacted(self) -> Mapping[str, str]:
        key = self._api_key.reveal()
        shown = key[:4] + REDACTED if len(key) > 8 else REDACTED
        out = {
            "OK-ACCESS-KEY": shown,
            "OK-ACCESS-SIGN": REDACTED,
            "OK-ACCESS-PASSPHRASE": REDACTED,
        }
        if self.simulated:
            out["x-simulated-trading"] = "1"
        return out


class OkxOAuthSigner(BearerSigner):
    """``Authorization: Bearer`` (+ optional TERMID) with single-flight rotation."""

    sensitive_headers = frozenset({"authorization"})

    def __init__(
        self,
        token: BearerToken,
        *,
        termid: str | None = None,
        simulated: bool = False,
        public_endpoints: frozenset[str] = frozenset(),
        note: FaultNote | None = None,
    ) -> None:
        extra: dict[str, str] = {}
        if termid:
            extra["TERMID"] = termid
        super().__init__(token, extra)
        self.simulated = simulated
        self.public_endpoints = public_endpoints
        self.note = note or FaultNote()

    def sign(self, request: PreparedRequest, now: float) -> None:
        if self.simulated:
            request.headers["x-simulated-trading"] = "1"
        if request.endpoint in self.public_endpoints:
            return
        super().sign(request, now)

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        if error.vendor_code not in TOKEN_REFRESHABLE:
            return False
        return await super().on_auth_failure(request, error)

    def redacted(self) -> Mapping[str, str]:
        out = dict(super().redacted())
        if self.simulated:
            out["x-simulated-trading"] = "1"
        return out
