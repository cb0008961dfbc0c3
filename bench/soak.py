"""Fault soak: many calls on every plugin's sandbox with a share of requests faulted.

    python bench/soak.py [--calls 10000] [--fault-rate 0.2] [--vendor okx ...] [--seed 1]

For each installed plugin with a sandbox and samples (OKX, lwork, acme, and
any later one), runs ``--calls`` logical calls — the samples' signed read, its
non-idempotent write, and an order through the trading port where declared —
with ``--concurrency`` tasks. Before each call, with probability
``--fault-rate``, one fault is armed on its endpoint: HTTP 503 with the
vendor's error body, a reset, a truncated, empty, HTML or non-JSON body, the
answer lost after the write was applied, or a read timeout (before or after
the effect). Then prints, per vendor:

* duplicates — logical writes applied more than once (from the sandbox
  journal: effects of one request's exact bytes);
* untyped — exceptions that are not ``BrokerportError``;
* failed reads, UnknownOutcomes, writes the pipeline settled by a lookup;
* reconciliation — each UnknownOutcome settled with ``client.reconcile``,
  checked against the sandbox's journal (applied or not), plus those the
  vendor gives no way to tell.

Rate limits are off on both sides (this is about faults, not pacing). The
sandbox runs in this process, on loopback. Not a test: tests/core/test_soak.py
runs a short soak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import attrs
from brokerport import BrokerportError, UnknownOutcome
from brokerport.catalog import Endpoint
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.ratelimit import Limiter, LimiterRegistry
from brokerport.registry import list_plugins, load_adapter, load_sandbox
from brokerport.transport import TransportSettings

FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("status", {"status": 503}),
    ("reset", {}),
    ("truncate", {}),
    ("empty", {}),
    ("html", {}),
    ("not_json", {}),
    ("lost", {}),
    ("timeout", {"delay": 0.5}),
    ("timeout", {"delay": 0.5, "after_effect": True}),
]


class NoLimits(LimiterRegistry):
    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        return None


@attrs.define
class SoakReport:
    vendor: str
    calls: int = 0
    requests: int = 0
    faulted: int = 0
    duplicates: int = 0
    untyped: int = 0
    untyped_kinds: Counter[str] = attrs.field(factory=Counter)
    reads: int = 0
    failed_reads: int = 0
    writes: int = 0
    writes_ok: int = 0
    settled_by_lookup: int = 0
    unknown: int = 0
    cancelled: int = 0
    reconciled_right: int = 0
    reconciled_wrong: int = 0
    undecidable: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)
    elapsed: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"== {self.vendor}: {self.calls} calls, {self.requests} requests "
            f"({self.faulted} faulted, {self.faulted / max(1, self.requests):.1%}), "
            f"{self.elapsed:.1f} s",
            f"   duplicates               {self.duplicates}",
            f"   untyped exceptions       {self.untyped} {dict(self.untyped_kinds) or ''}",
            f"   failed reads             {self.failed_reads} of {self.reads}",
            f"   writes ok                {self.writes_ok} of {self.writes} "
            f"({self.settled_by_lookup} settled by a lookup and resent or resolved)",
            f"   UnknownOutcomes          {self.unknown}",
            f"   reconciled correctly     {self.reconciled_right} "
            f"(wrong {self.reconciled_wrong}, vendor cannot tell {self.undecidable})",
            f"   typed errors             {dict(self.errors)}",
        ]


def _same(a: Any, b: str) -> bool:
    try:
        return Decimal(str(a)) == Decimal(b)
    except ArithmeticError:
        return str(a) == b


def _carries(entry: Any, params: dict[str, str]) -> bool:
    """Whether the journal entry is the request these (redacted) params describe."""
    try:
        body = json.loads(entry.body) if entry.body else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    segments = set(entry.path.split("/"))
    query = dict(p.partition("=")[::2] for p in entry.query.split("&") if p)
    for key, value in params.items():
        if value == "***":
            continue
        if key in body:
            if not _same(body[key], value):
                return False
        elif key in query:
            if query[key] != value:
                return False
        elif value not in segments:
            return False
    return True


async def soak(
    vendor: str,
    *,
    calls: int,
    fault_rate: float = 0.2,
    seed: int = 1,
    concurrency: int = 16,
    read_timeout: float = 0.25,
) -> SoakReport:
    from brokerport.profile import Profile

    rng = random.Random(seed)
    adapter = load_adapter(vendor)
    sandbox = load_sandbox(adapter.sandbox or vendor)()
    sandbox.enforce_rate_limits = False
    report = SoakReport(vendor)
    client = Client(
        adapter,
        Profile(vendor=vendor, name="soak"),
        sandbox_factory=lambda: sandbox,
        limiters=NoLimits(),
        retry=RetryPolicy(base_delay=0.001, max_delay=0.01),
        transport_settings=TransportSettings(read_timeout=read_timeout, total_timeout=5.0),
    )
    from brokerport.testing.samples import load_samples

    samples = load_samples(adapter.samples or "")
    started = time.monotonic()
    async with client:
        s = samples(client, sandbox)
        await s.prepare()
        order = "trading.place_order" in adapter.operations
        journal_start = len(sandbox.journal)
        unknowns: list[tuple[UnknownOutcome, str]] = []
        queue = iter(range(calls))

        async def one(n: int) -> None:
            pick = rng.random()
            if pick < 0.5:
                kind = "read"
                name, params = s.read_call()
            elif order and pick < 0.75:
                kind = "order"
                name, params = "trade.place_order", {}
            else:
                kind = "write"
                name, params = s.write_call(n)
            if rng.random() < fault_rate:
                fkind, fkw = FAULTS[rng.randrange(len(FAULTS))]
                sandbox.faults.add(fkind, name, times=1, **fkw)  # type: ignore[arg-type]
            report.calls += 1
            if kind == "read":
                report.reads += 1
            else:
                report.writes += 1
            try:
                if kind == "order":
                    await client.trading.place_order(s.place_order(n))
                else:
                    await client.call(name, **params)
                if kind != "read":
                    report.writes_ok += 1
            except UnknownOutcome as exc:
                report.unknown += 1
                unknowns.append((exc, exc.endpoint or name))
            except BrokerportError as exc:
                report.errors[type(exc).__name__] += 1
                if kind == "read":
                    report.failed_reads += 1
            except Exception as exc:  # the soak's point: none of these
                report.untyped += 1
                report.untyped_kinds[type(exc).__name__] += 1

        async def worker() -> None:
            for n in queue:
                await one(n)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sandbox.faults.clear()
        entries = sandbox.journal.entries[journal_start:]
        report.requests = len(entries)
        report.faulted = sum(1 for e in entries if e.fault)
        # duplicates: one request's exact bytes applied more than once
        effects = Counter((e.endpoint, e.path, e.query, e.body) for e in entries if e.effect)
        report.duplicates = sum(n - 1 for n in effects.values() if n > 1)
        settled = sum(
            1
            for e in entries
            if e.endpoint in adapter.deduplicates and not e.effect and e.status == 200
        )
        report.settled_by_lookup = settled
        # reconcile every UnknownOutcome and check it against the journal
        applied_by_endpoint: dict[str | None, list[Any]] = {}
        for e in entries:
            if e.effect:
                applied_by_endpoint.setdefault(e.endpoint, []).append(e)
        for exc, endpoint in unknowns:
            truth = any(
                _carries(e, dict(exc.reconcile_with)) for e in applied_by_endpoint.get(endpoint, ())
            )
            try:
                verdict = await client.reconcile(exc)
            except BrokerportError as err:
                report.errors[f"reconcile:{type(err).__name__}"] += 1
                report.undecidable += 1
                continue
            if not verdict.settled:
                report.undecidable += 1
            elif verdict.applied == truth:
                report.reconciled_right += 1
            else:
                report.reconciled_wrong += 1
        report.cancelled = sum(1 for e in await client.outbox.list() if e.kind == "cancelled")
    report.elapsed = time.monotonic() - started
    return report


def vendors_with_sandboxes(*, broken: bool = False) -> list[str]:
    """Plugins with a sandbox and samples (``broken``: also acme-broken, the kit's
    deliberately broken example, which resends lost withdrawals)."""
    out = []
    for p in list_plugins():
        if p.name.endswith("-broken") and not broken:
            continue
        if p.ok and p.adapter is not None and p.adapter.samples and p.adapter.sandbox:
            try:
                load_sandbox(p.adapter.sandbox)
            except BrokerportError:
                continue  # declares a sandbox that is not installed (acme-broken)
            out.append(p.name)
    return out


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10_000, help="logical calls per vendor")
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--vendor", action="append", help="default: every plugin with a sandbox")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args(argv)
    bad = 0
    for vendor in args.vendor or vendors_with_sandboxes():
        report = await soak(
            vendor,
            calls=args.calls,
            fault_rate=args.fault_rate,
            seed=args.seed,
            concurrency=args.concurrency,
        )
        print("\n".join(report.lines()), flush=True)
        if args.json:
            print(json.dumps(attrs.asdict(report), default=str))
        bad += report.duplicates + report.untyped + report.reconciled_wrong
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
