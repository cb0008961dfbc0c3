"""Several processes on one OKX key against a 40/s endpoint: shared vs per-process limits.

    python bench/redis_ratelimit.py [--processes 4] [--tasks 50] [--calls 400]
                                    [--redis redis://127.0.0.1:6379/15]

The OKX sandbox runs in this process and enforces the documented limit of
``broker.dma.create_subaccount`` (40 requests per second per user, answered
with 50011). ``--processes`` worker processes each run ``--tasks`` concurrent
tasks on the same credentials until ``--calls`` sub-accounts are created in
total, with no retry (a rejection shows). Two runs:

* **Redis** — every worker's client uses ``RedisLimiterRegistry``: one window
  shared by all processes (admitted by a Lua script on the Redis clock);
* **per-process** — each worker has its own in-process limiter: each admits
  40/s, so together they send ``processes`` times too many and are rejected.

Prints accepted / rejected and the achieved rate against the allowed one
(steady rate after the first window's burst). Needs a running redis-server.
Not a test: tests/core/test_redis_backend.py checks the backend.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import secrets
import sys
import time
from typing import Any

ENDPOINT = "broker.dma.create_subaccount"


def _worker(
    index: int, base_url: str, creds: dict[str, str], redis: str | None, prefix: str, args: Any
) -> None:
    asyncio.run(_work(index, base_url, creds, redis, prefix, *args))


async def _work(
    index: int,
    base_url: str,
    creds: dict[str, str],
    redis: str | None,
    prefix: str,
    tasks: int,
    calls: int,
    start_at: float,
    margin: str,
) -> None:
    from brokerport import RateLimited
    from brokerport.client import Client
    from brokerport.pipeline import RetryPolicy
    from brokerport.profile import Profile
    from brokerport.ratelimit import LimiterRegistry
    from brokerport_okx import OkxAdapter

    limiters: LimiterRegistry
    backend = None
    if redis:
        from brokerport.redis_backend import RedisBackend, RedisLimiterRegistry

        backend = RedisBackend(redis, prefix=prefix)
        limiters = RedisLimiterRegistry(backend)
    else:
        limiters = LimiterRegistry()
    # one profile (one vendor key) in every worker: the limiter scope they share
    # rate_limit_margin: the OKX plugin keeps 10 % of each window free by default
    # (36/s of 40/s); --margin sets it (0.02: the core's default jitter allowance)
    profile = Profile(
        vendor="okx",
        name="shared-key",
        base_url=base_url,
        credentials=creds,
        options={"rate_limit_margin": margin},
    )
    client = Client(OkxAdapter, profile, limiters=limiters, retry=RetryPolicy(max_attempts=1))
    counter = iter(range(calls))
    async with client:
        # warm: a fresh interpreter's first request pays for lazy imports and set-up
        # (tens of ms), which would shift its arrival against the shared window
        await client.call("public.time")
        await asyncio.sleep(max(0.0, start_at - time.time()))  # start together

        async def task() -> None:
            for n in counter:
                with contextlib.suppress(RateLimited):
                    await client.call(ENDPOINT, subAcct=f"b{prefix[-6:]}w{index}n{n}")

        await asyncio.gather(*(task() for _ in range(tasks)))
    if backend is not None:
        await backend.aclose()


async def run(shared: bool, args: argparse.Namespace) -> dict[str, float]:
    from brokerport_okx import OkxAdapter
    from brokerport_okx.sandbox import OkxSandbox

    sandbox = OkxSandbox(enforce_rate_limits=True)
    base_url = await sandbox.start()
    prefix = f"bench:{secrets.token_hex(4)}"
    ctx = mp.get_context("spawn")
    per_process = args.calls // args.processes
    start_at = time.time() + 3.0  # spawned interpreters import brokerport first
    procs = [
        ctx.Process(
            target=_worker,
            args=(
                i,
                base_url,
                sandbox.live_credentials(),
                args.redis if shared else None,
                prefix,
                (args.tasks, per_process, start_at, args.margin),
            ),
        )
        for i in range(args.processes)
    ]
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):
        await asyncio.sleep(0.05)
    await sandbox.stop()
    limit = OkxAdapter.catalog()[ENDPOINT].rate_limit
    assert limit is not None
    entries = sandbox.journal.for_endpoint(ENDPOINT)
    accepted = sorted(e.at for e in entries if e.status == 200 and not e.rejected)
    rejected = len(sandbox.journal.rejections("rate_limit"))
    t0 = min((e.at for e in entries), default=0.0)
    rejected_at = [round(e.at - t0, 3) for e in entries if e.rejected]
    print("   (rejections at, s from the first request:", rejected_at[:8], ")")
    print("   (accepted at:", [round(a - t0, 3) for a in accepted[:3]], "...",
          [round(a - t0, 3) for a in accepted[38:43]], ")")  # fmt: skip
    allowed = limit.count / limit.per
    steady = 0.0
    if len(accepted) > limit.count and accepted[-1] > accepted[0]:
        steady = (len(accepted) - limit.count) / (accepted[-1] - accepted[0])
    if shared and args.redis:
        import redis.asyncio as aioredis

        r = aioredis.from_url(args.redis)
        keys = [k async for k in r.scan_iter(match=f"{prefix}:*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()
    return {
        "sent": len(entries),
        "accepted": len(accepted),
        "rejected": rejected,
        "allowed": allowed,
        "steady": steady,
        "ratio": steady / allowed,
    }


def show(title: str, r: dict[str, float], args: argparse.Namespace) -> None:
    print(f"== {title}: {args.processes} processes x {args.tasks} tasks, one OKX key")
    print(f"   requests sent / accepted / rejected (50011)   {r['sent']:.0f} / "
          f"{r['accepted']:.0f} / {r['rejected']:.0f}")  # fmt: skip
    print(f"   steady accepted rate   {r['steady']:.1f}/s of {r['allowed']:g}/s allowed "
          f"(achieved/allowed {r['ratio']:.3f})")  # fmt: skip


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--calls", type=int, default=400, help="sub-accounts created in total")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    ap.add_argument("--margin", default="0.02", help="OKX profile option rate_limit_margin")
    args = ap.parse_args(argv)
    shared = await run(True, args)
    show("Redis-shared limiter", shared, args)
    alone = await run(False, args)
    show("per-process limiters", alone, args)
    ok = shared["rejected"] == 0 and shared["ratio"] >= 0.95 and alone["rejected"] > 0
    print("== result:", "OK" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
