"""The ``brokerport`` command: plugins, demo, sandbox, conformance, catalog.

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
    from .demo import run_demo
    from .loop import run

    return run(run_demo(args.vendors, verbose=args.verbose, via_proxy=args.via_proxy))


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .errors import BrokerportError
    from .loop import run as run_loop
    from .sandbox.serve import serve_sandbox

    options: dict[str, str] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BrokerportError(f"--option wants key=value, not {item!r}")
        options[key.strip()] = value
    flags: dict[str, object] = {}
    if args.demo:
        flags["demo"] = True
    if args.no_rate_limits:
        flags["enforce_rate_limits"] = False
    if args.seed is not None:
        flags["seed"] = args.seed
    run = serve_sandbox(
        args.name,
        host=args.host,
        port=args.port,
        seconds=args.seconds,
        options=options,
        flags=flags,
        as_json=args.json,
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_loop(run)
    return 0


def _cmd_conformance(args: argparse.Namespace) -> int:
    import time

    from .testing.report import run_conformance

    failed = 0
    for i, name in enumerate(args.names, 1):
        started = time.monotonic()
        if len(args.names) > 1:  # progress on stderr: the tables stay on stdout
            print(f"[{i}/{len(args.names)}] conformance {name} ...", file=sys.stderr, flush=True)
        code = run_conformance(name, verbose=args.verbose, keyword=args.keyword)
        failed += code != 0
        if len(args.names) > 1:
            print(
                f"[{i}/{len(args.names)}] {name}: {'ok' if code == 0 else 'FAILED'} "
                f"({time.monotonic() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    return 1 if failed else 0


def _package_dir(name: str) -> str:
    """The directory of the installed plugin ``name``'s package."""
    import importlib.util

    from .errors import PluginError
    from .registry import load_adapter

    package = load_adapter(name).__module__.split(".")[0]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise PluginError(f"{name}: cannot find the package {package}")
    return str(next(iter(spec.submodule_search_locations)))


def _plugin_catalog_files(name: str) -> tuple[str, str]:
    """(overlay, catalog.json) of the installed plugin ``name``."""
    from .catalog_build import overlay_for

    overlay, out = overlay_for(_package_dir(name))
    return str(overlay), str(out)


def _cmd_catalog_build(args: argparse.Namespace) -> int:
    from .catalog_build import write

    if args.overlay or args.out:
        if args.name or not (args.overlay and args.out):
            print("brokerport catalog build: give NAME, or --overlay and --out", file=sys.stderr)
            return 2
        out = write(args.overlay, args.out)
        print(f"wrote {out}")
        _warn_unless_loads(str(out))
        return 0
    if not args.name:
        print("brokerport catalog build: give NAME, or --overlay and --out", file=sys.stderr)
        return 2
    overlay, target = _plugin_catalog_files(args.name)
    print(f"wrote {write(overlay, target)}")
    return 0


def _warn_unless_loads(path: str) -> None:
    """A scratch catalog is written even when it does not load yet: say why."""
    import json

    from .catalog import catalog_from_data
    from .errors import BrokerportError

    try:
        with open(path, encoding="utf-8") as f:
            catalog_from_data(json.load(f), source=path)
    except BrokerportError as exc:
        print(f"warning: the catalog does not load: {exc}", file=sys.stderr)


