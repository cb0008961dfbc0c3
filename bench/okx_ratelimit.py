"""Burst 200 OKX sub-account creations against the OKX sandbox and report the rate.

    python bench/okx_ratelimit.py [--count 200] [--naive] [--busy] [--rounds N]

The documented limit of POST /api/v5/broker/dma/create-subaccount is 40
requests per second per user id. The brokerport client (its catalog-driven
sliding-window limiter) should achieve close to 40/s with no 50011 rejection;
``--naive`` also fires the same burst from plain aiohttp with no limiter, to
show what the sandbox does to a client that ignores the limit. ``--busy`` keeps
another process spinning on a CPU core meanwhile; ``--rounds`` repeats the burst
and prints the worst round. Target: achieved/allowed >= 0.97 (steady rate after
the first window over the allowed rate) with 0 rejections, busy or not.
Not a test: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox
from brokerport_okx.signing import okx_timestamp, sign
from busy import busy_core

ENDPOINT = "broker.dma.create_subaccount"


def max_in_window(times: list[float], per: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= per:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def report(title: str, sandbox: OkxSandbox, elapsed: float, count: int) -> tuple[float, int]:
    limit = OkxAdapter.catalog()[ENDPOINT].rate_limit
    assert limit is not None
    entries = sandbox.journal.for_endpoint(ENDPOINT)
    accepted = [e for e in entries if e.status == 200 and not e.rejected]
    rejected = sandbox.journal.rejections("rate_limit")
    allowed = limit.count / limit.per
    print(f"== {title}")
    print(f"   requests sent          {len(entries)} (asked {count})")
    print(f"   accepted / rejected    {len(accepted)} / {len(rejected)} (50011, HTTP 429)")
    print(f"   elapsed                {elapsed:.2f} s")
    print(
        f"   achieved rate          {len(accepted) / elapsed:.1f} req/s over the run "
        f"(allowed {allowed:g} req/s = {limit.describe()}; the first window is a full burst)"
    )
    times = sorted(e.at for e in accepted)
    steady = 0.0
    if len(times) > limit.count and times[-1] > times[0]:
        steady = (len(times) - limit.count) / (times[-1] - times[0])
        print(
            f"   steady rate after the first window  {steady:.1f} req/s "
            f"(achieved/allowed {steady / allowed:.3f})"
        )
    print(
        f"   max in any {limit.per:g} s window   "
        f"{max_in_window([e.at for e in accepted], limit.per)} (allowed {limit.count})"
    )
    return steady / allowed, len(rejected)


async def brokerport_burst(count: int) -> tuple[float, int]:
    sandbox = OkxSandbox()
    await sandbox.start()
    try:
        async with Client(
            OkxAdapter, sandbox.profile(), retry=RetryPolicy(max_attempts=1)
        ) as client:
            started = time.monotonic()
            results = await asyncio.gather(
                *(client.call(ENDPOINT, subAcct=f"bench{i:05d}") for i in range(count)),
                return_exceptions=True,
            )
            elapsed = time.monotonic() - started
        errors = [r for r in results if isinstance(r, BaseException)]
        out = report(
            "brokerport client (catalog RateLimit, slots held until answered)",
            sandbox,
            elapsed,
            count,
        )
        print(f"   errors raised to host  {len(errors)}")
        return out
    finally:
        await sandbox.stop()


async def naive_burst(count: int) -> None:
    sandbox = OkxSandbox()
    base = await sandbox.start()
    creds = sandbox.credentials()
    try:
        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> int:
                body = json.dumps({"subAcct": f"naive{i:05d}"}).encode()
                ts = okx_timestamp(time.time())
                path = "/api/v5/broker/dma/create-subaccount"
                headers = {
                    "OK-ACCESS-KEY": creds["api_key"],
                    "OK-ACCESS-TIMESTAMP": ts,
                    "OK-ACCESS-PASSPHRASE": creds["passphrase"],
                    "OK-ACCESS-SIGN": sign(creds["secret_key"], ts, "POST", path, body),
                    "Content-Type": "application/json",
                }
                async with session.post(base + path, data=body, headers=headers) as resp:
                    await resp.read()
                    return resp.status

            started = time.monotonic()
            await asyncio.gather(*(one(i) for i in range(count)))
            elapsed = time.monotonic() - started
        report("naive aiohttp burst (no limiter)", sandbox, elapsed, count)
    finally:
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument(
        "--naive", action="store_true", help="also burst from plain aiohttp without a limiter"
    )
    parser.add_argument("--busy", action="store_true", help="keep another CPU core busy")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with busy_core(args.busy):
        rounds = [asyncio.run(brokerport_burst(args.count)) for _ in range(args.rounds)]
    if args.rounds > 1:
        print(
            f"== {args.rounds} rounds{' (another process busy on a core)' if args.busy else ''}: "
            f"worst achieved/allowed {min(r for r, _ in rounds):.3f}, "
            f"rejections {sum(n for _, n in rounds)}"
        )
    if args.naive:
        asyncio.run(naive_burst(args.count))


if __name__ == "__main__":
    main()
