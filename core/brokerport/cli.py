"""The ``brokerport`` command: plugins, demo, sandbox, conformance.

Kept light: ``brokerport plugins`` imports only the adapters' entry points
(no aiohttp, no cattrs, no models, no port classes, no catalog), so it takes a
few times a bare ``python -c pass`` (``bench/startup.py``). ``--strict`` also
imports and checks each plugin's port classes and builds its catalog.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .registry import list_plugins

    plugins = list_plugins(resolve=args.strict)
    if not plugins:
        print("no brokerport plugins installed (pip install brokerport-<vendor>)")
        return 0
    bad = 0
    for info in plugins:
        version = info.version or "?"
        dist = info.distribution or "?"
        if info.adapter is None:
            bad += 1
            print(f"{info.name}  ({dist} {version})  LOAD ERROR: {info.error}")
            continue
        desc = info.adapter.describe()
        sandbox = "sandbox: yes" if info.has_sandbox else "sandbox: no"
        print(f"{info.name}  ({dist} {version})  {sandbox}")
        for port, ops in desc["ports"].items():
            print(f"  {port:<12} {', '.join(ops)}")
        if desc["extensions"]:
            print(f"  {'extensions':<12} {', '.join(desc['extensions'])}")
        if args.strict:  # built (and checked) by list_plugins(resolve=True)
            print(f"  {'endpoints':<12} {len(info.adapter.catalog())} in catalog (client.call)")
    if bad and args.strict:
        return 1
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from .demo import run_demo

    return asyncio.run(run_demo(args.vendors, verbose=args.verbose))


def _cmd_sandbox(args: argparse.Namespace) -> int:
    import asyncio

    from .demo import serve_sandbox

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_sandbox(args.name, args.host, args.port, args.seconds))
    return 0


def _cmd_conformance(args: argparse.Namespace) -> int:
    from .testing.report import run_conformance

    return run_conformance(args.name, verbose=args.verbose, keyword=args.keyword)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brokerport",
        description="One typed async interface to broker, exchange and CRM vendors.",
    )
    parser.add_argument("--version", action="version", version="brokerport 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "plugins",
        help="list installed vendor plugins, their ports and errors",
        description="List installed vendor plugins: name, version, ports and "
        "operations, extensions, and any plugin that failed to load. Only the "
        "adapters are imported; --strict also checks what they name.",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also import and check each plugin's port and extension classes and "
        "build its catalog; exit 1 if any plugin failed to load or check",
    )
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser(
        "demo",
        help="walk every installed plugin through its ports, on sandboxes",
        description="Start each installed plugin's embedded sandbox in-process "
        "(no credentials, loopback only) and walk it through its ports, "
        "printing what it did.",
    )
    p.add_argument("vendors", nargs="*", help="only these plugins (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="print full results")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "sandbox",
        help="serve a plugin's sandbox for manual use",
        description="Serve a plugin's sandbox on HOST:PORT and print the "
        "credentials it accepts, so you can curl it or point a client at it.",
    )
    p.add_argument("name", help="plugin name (see `brokerport plugins`)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    p.set_defaults(func=_cmd_sandbox)

    p = sub.add_parser(
        "conformance",
        help="run the conformance kit against a plugin's sandbox",
        description="Run the brokerport conformance kit against the named "
        "plugin's sandbox and print port / operation / result. Exit status is "
        "non-zero on any failure.",
    )
    p.add_argument("name", help="plugin name")
    p.add_argument("-k", dest="keyword", default=None, help="only contracts matching (pytest -k)")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's own output")
    p.set_defaults(func=_cmd_conformance)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .errors import BrokerportError

    try:
        code: int = args.func(args)
    except BrokerportError as exc:
        print(f"brokerport: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
