"""Development-time helpers on the vendor's OpenAPI spec (never used at run time).

* :func:`spec_operations` — every operation with its catalog name, parameters and
  request/response schemas (the spec's mistakes fixed, see :func:`fix_schema`);
* :func:`example` — a deterministic example of a schema, plausible by field name;
* ``python plugins/wlink/tests/spec_tools.py`` regenerates
  ``brokerport_wlink/fixtures.json`` (the sandbox's read-only answers);
  ``test_fixtures_are_generated`` fails when the committed file differs.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = HERE.parents[2] / ".." / "shared" / "vendor-docs" / "wlink-openapi.json"
FIXTURES = HERE.parent / "brokerport_wlink" / "fixtures.json"


def load_spec() -> dict[str, Any]:
    return json.loads(SPEC.resolve().read_text(encoding="utf-8"))


def fix_schema(schema: Any) -> Any:
    """The spec's mistakes, fixed: an ``enum`` on an array (``type`` of the balance
    list) belongs to its items; a property without a type (questionnaire ``answer``)
    may be anything."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "array" and "enum" in node:
                node.setdefault("items", {})["enum"] = node.pop("enum")
            if isinstance(node.get("required"), list):  # the rebate list repeats names
                node["required"] = list(dict.fromkeys(node["required"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def spec_operations() -> dict[str, dict[str, Any]]:
    """catalog name -> {method, path, params, body schema, response schema}."""
    from brokerport_wlink import WlinkAdapter

    by_route = {(ep.method, ep.route): name for name, ep in WlinkAdapter.catalog().items()}
    out: dict[str, dict[str, Any]] = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            name = by_route[(method.upper(), path)]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            out[name] = {
                "method": method.upper(),
                "path": path,
                "params": fix_schema(op.get("parameters", [])),
                "body": fix_schema(body.get("schema")),
                "response": fix_schema(
                    op["responses"]["200"]["content"]["application/json"]["schema"]
                ),
            }
    return out


def example(schema: dict[str, Any], name: str = "") -> Any:
    """A deterministic, plausible value of ``schema`` (every property filled)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: example(v, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), name.rstrip("s"))]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return name.startswith(("is_", "enabled", "allow"))
    if kind != "string":
        return "sample"
    lowered = name.lower()
    if lowered == "timezone":
        return "+08:00"
    if lowered == "volume":
        return "0.01"
    if any(k in lowered for k in ("time", "_at", "date", "expiration")):
        return "2026-01-02 03:04:05"
    if "url" in lowered or "link" in lowered:
        return f"https://sandbox.wlink.invalid/{lowered}"
    if any(k in lowered for k in ("amount", "balance", "fee", "rate", "price", "profit")):
        return "0.00"
    if any(k in lowered for k in ("credit", "equity", "swap", "commission", "sl", "tp")):
        return "0.00"
    if "email" in lowered:
        return "client@sandbox.wlink.invalid"
    return f"sample {lowered}".strip()


def fixtures() -> dict[str, Any]:
    return {name: example(op["response"]) for name, op in sorted(spec_operations().items())}


def render() -> str:
    return json.dumps(fixtures(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    FIXTURES.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {FIXTURES}\n")
