"""``brokerport call`` and ``brokerport catalog show``: the catalog for people.

* ``brokerport call VENDOR NAME key=value ... [--profile P] [--json]`` runs any
  catalog operation on a profile, or on the vendor's embedded sandbox when the
  profile has no base URL (the default without one), and prints the result or
  the typed error (exit 1). Values are typed from the catalog: ``integer``,
  ``number`` (Decimal), ``boolean`` (true/false/1/0), ``array`` (a JSON list or
  comma-separated), ``object`` (JSON); ``key:=JSON`` gives any value as JSON.
* ``brokerport catalog show VENDOR [NAME]`` lists operations with parameters,
  rules, rate limits and idempotency; ``brokerport catalog VENDOR [NAME]`` is
  the same (a first word that is not ``build``, ``check`` or ``show`` is a
  vendor).

Imported by the ``brokerport`` command only when one of these runs (and for the
help texts' examples, which need nothing but argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import Endpoint
    from .errors import BrokerportError

__all__ = ["EXAMPLES", "add_examples", "parse_value", "to_jsonable"]

#: the example shown at the end of each command's --help
EXAMPLES: dict[str, str] = {
    "plugins": "brokerport plugins --strict",
    "demo": "brokerport demo okx lwork -v",
    "sandbox": "brokerport sandbox okx --demo --seconds 600 --json",
    "conformance": "brokerport conformance okx -k rate_limits",
    "call": (
        "brokerport call okx broker.dma.create_subaccount subAcct=alice01\n"
        "  brokerport call okx broker.dma.subaccount_info subAcct=alice01 --json\n"
        "  brokerport call lwork account.info account=1001 --profile prod"
    ),
    "catalog": "brokerport catalog show okx broker.dma.create_subaccount",
    "catalog build": "brokerport catalog build okx",
    "catalog check": "brokerport catalog check okx lwork",
    "catalog show": (
        "brokerport catalog show okx            (every operation)\n"
        "  brokerport catalog okx trade.place_order   (one, in full)"
    ),
}


def add_examples(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Put each subcommand's example at the end of its --help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                key = f"{prefix}{name}"
                if key in EXAMPLES:
                    sub.formatter_class = argparse.RawDescriptionHelpFormatter
                    sub.epilog = f"example:\n  {EXAMPLES[key]}"
                add_examples(sub, prefix=f"{key} ")


def add_commands(sub: Any, catalog: Any) -> None:
    """Register ``call`` (on the top level) and ``catalog show``."""
    p = sub.add_parser(
        "call",
        help="run any catalog operation and print its result or typed error",
        description="Run one catalog operation of VENDOR with key=value parameters "
        "(typed from the catalog; key:=JSON for any JSON value) on a profile, or on "
        "the vendor's embedded sandbox when the profile has no base URL. Prints the "
        "result, or the typed error and exits 1.",
    )
    p.add_argument("vendor", help="plugin name (see `brokerport plugins`)")
    p.add_argument("name", help="operation name (see `brokerport catalog show VENDOR`)")
    p.add_argument("params", nargs="*", metavar="key=value", help="parameters")
    p.add_argument("--profile", default=None, help="profile name (default: the default)")
    p.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    p.set_defaults(func=cmd_call)

    c = catalog.add_parser(
        "show",
        help="show a plugin's operations: parameters, rules, limits, idempotency",
        description="List VENDOR's catalog operations, or show operation NAME in full: "
        "method and path, authentication, parameters with their location, type and "
        "rules, rate limit and whether a retry is safe.",
    )
    c.add_argument("vendor", help="plugin name")
    c.add_argument("name", nargs="?", help="one operation (default: all, one line each)")
    c.add_argument("--json", action="store_true", help="print the catalog entries as JSON")
    c.set_defaults(func=cmd_catalog_show)


def route_catalog_vendor(argv: list[str]) -> list[str]:
    """``catalog VENDOR [NAME]`` -> ``catalog show VENDOR [NAME]``."""
    if len(argv) >= 2 and argv[0] == "catalog":
        first = argv[1]
        if first not in ("build", "check", "show") and not first.startswith("-"):
            return ["catalog", "show", *argv[1:]]
    return argv


# ------------------------------------------------------------------ values


def parse_value(raw: str, kind: str) -> Any:
    """A command-line value as the catalog's parameter type wants it."""
    from decimal import Decimal, InvalidOperation

    from .errors import InvalidRequest

    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return Decimal(raw)
        if kind == "boolean":
            low = raw.strip().lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            raise ValueError(raw)
        if kind == "array":
            if raw.lstrip().startswith("["):
                return json.loads(raw)
            return [part for part in raw.split(",") if part]
        if kind == "object":
            return json.loads(raw)
    except (ValueError, InvalidOperation):
        raise InvalidRequest(f"{raw!r} is not a valid {kind}") from None
    return raw


def parse_params(endpoint: Endpoint, pairs: Sequence[str]) -> dict[str, Any]:
    from .errors import InvalidRequest

    kinds = {p.name: p.type for p in endpoint.params}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key or key == ":":
            raise InvalidRequest(f"parameters are key=value (or key:=JSON), not {pair!r}")
        if key.endswith(":"):  # key:=JSON
            key = key[:-1]
            try:
                out[key] = json.loads(text)
            except ValueError:
                raise InvalidRequest(f"{key}: {text!r} is not JSON", field=key) from None
            continue
        try:
            out[key] = parse_value(text, kinds.get(key, "string"))
        except InvalidRequest as exc:
            raise InvalidRequest(f"{key}: {exc.message}", field=key) from None
    return out


