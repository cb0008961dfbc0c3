"""``brokerport sandbox NAME``: serve a plugin's sandbox and say how to reach it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import BrokerportError
from .server import Sandbox, coerce_options

__all__ = ["describe", "serve_sandbox"]


def describe(name: str, sandbox: Sandbox, options: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a client needs: base URL, every credential set, identifiers, options."""
    return {
        "vendor": name,
        "base_url": sandbox.base_url,
        "credentials": sandbox.credentials(),
        "credential_sets": sandbox.credential_sets(),
        "identifiers": sandbox.identifiers(),
        "profile_options": sandbox.profile_options(),
        "sandbox_options": {
            k: v if isinstance(v, (int, str)) else str(v) for k, v in options.items()
        },
        "endpoints": [
            {"name": ep.name, "method": ep.method, "path": ep.route}
            for ep in sandbox.catalog.values()
        ],
    }


def _shown(value: str) -> str:
    if "\n" in value:  # a PEM: its first line here, the whole text with --json
        return f"{value.splitlines()[0]} ... ({len(value.splitlines())} lines; --json has it all)"
    return value


def render(info: Mapping[str, Any]) -> str:
    """The table ``brokerport sandbox`` prints (``key = value`` rows per section)."""
    lines = [f"{info['vendor']} sandbox listening on {info['base_url']}"]
    sets = info["credential_sets"]
    sections: list[tuple[str, Mapping[str, Any]]] = [
        ("credentials it accepts", info["credentials"])
    ]
    if len(sets) > 1:
        sections = [(f"credentials ({label})", creds) for label, creds in sets.items()]
    sections += [("identifiers", info["identifiers"]), ("profile options", info["profile_options"])]
    for title, rows in sections:
        if rows:
            lines.append(f"{title}:")
            lines += [f"  {key} = {_shown(str(value))}" for key, value in rows.items()]
    lines.append("endpoints:")
    lines += [f"  {ep['method']:<6} {ep['path']}  ({ep['name']})" for ep in info["endpoints"]]
    return "\n".join(lines)


async def serve_sandbox(
    name: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seconds: float | None = None,
    options: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    as_json: bool = False,
    out: Callable[[str], None] = lambda text: print(text, flush=True),
) -> None:
    """Build NAME's sandbox with ``options`` (text, typed by the factory's keywords) and
    ``flags`` (typed already), serve it until interrupted (or ``seconds``)."""
    from ..registry import load_adapter, load_sandbox

    adapter = load_adapter(name)
    factory = load_sandbox(adapter.sandbox or name)
    try:
        kw = {**coerce_options(factory, options or {}), **(flags or {})}
    except ValueError as exc:
        raise BrokerportError(f"bad {name} sandbox option: {exc}", vendor=name) from None
    sandbox = factory(**kw)
    await sandbox.start(host, port)
    try:
        info = describe(name, sandbox, kw)
        out(json.dumps(info) if as_json else render(info) + "\nCtrl-C to stop.")
        if seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(seconds)
    finally:
        await sandbox.stop()
