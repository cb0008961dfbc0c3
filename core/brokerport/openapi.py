"""Reading an OpenAPI 3 document, at development time, for ``brokerport catalog build``.

Never imported at run time: a plugin ships the generated ``catalog.json``, not
the spec.

Stdlib only. The specs we read use local references (``#/components/...``)
only, and resolving one is a JSON-pointer walk (RFC 6901) after
percent-decoding the fragment (RFC 3986; WhaleAPI writes
``#/components/schemas/Order%20inquiry%20response``). ``jsonref`` and
``referencing`` were considered: both also fetch remote documents, which a
build must not do, and either would make ``brokerport catalog check`` (run by
CI from the core) depend on a package the runtime does not need, for what is
twenty lines here.

Quirks are not hidden: every workaround is reported to a :class:`Quirks`
collector and ends up in the generated file's ``quirks`` list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import attrs

from .errors import PluginError

__all__ = [
    "METHODS",
    "Quirks",
    "SpecOperation",
    "SpecParam",
    "all_refs",
    "deref",
    "load_spec",
    "operations",
    "resolve_ref",
    "schema_type",
]

#: The HTTP methods an OpenAPI path item may hold, in the order we emit them.
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})


class Quirks:
    """Collects the spec quirks a build works around: quirk text -> the operations."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}

    def add(self, text: str, where: str = "") -> None:
        self._seen.setdefault(text, set())
        if where:
            self._seen[text].add(where)

    def __contains__(self, text: object) -> bool:
        return text in self._seen

    def as_list(self) -> list[str]:
        """Sorted, one line each: ``"text (op, op, ...)"``."""
        out = []
        for text, where in sorted(self._seen.items()):
            out.append(f"{text} ({', '.join(sorted(where))})" if where else text)
        return out


def load_spec(path: str | Path) -> dict[str, Any]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginError(f"cannot read OpenAPI spec {path}: {exc}") from exc
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3"):
        raise PluginError(f"{path}: not an OpenAPI 3 document")
    if not isinstance(spec.get("paths"), dict):
        raise PluginError(f"{path}: no paths")
    return spec


def resolve_ref(spec: Mapping[str, Any], ref: str, quirks: Quirks | None = None) -> Any:
    """The node a local ``$ref`` points at; raises PluginError on a dangling one."""
    if not ref.startswith("#"):
        raise PluginError(f"$ref {ref!r}: only local references are supported")
    fragment = ref[1:]
    decoded = unquote(fragment)
    if decoded != fragment and quirks is not None:
        quirks.add(f"$ref percent-encoded, decoded before lookup: {ref}")
    node: Any = spec
    for token in decoded.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise PluginError(f"$ref {ref!r} does not resolve")
    return node