def to_jsonable(value: Any, depth: int = 0) -> Any:
    """A result as JSON: Decimal and datetimes as text, models as objects, secrets hidden."""
    import attrs

    from .types import REDACTED, Secret

    if depth > 64:
        return "..."
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v, depth + 1) for v in value]
    if attrs.has(type(value)):
        return {
            f.name: to_jsonable(getattr(value, f.name), depth + 1)
            for f in attrs.fields(type(value))
            if f.name != "raw"
        }
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        return iso()
    return str(value)


def error_doc(err: BrokerportError) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": type(err).__name__, "message": err.message}
    for key in ("vendor", "endpoint", "vendor_code", "vendor_message", "http_status"):
        value = getattr(err, key, None)
        if value is not None:
            doc[key] = value
    for key in ("retry_after", "idempotency_key", "outbox_id", "how_to_reconcile", "field"):
        value = getattr(err, key, None)
        if value not in (None, ""):
            doc[key] = to_jsonable(value)
    return doc


# ------------------------------------------------------------------ call


def cmd_call(args: argparse.Namespace) -> int:
    from .loop import run

    return run(_call(args.vendor, args.name, args.params, args.profile, args.json))


async def _call(
    vendor: str, name: str, pairs: Sequence[str], profile: str | None, as_json: bool
) -> int:
    import brokerport

    from .errors import BrokerportError

    try:
        async with brokerport.connect(vendor, profile) as client:
            params = parse_params(client.catalog[name], pairs)
            result = await client.call(name, **params)
    except BrokerportError as err:
        doc = error_doc(err)
        if as_json:
            print(json.dumps({"ok": False, "error": doc}, ensure_ascii=False))
        else:
            print(f"{doc.pop('type')}: {doc.pop('message')}", file=sys.stderr)
            for key, value in doc.items():
                print(f"  {key}: {value}", file=sys.stderr)
        return 1
    shown = to_jsonable(result)
    if as_json:
        print(json.dumps({"ok": True, "result": shown}, ensure_ascii=False))
    else:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


# ----------------------------------------------------------- catalog show


def _catalog_document(adapter: Any) -> dict[str, Any]:
    """The plugin's catalog.json entries by name, when it ships one (for rule text)."""
    import importlib.resources

    package = adapter.__module__.split(".")[0]
    try:
        text = (importlib.resources.files(package) / "catalog.json").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError, TypeError):
        return {}
    return {ep["name"]: ep for ep in json.loads(text).get("endpoints", ())}


def _limit(endpoint: Endpoint) -> str:
    limit = endpoint.rate_limit
    if limit is None:
        return "none"
    text = limit.describe()
    if limit.group:
        text += f" (shared: {limit.group})"
    if endpoint.cost != 1:
        text += f", costs {endpoint.cost}"
    return text


def _idempotency(endpoint: Endpoint) -> str:
    if endpoint.is_idempotent:
        return "idempotent: retried on transient failures"
    text = "not idempotent: never re-sent when it may have arrived (UnknownOutcome)"
    if endpoint.idempotency_param:
        text += f"; idempotency key {endpoint.idempotency_param}"
    return text


def _rule_text(rule: Any) -> str:
    if isinstance(rule, list) and rule:
        return f"{rule[0]}({', '.join(json.dumps(a) for a in rule[1:])})"
    return str(rule)


def cmd_catalog_show(args: argparse.Namespace) -> int:
    from .registry import load_adapter

    adapter = load_adapter(args.vendor)
    catalog = adapter.catalog()
    docs = _catalog_document(adapter)
    names = [args.name] if args.name else sorted(catalog)
    endpoints = [catalog[n] for n in names]  # an unknown name: InvalidRequest
    if args.json:
        out = [
            docs.get(ep.name) or {"name": ep.name, "method": ep.method, "path": ep.path}
            for ep in endpoints
        ]
        print(json.dumps(out if args.name is None else out[0], indent=1, ensure_ascii=False))
        return 0
    if args.name is None:
        width = max(len(n) for n in names) if names else 0
        print(f"{args.vendor}: {len(names)} operations (brokerport call {args.vendor} NAME ...)")
        for ep in endpoints:
            flags = "idempotent" if ep.is_idempotent else "write"
            print(f"  {ep.name:<{width}}  {ep.method:<6} {ep.path}  [{_limit(ep)}; {flags}]")
        return 0
    ep = endpoints[0]
    rules = {p["name"]: p.get("rules", []) for p in docs.get(ep.name, {}).get("params", [])}
    print(f"{args.vendor} {ep.name}: {ep.method} {ep.path}")
    if ep.doc:
        print(f"  {ep.doc}")
    print(f"  auth: {ep.auth}")
    print(f"  rate limit: {_limit(ep)}")
    print(f"  {_idempotency(ep)}")
    if ep.reconcile:
        print(f"  reconcile: {ep.reconcile}")
    print("  parameters:" if ep.params else "  parameters: none")
    for p in ep.params:
        need = "required" if p.required else "optional"
        line = f"    {p.name}  ({p.location}, {p.type}, {need}"
        line += ", sensitive)" if p.sensitive else ")"
        texts = [_rule_text(r) for r in rules.get(p.name, [])]
        if texts:
            line += "  rules: " + "; ".join(texts)
        if p.doc:
            line += f"  — {p.doc}"
        print(line)
    return 0
