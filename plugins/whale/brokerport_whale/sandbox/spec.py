"""The response schemas of the vendor's spec, as sandbox data (``responses.json``).

The sandbox shapes every answer from them: the envelope (``message`` or ``msg``,
``data`` or ``datas``, an integer or a string code, none at all), and the
example values of read-only operations that keep no state. ``responses.json``
is generated from whale-openapi.json by :func:`extract` (descriptions and
examples dropped, ``$ref`` resolved) and committed; a test checks it is what
the spec gives, as ``brokerport catalog check`` does for the catalog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["extract", "load", "write"]

_KEEP = frozenset({"type", "properties", "items", "required", "enum", "format"})


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
