"""A vendor's answer format as objects the client's decoder and the sandbox share.

* :class:`ErrorTable` — vendor code -> (brokerport error class, HTTP status,
  message template). The adapter's :class:`~brokerport.adapter.ErrorMap` is made
  from it (:meth:`ErrorTable.error_map`), and the sandbox answers a refusal with
  the very status and message it lists, so the two cannot disagree.
* :class:`Envelope` — how an answer wraps its payload: :meth:`~Envelope.wrap`
  and :meth:`~Envelope.fail` build a success or error document (the sandbox),
  :meth:`~Envelope.unwrap` reads one back into the payload or a
  :class:`~brokerport.adapter.VendorFault` (the adapter's ``decode``).
  :class:`CodeEnvelope` is the common ``{code, msg, data}`` shape; a vendor with
  another shape subclasses :class:`Envelope` once, in its plugin.

Not imported by ``import brokerport`` or by a plugin listing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .adapter import ErrorMap, VendorFault
from .errors import BrokerportError, DecodeError

__all__ = ["CodeEnvelope", "Envelope", "ErrorEntry", "ErrorTable"]


@attrs.frozen(slots=True)
class ErrorEntry:
    error: type[BrokerportError]
    status: int
    message: str


class ErrorTable(Mapping[str, ErrorEntry]):
    """Vendor code -> :class:`ErrorEntry`; ``{0}``, ``{1}`` in a message are filled in."""

    def __init__(
        self,
        entries: Mapping[str, tuple[type[BrokerportError], int, str] | ErrorEntry],
        *,
        default_status: int = 200,
    ) -> None:
        self._entries = {
            str(code): e if isinstance(e, ErrorEntry) else ErrorEntry(*e)
            for code, e in entries.items()
        }
        self.default_status = default_status

    def __getitem__(self, code: str) -> ErrorEntry:
        return self._entries[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def status(self, code: str) -> int:
        entry = self._entries.get(code)
        return entry.status if entry else self.default_status

    def message(self, code: str, *args: object) -> str:
        """The code's message with ``{0}``, ``{1}``... filled from ``args``."""
        entry = self._entries.get(code)
        text = entry.message if entry else ""
        for i, arg in enumerate(args):
            text = text.replace(f"{{{i}}}", str(arg))
        return text

    def error_map(self, cls: type[ErrorMap] = ErrorMap, **kw: Any) -> ErrorMap:
        """The client's error map: each code's error class (``kw``: ErrorMap's options)."""
        return cls({code: e.error for code, e in self._entries.items()}, **kw)


class Envelope:
    """How a vendor wraps answers. Subclasses implement all three methods."""

    def wrap(self, data: Any) -> Any:
        """The success document carrying ``data``."""
        raise NotImplementedError

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        """The error document for ``code``."""
        raise NotImplementedError

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        """The payload of a success document; VendorFault for an error, DecodeError else."""
        raise NotImplementedError


@attrs.frozen(slots=True)
class CodeEnvelope(Envelope):
    """``{"code": "0", "msg": "", "data": [...]}``: one code field, ``success`` on success."""

    code: str = "code"
    message: str = "msg"
    data: str = "data"
    success: str = "0"

    def wrap(self, data: Any) -> Any:
        return {self.code: self.success, self.message: "", self.data: data}

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        return {self.code: code, self.message: message, self.data: [] if data is None else data}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        if not isinstance(doc, Mapping) or self.code not in doc:
            if http_status >= 400:
                raise VendorFault(None, f"HTTP {http_status}", http_status=http_status)
            raise DecodeError(
                f"{vendor} answered without its {{{self.code}, {self.message}, {self.data}}} "
                "envelope",
                vendor=vendor,
                http_status=http_status,
            )
        code, data = str(doc.get(self.code)), doc.get(self.data)
        if code != self.success:
            message = str(doc.get(self.message) or "")
            raise VendorFault(code, message, http_status=http_status, data=data)
        if http_status >= 400:
            raise VendorFault(None, f"HTTP {http_status}", http_status=http_status, data=data)
        return data
