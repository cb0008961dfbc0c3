"""A vendor's answer format as objects the client's decoder and the sandbox share.

* :class:`ErrorTable` — vendor code -> (brokerport error class, HTTP status,
  message template). The adapter's :class:`~brokerport.adapter.ErrorMap` is made
  from it (:meth:`ErrorTable.error_map`), and the sandbox answers a refusal with
  the very status and message it lists, so the two cannot disagree. A plugin
  writes it as data, ``errors.toml`` beside its modules (:meth:`ErrorTable.load`;
  the format is in docs/catalog-format.md).
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
from .errors import BrokerportError, DecodeError, PluginError

__all__ = ["CodeEnvelope", "Envelope", "ErrorEntry", "ErrorTable", "error_class"]


@attrs.frozen(slots=True)
class ErrorEntry:
    error: type[BrokerportError]
    status: int
    message: str
    #: what the code means, when the message (the vendor's words) does not say
    doc: str = ""


def error_class(name: str) -> type[BrokerportError]:
    """The :mod:`brokerport.errors` class called ``name`` (ValueError if none is)."""
    from . import errors

    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BrokerportError)):
        raise ValueError(f"{name!r} is not a brokerport error class")
    return cls


class ErrorTable(Mapping[str, ErrorEntry]):
    """Vendor code -> :class:`ErrorEntry`; ``{0}``, ``{1}`` in a message are filled in."""

    def __init__(
        self,
        entries: Mapping[str, tuple[type[BrokerportError], int, str] | ErrorEntry],
        *,
        default_status: int = 200,
        families: Mapping[str, type[BrokerportError]] | None = None,
    ) -> None:
        self._entries = {
            str(code): e if isinstance(e, ErrorEntry) else ErrorEntry(*e)
            for code, e in entries.items()
        }
        self.default_status = default_status
        #: code prefix -> error class of the codes the table does not list
        self.families = dict(families or {})

    @classmethod
    def load(cls, package: str, resource: str = "errors.toml") -> ErrorTable:
        """The table in a plugin's package data file (read with importlib.resources)."""
        import tomllib
        from importlib.resources import files

        source = f"{package}/{resource}"
        try:
            text = files(package).joinpath(resource).read_text(encoding="utf-8")
            return cls.from_data(tomllib.loads(text), source=source)
        except (OSError, ValueError, TypeError, ModuleNotFoundError) as exc:
            raise PluginError(f"cannot read error table {source}: {exc}") from exc

    @classmethod
    def from_data(cls, doc: Mapping[str, Any], *, source: str = "<errors>") -> ErrorTable:
        """``{default_status, families: {PREFIX: CLASS}, codes: {CODE: [CLASS, STATUS,
        MESSAGE, DOC?]}}``; CLASS names a :mod:`brokerport.errors` class."""
        unknown = sorted(set(doc) - {"default_status", "families", "codes"})
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}")
        entries: dict[str, ErrorEntry] = {}
        for code, row in doc.get("codes", {}).items():
            if not (isinstance(row, list) and 3 <= len(row) <= 4 and type(row[1]) is int):
                raise ValueError(f"code {code}: want [CLASS, STATUS, MESSAGE] or [..., DOC]")
            entries[code] = ErrorEntry(error_class(row[0]), row[1], *map(str, row[2:]))
        families = {p: error_class(n) for p, n in doc.get("families", {}).items()}
        return cls(entries, default_status=doc.get("default_status", 200), families=families)

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
        kw.setdefault("families", self.families)
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