def _cmd_catalog_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .catalog_build import check
    from .registry import list_plugins
    from .stubs import check as check_stub

    if args.overlay or args.out:
        if args.names or not (args.overlay and args.out):
            print("brokerport catalog check: give NAMEs, or --overlay and --out", file=sys.stderr)
            return 2
        diff = check(args.overlay, args.out)
        if diff is None:
            print(f"{args.out} is up to date")
            return 0
        print(f"{args.out} differs from what {args.overlay} gives:")
        sys.stdout.write(diff)
        return 1
    names = args.names or sorted({info.name for info in list_plugins() if info.adapter is not None})
    seen: set[str] = set()
    failed = 0
    for name in names:
        if not args.names:
            package_dir = Path(_package_dir(name))
            if (
                not (package_dir.parent / "catalog" / "overlay.toml").exists()
                and not (package_dir / "catalog.json").exists()
            ):
                print(f"{name}: skipped (its catalog is not a data file)")
                continue
        overlay, target = _plugin_catalog_files(name)
        if target in seen:  # two entry points of one package (acme, acme-broken)
            continue
        seen.add(target)
        diff = check(overlay, target)
        if diff is None:
            diff = check_stub(target)  # the typed calls generated beside it
        if diff is None:
            print(f"{name}: {target} is up to date, and its typed calls")
        else:
            failed += 1
            print(
                f"{name}: {target} differs from what its overlay gives "
                f"(run `brokerport catalog build {name}`):"
            )
            sys.stdout.write(diff)
    return 1 if failed else 0


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
    p.add_argument(
        "--via-proxy",
        action="store_true",
        help="reach each sandbox through a real local HTTP CONNECT proxy (proxy.py, "
        "with credentials), as production hosts reach vendors through a fixed-egress proxy",
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "sandbox",
        help="serve a plugin's sandbox for manual use",
        description="Serve a plugin's sandbox on HOST:PORT and print every credential "
        "and identifier a client needs (a table, or one JSON line with --json), so you "
        "can curl it or point a client at it. Serves until interrupted.",
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
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a sandbox option (see the plugin's README), typed from its default; repeatable",
    )
    p.add_argument("--demo", action="store_true", help="demo / simulated trading (OKX)")
    p.add_argument(
        "--no-rate-limits", action="store_true", help="do not enforce the catalog's rate limits"
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed generated keys and ids (repeatable runs)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    p.set_defaults(func=_cmd_sandbox)

    p = sub.add_parser(
        "conformance",
        help="run the conformance kit against a plugin's sandbox",
        description="Run the brokerport conformance kit against the named "
        "plugin's sandbox and print port / operation / result. Exit status is "
        "non-zero on any failure.",
    )
    p.add_argument("names", nargs="+", metavar="name", help="plugin name(s)")
    p.add_argument("-k", dest="keyword", default=None, help="only contracts matching (pytest -k)")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's own output")
    p.set_defaults(func=_cmd_conformance)

    p = sub.add_parser(
        "catalog",
        help="show a plugin's operations, or build or check its generated catalog.json",
        description="`catalog show VENDOR [NAME]` (or `catalog VENDOR [NAME]`) lists a "
        "plugin's operations. A plugin's catalog.json is generated from its "
        "catalog/overlay.toml (and the vendor's OpenAPI spec, when the overlay names one), "
        "with calls.py, its typed raw calls, beside it.",
    )
    catalog = p.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    c = catalog.add_parser(
        "build",
        help="regenerate a plugin's catalog.json (or any overlay's)",
        description="Regenerate NAME's catalog.json from <package>/../catalog/overlay.toml, "
        "or write the catalog of any --overlay to --out.",
    )
    c.add_argument("name", nargs="?", help="plugin name (see `brokerport plugins`)")
    c.add_argument("--overlay", help="an overlay.toml (instead of NAME)")
    c.add_argument("--out", help="where to write the catalog (with --overlay)")
    c.set_defaults(func=_cmd_catalog_build)
    c = catalog.add_parser(
        "check",
        help="fail if a committed catalog.json is not what its overlay gives",
        description="Regenerate each catalog in memory and compare it with the committed "
        "file; exit 1 with a unified diff on any difference.",
    )
    c.add_argument("names", nargs="*", help="plugin names (default: every installed plugin)")
    c.add_argument("--overlay", help="an overlay.toml (instead of NAMEs)")
    c.add_argument("--out", help="the catalog file to compare (with --overlay)")
    c.set_defaults(func=_cmd_catalog_check)
    from .cli_tools import add_commands, add_examples

    add_commands(sub, catalog)  # `call` and `catalog show`
    add_examples(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .cli_tools import route_catalog_vendor

    parser = build_parser()
    args = parser.parse_args(route_catalog_vendor(list(sys.argv[1:] if argv is None else argv)))
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
