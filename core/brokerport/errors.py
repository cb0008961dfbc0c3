"""The typed error hierarchy.

Every error a host can see from brokerport is a :class:`BrokerportError`. Each
carries the vendor, the vendor's own code and message, the HTTP status and the
catalog endpoint name, so a host can log and branch without parsing strings.
None of them ever carries a secret: messages are built from vendor text and
endpoint names only, and :meth:`BrokerportError.__reduce__` keeps pickles to
those same fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthenticationError",
    "BrokerportError",
    "ClientClosed",
    "Conflict",
    "DecodeError",
    "InsufficientFunds",
    "InvalidRequest",
    "NotFound",
    "NotSupported",
    "PermissionDenied",
    "PluginError",
    "ProxyError",
    "RateLimited",
    "TLSError",
    "Timeout",
    "UnknownOutcome",
    "VendorUnavailable",
]


class BrokerportError(Exception):
    """Base of every error brokerport raises to a host."""

    #: Whether the same request may succeed if sent again unchanged.
    retryable: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        vendor: str | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        http_status: int | None = None,
        endpoint: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or vendor_message or type(self).__name__
        self.vendor = vendor
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message
        self.http_status = http_status
        self.endpoint = endpoint
        self.details: Mapping[str, Any] = dict(details or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        ctx = []
        if self.vendor:
            ctx.append(f"vendor={self.vendor}")
        if self.endpoint:
            ctx.append(f"endpoint={self.endpoint}")
        if self.vendor_code is not None:
            ctx.append(f"code={self.vendor_code}")
        if self.http_status is not None:
            ctx.append(f"http={self.http_status}")
        if ctx:
            parts.append("[" + " ".join(ctx) + "]")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def _fields(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "vendor_code": self.vendor_code,
            "vendor_message": self.vendor_message,
            "http_status": self.http_status,
            "endpoint": self.endpoint,
            "details": dict(self.details),
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self._fields()))

    def with_context(self, **fields: Any) -> BrokerportError:
        """Fill in context fields that are still unset; returns self."""
        for key, value in fields.items():
            if getattr(self, key, None) is None and value is not None:
                setattr(self, key, value)
        return self


def _rebuild(cls: type[BrokerportError], message: str, fields: dict[str, Any]) -> BrokerportError:
    return cls(message, **fields)


class InvalidRequest(BrokerportError, ValueError):
    """The request is malformed: caught before any I/O, or the vendor said so.

    :attr:`field` names the offending field when one is known. Also a
    :class:`ValueError` (Python's error for a refused argument value), so
    ``except ValueError`` around building a request model keeps working; a
    wrong *type* given to a request model is an InvalidRequest too, no longer
    a TypeError.
    """

    def __init__(self, message: str = "", *, field: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field = field

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "field": self.field}


class AuthenticationError(BrokerportError):
    """Credentials missing, wrong, expired, or a signature the vendor rejected."""


class PermissionDenied(BrokerportError):
    """Authenticated, but not allowed (permission, IP allow-list, environment)."""


class NotFound(BrokerportError):
    """The object named does not exist at the vendor."""


class Conflict(BrokerportError):
    """The request conflicts with the vendor's state (duplicate, wrong state)."""


class InsufficientFunds(BrokerportError):
    """Not enough balance, margin or quota for the operation."""


class RateLimited(BrokerportError):
    """The vendor refused the request for its rate limit."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "retry_after": self.retry_after}


class VendorUnavailable(BrokerportError):
    """The vendor failed (5xx, connection refused or reset before sending)."""

    retryable = True


class Timeout(BrokerportError):
    """An idempotent request timed out after all retries."""

    retryable = True


class UnknownOutcome(BrokerportError):
    """A non-idempotent request was sent, but its result cannot be known.

    The request may or may not have taken effect. It was not retried. The host
    must reconcile before trying again: look the operation up at the vendor by
    :attr:`idempotency_key` (when the vendor supports one) or by the fields in
    :attr:`reconcile_with`, as :attr:`how_to_reconcile` says.
    """

    def __init__(
        self,
        message: str = "",
        *,
        idempotency_key: str | None = None,
        reconcile_with: Mapping[str, str] | None = None,
        how_to_reconcile: str | None = None,
        outbox_id: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.idempotency_key = idempotency_key
        self.reconcile_with: Mapping[str, str] = dict(reconcile_with or {})
        self.how_to_reconcile = how_to_reconcile
        #: The client's outbox entry for it (``client.reconcile(error)`` settles it).
        self.outbox_id: str | None = outbox_id

    def _fields(self) -> dict[str, Any]:
        f = super()._fields()
        f.update(
            idempotency_key=self.idempotency_key,
            reconcile_with=dict(self.reconcile_with),
            how_to_reconcile=self.how_to_reconcile,
            outbox_id=self.outbox_id,
        )
        return f


class ClientClosed(BrokerportError):
    """The client was closed while the call was waiting or in flight (or before it).

    Nothing more is sent. A write that may already have reached the vendor
    raises :class:`UnknownOutcome` instead (and is in the outbox).
    """


class NotSupported(BrokerportError):
    """The connected vendor does not declare this operation. No I/O was done."""


class DecodeError(BrokerportError):
    """The vendor answered something brokerport cannot read."""

    #: A garbled answer may be transient; only idempotent calls are re-sent.
    retryable = True


class PluginError(BrokerportError):
    """A plugin could not be found, loaded, or is defined inconsistently."""


class TLSError(BrokerportError):
    """The TLS handshake failed: the vendor's certificate is not trusted (wrong CA,
    expired, self-signed), does not name the host, or the handshake was refused.

    Nothing was sent, and sending again cannot help: check the profile's
    ``tls`` settings (CA bundle, client certificate). Never retried.
    """


class ProxyError(BrokerportError):
    """The proxy refused the tunnel for its own credentials (HTTP 407 / SOCKS auth).

    Nothing was sent to the vendor; check the profile's proxy username and
    password. Never retried. (A proxy that cannot be reached or drops the
    connection is ``VendorUnavailable``, retried like any connection failure.)
    """
