"""WhaleAPI's binary websocket frames (whale-endpoints.md section 5).

* byte 0, the header: type in the low 4 bits (1 request, 2 response, 3 push),
  bit 4 = a nonce and signature follow the body, bit 5 = the body is gzipped;
* byte 1: the command (AUTH 2, RECONNECT 3, SUB 16, UNSUB 17, NOTIFY 18);
* request: request id (u32 BE), timeout in ms (u16 BE), body length (u24 BE), body;
* response: request id (u32 BE), status (u8; 0 = OK, otherwise the body is an
  ``Error``), body length (u24 BE), body. ASSUMPTION: the document says "the same,
  plus a status byte"; the layout here is its source's (LongPort's Rust core),
  which has no timeout in a response;
* push: body length (u24 BE), body;
* then, when bit 4 is set, an 8-byte nonce and a 16-byte signature.

Bodies are the protobuf messages of ``whale_push.proto`` (``whale_push_pb2``).
"""

from __future__ import annotations

import gzip
import struct

import attrs

__all__ = [
    "AUTH",
    "NOTIFY",
    "PUSH",
    "RECONNECT",
    "REQUEST",
    "RESPONSE",
    "SUB",
    "UNSUB",
    "FrameError",
    "Packet",
    "decode",
    "encode",
]

REQUEST, RESPONSE, PUSH = 1, 2, 3
AUTH, RECONNECT, SUB, UNSUB, NOTIFY = 2, 3, 16, 17, 18
SIGNED, GZIP = 0x10, 0x20
_MAX_BODY = 0xFFFFFF


class FrameError(ValueError):
    """A frame that does not follow the layout."""


@attrs.frozen
class Packet:
    """One frame. ``status`` is for responses, ``timeout_ms`` for requests."""

    type: int
    cmd: int
    body: bytes = b""
    request_id: int = 0
    timeout_ms: int = 0
    status: int = 0
    gzip: bool = False
    nonce: bytes | None = None
    signature: bytes | None = None


def _u24(n: int) -> bytes:
    if not 0 <= n <= _MAX_BODY:
        raise FrameError(f"body of {n} bytes does not fit a 24-bit length")
    return n.to_bytes(3, "big")


def encode(p: Packet) -> bytes:
    body = gzip.compress(p.body) if p.gzip else p.body
    signed = p.nonce is not None and p.signature is not None
    head = (p.type & 0x0F) | (SIGNED if signed else 0) | (GZIP if p.gzip else 0)
    out = bytes([head, p.cmd])
    if p.type == REQUEST:
        out += struct.pack(">IH", p.request_id, p.timeout_ms) + _u24(len(body))
    elif p.type == RESPONSE:
        out += struct.pack(">IB", p.request_id, p.status) + _u24(len(body))
    elif p.type == PUSH:
        out += _u24(len(body))
    else:
        raise FrameError(f"unknown packet type {p.type}")
    out += body
    if signed:
        assert p.nonce is not None and p.signature is not None
        if len(p.nonce) != 8 or len(p.signature) != 16:
            raise FrameError("the nonce is 8 bytes and the signature 16")
        out += p.nonce + p.signature
    return out


def decode(frame: bytes) -> Packet:
    if len(frame) < 2:
        raise FrameError("a frame shorter than its header")
    head, cmd = frame[0], frame[1]
    kind = head & 0x0F
    request_id = timeout = status = 0
    if kind == REQUEST:
        if len(frame) < 11:
            raise FrameError("a request frame shorter than its header")
        request_id, timeout = struct.unpack_from(">IH", frame, 2)
        at = 8
    elif kind == RESPONSE:
        if len(frame) < 10:
            raise FrameError("a response frame shorter than its header")
        request_id, status = struct.unpack_from(">IB", frame, 2)
        at = 7
    elif kind == PUSH:
        if len(frame) < 5:
            raise FrameError("a push frame shorter than its header")
        at = 2
    else:
        raise FrameError(f"unknown packet type {kind}")
    length = int.from_bytes(frame[at : at + 3], "big")
    start = at + 3
    body = frame[start : start + length]
    if len(body) != length:
        raise FrameError("a body shorter than its length")
    rest = frame[start + length :]
    nonce = signature = None
    if head & SIGNED:
        if len(rest) != 24:
            raise FrameError("a signed frame without its 8-byte nonce and 16-byte signature")
        nonce, signature = rest[:8], rest[8:]
    elif rest:
        raise FrameError("bytes after the body")
    zipped = bool(head & GZIP)
    if zipped:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise FrameError(f"a gzip body that does not inflate: {exc}") from None
    return Packet(kind, cmd, body, request_id, timeout, status, zipped, nonce, signature)
