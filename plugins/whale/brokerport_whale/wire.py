"""The WhaleAPI answer format, shared by the adapter's decoder and the sandbox.

``ERRORS`` is ``errors.toml`` (code -> error class, HTTP status, message);
``ENVELOPE`` is ``{code, message, data}`` with the spec's variants, and
``BARE_ENVELOPE`` the same for the three operations documented with no envelope.
"""

from __future__ import annotations

from typing import Any

import attrs
from brokerport.adapter import VendorFault
from brokerport.errors import DecodeError
from brokerport.wire import Envelope, ErrorTable

__all__ = ["BARE", "BARE_ENVELOPE", "ENVELOPE", "ERRORS", "WhaleEnvelope", "decode_envelope"]

ERRORS = ErrorTable.load("brokerport_whale")
#: operations the spec documents without any envelope (the payload is the body)
BARE = frozenset({"portfolio.withdraw_card_detail", "portfolio.withdraw_pre", "upload_url.index"})


def decode_envelope(body: Any, status: int, *, bare: bool = False) -> Any:
    """The payload of a WhaleAPI answer, or raise VendorFault.

    ``{code, message, data}`` with the spec's variants: ``msg`` for ``message``,
    ``datas`` for ``data``, the code as an integer or a string, a lone ``data``
    wrapper, and (``bare``) operations documented with no envelope at all.
    Success is code 0 with HTTP 200.
    """
    if not isinstance(body, dict) or "code" not in body:
        if status == 200 and isinstance(body, dict) and set(body) == {"data"}:
            return body["data"]  # two risk-limit reads document only the data wrapper
        if bare and status == 200 and isinstance(body, dict):
            return body
        raise DecodeError(f"not a WhaleAPI envelope (HTTP {status})", http_status=status)
    code = str(body["code"]).strip()
    message = body.get("message", body.get("msg"))
    data = body["data"] if "data" in body else body.get("datas")
    if code == "0" and status == 200:
        return {} if data is None else data
    raise VendorFault(code, str(message or ""), http_status=status, data=data)


@attrs.frozen(slots=True)
class WhaleEnvelope(Envelope):
    """``{"code": 0, "message": "success", "data": ...}``; errors carry the code as an
    integer when it is one. The sandbox shapes each operation's variant (``msg``,
    ``datas``, a string code) from the spec; this is the common form."""

    bare: bool = False

    def wrap(self, data: Any) -> Any:
        return data if self.bare else {"code": 0, "message": "success", "data": data}

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        wire: int | str = int(code) if code.isdigit() else code
        return {"code": wire, "message": message, "data": data or {}}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        return decode_envelope(doc, http_status, bare=self.bare)


ENVELOPE = WhaleEnvelope()
BARE_ENVELOPE = WhaleEnvelope(bare=True)