def deref(spec: Mapping[str, Any], node: Any, quirks: Quirks | None = None) -> Any:
    """Follow ``$ref`` chains at the top of ``node`` (siblings of a ``$ref`` are ignored,
    as OpenAPI 3.0 says)."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen:
            raise PluginError(f"$ref cycle at {ref!r}")
        seen.add(ref)
        node = resolve_ref(spec, ref, quirks)
    return node


def all_refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string anywhere in ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_refs(item)


def schema_type(spec: Mapping[str, Any], schema: Any, quirks: Quirks | None = None) -> str:
    """The catalog type of a (possibly referenced) schema; ``"string"`` when unsaid."""
    schema = deref(spec, schema, quirks)
    if not isinstance(schema, Mapping):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if kind in _TYPES:
        return str(kind)
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


@attrs.frozen
class SpecParam:
    name: str
    location: str
    required: bool
    type: str
    doc: str


@attrs.frozen
class SpecOperation:
    method: str
    path: str
    operation_id: str | None
    tags: tuple[str, ...]
    summary: str
    params: tuple[SpecParam, ...]
    #: "json", "form" or None when the operation declares no body parameters
    body: str | None
    #: the body schema is not an object with properties (the overlay must say more)
    opaque_body: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def one_line(text: object, limit: int = 160) -> str:
    """The first non-empty line of a description, at most ``limit`` characters."""
    if not isinstance(text, str):
        return ""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"\s+", " ", line)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def operations(
    spec: Mapping[str, Any],
    quirks: Quirks,
    *,
    signer_headers: frozenset[str] = frozenset(),
) -> list[SpecOperation]:
    """The spec's operations in document order, parameters resolved.

    ``signer_headers`` (lower case): header parameters the signer sets, dropped.
    """
    out: list[SpecOperation] = []
    for path, item in spec["paths"].items():
        item = deref(spec, item, quirks)
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            out.append(_operation(spec, quirks, method.upper(), path, op, shared, signer_headers))
    return out


def _operation(
    spec: Mapping[str, Any],
    quirks: Quirks,
    method: str,
    path: str,
    op: Mapping[str, Any],
    shared: list[Any],
    signer_headers: frozenset[str],
) -> SpecOperation:
    where = f"{method} {path}"
    params: dict[str, SpecParam] = {}
    # operation parameters override path-item ones with the same name and location
    for raw in [*shared, *op.get("parameters", [])]:
        p = deref(spec, raw, quirks)
        location = p.get("in")
        name = p.get("name")
        if location == "cookie":
            quirks.add("cookie parameter dropped (not supported)", where)
            continue
        if location not in ("path", "query", "header") or not isinstance(name, str):
            raise PluginError(f"{where}: bad parameter {p!r}")
        if location == "header" and name.lower() in signer_headers:
            quirks.add(f"header parameter {name} dropped: the signer sets it", where)
            continue
        if isinstance(p.get("schema"), Mapping) and "enum" in p["schema"]:
            quirks.add("enum not made into a rule (the vendor writes examples as enums)", where)
        params[name] = SpecParam(
            name,
            location,
            bool(p.get("required")) or location == "path",
            schema_type(spec, p.get("schema", {}), quirks),
            one_line(p.get("description")),
        )
    body: str | None = None
    opaque = False
    request_body = deref(spec, op.get("requestBody"), quirks)
    if isinstance(request_body, Mapping):
        content = request_body.get("content", {})
        media = _pick_media(content)
        if media is None:
            quirks.add("request body media type not understood; no body parameters", where)
        else:
            schema = deref(spec, content[media].get("schema", {}), quirks)
            props = schema.get("properties") if isinstance(schema, Mapping) else None
            if not isinstance(props, Mapping) or schema_type(spec, schema) != "object":
                quirks.add("request body schema is not an object: no body parameters", where)
                opaque = True
            elif props and method in ("GET", "HEAD"):
                quirks.add(f"request body on {method} ignored (it cannot be sent)", where)
            elif props:
                if media == "multipart/form-data":
                    quirks.add("multipart/form-data body without files sent as a form", where)
                body = "json" if media.endswith("json") else "form"
                required = set(schema.get("required", ()))
                for name, prop in props.items():
                    if name in params:
                        raise PluginError(f"{where}: {name} is both a parameter and a body field")
                    resolved = deref(spec, prop, quirks)
                    if isinstance(resolved, Mapping) and "enum" in resolved:
                        quirks.add(
                            "enum not made into a rule (the vendor writes examples as enums)",
                            where,
                        )
                    doc = prop.get("description") if isinstance(prop, Mapping) else None
                    params[name] = SpecParam(
                        name,
                        "body",
                        name in required,
                        schema_type(spec, resolved, quirks),
                        one_line(doc or (resolved or {}).get("description")),
                    )
    tags = tuple(t for t in op.get("tags", ()) if isinstance(t, str))
    operation_id = op.get("operationId")
    return SpecOperation(
        method,
        path,
        operation_id if isinstance(operation_id, str) else None,
        tags,
        one_line(op.get("summary") or op.get("description")),
        tuple(params.values()),
        body,
        opaque,
    )


def _pick_media(content: Mapping[str, Any]) -> str | None:
    for media in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        if media in content:
            return media
    return next((m for m in content if m.endswith("+json")), None)
