"""The response schemas of the vendor's spec, as sandbox data (``responses.json``),
and what the sandbox makes of them: each operation's envelope (:class:`Shape`).

Every answer is shaped from them: the envelope (``message`` or ``msg``, ``data`` or
``datas``, an integer or a string code, none at all), every required field a
handler leaves out, and the example answers of operations that keep no state.
``responses.json`` is generated from whale-openapi.json by :func:`extract`
(descriptions and examples dropped, ``$ref`` resolved) and committed; a test checks
it is what the spec gives, as ``brokerport catalog check`` does for the catalog.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brokerport.wire import Envelope

from ..wire import decode_envelope

__all__ = ["Shape", "example", "extract", "fill", "load", "shapes", "write"]

_KEEP = frozenset({"type", "properties", "items", "required", "enum", "format"})
_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict,
    "array": list,
}  # fmt: skip


def _clean(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    from brokerport.openapi import deref

    node = deref(spec, node)
    if depth > 30 or not isinstance(node, dict):
        return node
    if "allOf" in node:  # merged into one object schema
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            merged = _merge(merged, _clean(spec, part, depth + 1))
        node = merged
    out: dict[str, Any] = {}
    for key in sorted(_KEEP & set(node)):
        value = node[key]
        if key == "properties":
            value = {k: _clean(spec, v, depth + 1) for k, v in value.items()}
        elif key == "items":
            value = _clean(spec, value, depth + 1)
        out[key] = value
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two object schemas as one (``allOf``): properties merged key by key, required joined."""
    out = {**b, **a}
    props = dict(a.get("properties", {}))
    for key, sub in b.get("properties", {}).items():
        props[key] = _merge(props[key], sub) if isinstance(props.get(key), dict) else sub
    if props:
        out["properties"] = props
    required = [*a.get("required", []), *(r for r in b.get("required", []) if r not in
                                           a.get("required", []))]  # fmt: skip
    if required:
        out["required"] = required
    return out


def extract(spec_path: str | Path, catalog: Any) -> dict[str, Any]:
    """``{endpoint name: {"200": schema, "400": schema?}}`` for every catalog endpoint."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for name in catalog:
        ep = catalog[name]
        op = spec["paths"][ep.route][ep.method.lower()]
        entry: dict[str, Any] = {}
        for status in ("200", "400"):
            content = (op.get("responses", {}).get(status) or {}).get("content") or {}
            for media in content.values():
                entry[status] = _clean(spec, media.get("schema", {}))
                break
        out[name] = entry
    return dict(sorted(out.items()))


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=None, separators=(",", ":"), ensure_ascii=False) + "\n"


def write(spec_path: str | Path, catalog: Any, out: str | Path) -> None:
    Path(out).write_text(render(extract(spec_path, catalog)), encoding="utf-8")


def load() -> dict[str, Any]:
    from importlib.resources import files

    text = files("brokerport_whale.sandbox").joinpath("responses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# ------------------------------------------------------------- answers from schemas


def example(schema: Any, hints: Mapping[str, Any] | None = None, key: str = "") -> Any:
    """A value of ``schema``: the first enum value, ``"0"`` / 0 / false, every property;
    a string property named like a request parameter echoes it."""
    if not isinstance(schema, dict):
        return {}
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    typed = [v for v in schema.get("enum") or () if isinstance(v, _TYPES.get(kind, object))]
    if typed:  # an enum whose values are not of the type (the spec has some) is ignored
        return typed[0]
    if kind == "object":
        return {k: example(v, hints, k) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), hints, key)]
    if kind == "string":
        hint = (hints or {}).get(key)
        return hint if isinstance(hint, str) and hint else "0"
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return "0"


def fill(schema: Any, value: Any) -> Any:
    """``value`` with every required property the schema names and it lacks filled in
    (recursively); what the handler gave is kept."""
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties") or {}
        out = dict(value)
        for name in schema.get("required") or ():
            if name not in out or out[name] is None:
                out[name] = example(props.get(name, {}), None, name)
        for name, sub in props.items():
            if name in out and out[name] is not None:
                out[name] = fill(sub, out[name])
        return out
    if kind == "array" and isinstance(value, list):
        return [fill(schema.get("items", {}), v) for v in value]
    return value


class Shape(Envelope):
    """One operation's envelope, read from its documented response schemas: the success
    variant, every required field of the answer, and the error variant (its ``400``)."""

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        ok = self.schema = schemas.get("200") or {}
        props = ok.get("properties") or {}
        self.bare = bool(props) and "code" not in props
        self.code_text = (props.get("code") or {}).get("type") == "string"
        self.message = "msg" if "msg" in props and "message" not in props else "message"
        self.data = "datas" if "datas" in props and "data" not in props else "data"
        self.data_schema: Any = ok if self.bare else props.get(self.data, {})
        bad = (schemas.get("400") or {}).get("properties") or {}
        self.error_code_text = (bad.get("code") or {}).get("type") == "string"
        self.error_message = "msg" if "msg" in bad and "message" not in bad else "message"

    def example(self, params: Mapping[str, Any]) -> Any:
        """The documented answer of an operation that keeps no state."""
        return example(self.data_schema, params)

    def wrap(self, data: Any) -> Any:
        if self.bare:
            return fill(self.data_schema, data)
        payload = fill(self.data_schema, {} if data is None else data)
        doc = {"code": "0" if self.code_text else 0, self.message: "success", self.data: payload}
        return fill(self.schema, doc)  # top-level extras

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        wire: int | str = int(code) if code.isdigit() and not self.error_code_text else code
        return {"code": wire, self.error_message: message, "data": data or {}}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        return decode_envelope(doc, http_status, bare=self.bare)


@functools.cache
def shapes() -> dict[str, Shape]:
    """Every catalog operation's :class:`Shape` (read once)."""
    return {name: Shape(schemas) for name, schemas in load().items()}
