"""Side by side on the OKX sandbox: brokerport against what users would pick instead.

    pip install --no-deps -r requirements/bench.txt     # ccxt, python-okx (bench only)
    python bench/compare.py [--calls 2000] [--rounds 7] [--loops asyncio,uvloop]

One signed ``GET /api/v5/broker/dma/subaccount-info`` (three sub-accounts in
the answer) per call, rate limits lifted on every side, from

* **port**      — brokerport's port method ``client.subaccounts.list(...)``:
  validated, signed, decoded, mapped and structured into ``Page[SubAccount]``
  (Decimal, UTC datetimes, enums), on the default transport
  (``brokerport.http1``: HTTP/1.1 on asyncio with httptools' C parser);
* **port-aiohttp** (only when asked: ``--clients port,port-aiohttp,...``) — the
  same port method on ``engine = "aiohttp"`` (aiohttp's ClientSession);
* **raw**       — brokerport's ``client.call("broker.dma.subaccount_info")``:
  the decoded ``data`` list;
* **ccxt**      — ccxt's async client, ``privateGetBrokerDmaSubaccountInfo``;
* **aiohttp**   — a hand-written aiohttp client: sign, send, ``json.loads``,
  check ``code``, return ``data``;
* **python-okx** — OKX's own SDK (synchronous, httpx): one thread per
  concurrent caller through ``asyncio.to_thread``.

The sandbox runs in another process (``brokerport sandbox okx
--no-rate-limits``), pinned to another core when the machine has two. Rounds
are interleaved (every client runs once per round, so each round's ratios
compare the same machine load), at concurrency 1 and 32, on each event loop
installed (asyncio; uvloop with ``brokerport[speed]``). Printed per client:
best-round calls/s, client CPU µs per call (median; the process's CPU time,
so the sandbox is not in it) and the median of per-round throughput ratios
against ccxt and against aiohttp. Targets at concurrency 32 for **port**:
>= 1.0x ccxt and >= 0.95x aiohttp. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

PATH = "/api/v5/broker/dma/subaccount-info"
ENDPOINT = "broker.dma.subaccount_info"
Factory = Callable[
    [], Awaitable[tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]]
]


# --------------------------------------------------------------------- clients


def _brokerport_client(base: str, creds: dict[str, str], engine: str = "auto") -> Any:
    from brokerport.client import Client
    from brokerport.profile import Profile
    from brokerport.ratelimit import LimiterRegistry
    from brokerport.types import Secret
    from brokerport_okx import OkxAdapter

    class NoLimits(LimiterRegistry):  # rate limits lifted, as on every other side
        def for_endpoint(self, endpoint: Any, scope: str = "") -> None:
            return None

    profile = Profile(
        vendor="okx",
        base_url=base,
        credentials={k: Secret(v) for k, v in creds.items()},
    )
    from brokerport.transport import TransportSettings

    settings = TransportSettings(engine=engine)  # type: ignore[arg-type]
    return Client(OkxAdapter, profile, limiters=NoLimits(), transport_settings=settings)


def brokerport_port(base: str, creds: dict[str, str], engine: str = "auto") -> Factory:
    async def make() -> Any:
        from brokerport import models as m

        client = await _brokerport_client(base, creds, engine).open()
        request = m.ListSubAccounts()
        lst = client.subaccounts.list

        async def one() -> Any:
            page = await lst(request)
            assert len(page.items) == 3
            return page

        return one, client.aclose

    return make


def brokerport_raw(base: str, creds: dict[str, str]) -> Factory:
    async def make() -> Any:
        client = await _brokerport_client(base, creds).open()
        call = client.call

        async def one() -> Any:
            data = await call(ENDPOINT)
            assert len(data[0]["details"]) == 3
            return data

        return one, client.aclose

    return make


def handwritten(base: str, creds: dict[str, str]) -> Factory:
    """What a careful user writes with aiohttp alone."""
    key, secret, passphrase = creds["api_key"], creds["secret_key"].encode(), creds["passphrase"]
    url = URL(base + PATH, encoded=True)

    async def make() -> Any:
        session = aiohttp.ClientSession()

        async def one() -> Any:
            ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            mac = hmac.new(secret, (ts + "GET" + PATH).encode(), hashlib.sha256)
            headers = {
                "OK-ACCESS-KEY": key,
                "OK-ACCESS-SIGN": base64.b64encode(mac.digest()).decode(),
                "OK-ACCESS-TIMESTAMP": ts,
                "OK-ACCESS-PASSPHRASE": passphrase,
            }
            async with session.get(url, headers=headers) as resp:
                body = await resp.read()
            doc = json.loads(body)
            if doc["code"] != "0":
                raise RuntimeError(doc["msg"])
            assert len(doc["data"][0]["details"]) == 3
            return doc["data"]

        return one, session.close

    return make


def ccxt_async(base: str, creds: dict[str, str]) -> Factory:
    async def make() -> Any:
        import ccxt.async_support as ccxt

        ex = ccxt.okx(
            {
                "apiKey": creds["api_key"],
                "secret": creds["secret_key"],
                "password": creds["passphrase"],
                "enableRateLimit": False,
            }
        )
        ex.urls["api"] = {"rest": base}
        get = ex.privateGetBrokerDmaSubaccountInfo

        async def one() -> Any:
            doc = await get({})
            assert len(doc["data"][0]["details"]) == 3
            return doc["data"]

        return one, ex.close

    return make


def python_okx(base: str, creds: dict[str, str]) -> Factory:
    async def make() -> Any:
        import threading

        from okx.okxclient import OkxClient

        local = threading.local()

        def sync_one() -> Any:
            client = getattr(local, "client", None)
            if client is None:  # one SDK client (one httpx pool) per thread
                client = local.client = OkxClient(
                    api_key=creds["api_key"],
                    api_secret_key=creds["secret_key"],
                    passphrase=creds["passphrase"],
                    flag="0",
                    base_api=base,
                )
            doc = client._request_with_params("GET", PATH, {})
            assert len(doc["data"][0]["details"]) == 3
            return doc["data"]

        async def one() -> Any:
            return await asyncio.to_thread(sync_one)

        async def close() -> None:
            pass

        return one, close

    return make


# ------------------------------------------------------------------ harness


async def run(factory: Factory, calls: int, concurrency: int) -> tuple[float, float]:
    """(seconds, client CPU seconds) for ``calls`` calls at ``concurrency``."""
    one, close = await factory()
    try:

        async def worker(n: int) -> None:
            for _ in range(n):
                await one()

        await asyncio.gather(*(worker(10) for _ in range(min(concurrency, 8))))  # warm up
        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
        return time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        await close()


def ratio(times: dict[str, list[float]], other: str, name: str) -> str:
    """Median over rounds of ``name``'s throughput over ``other``'s."""
    if other not in times:
        return "-"
    r = statistics.median(o / t for o, t in zip(times[other], times[name], strict=True))
    return f"{r:.3f}x"


def loop_factories(names: list[str]) -> list[tuple[str, Callable[[], asyncio.AbstractEventLoop]]]:
    out: list[tuple[str, Callable[[], asyncio.AbstractEventLoop]]] = []
    for name in names:
        if name == "asyncio":
            out.append(("asyncio", asyncio.new_event_loop))
        elif name == "uvloop":
            try:
                import uvloop
            except ImportError:
                print("uvloop is not installed (pip install 'brokerport[speed]'): skipped")
                continue
            out.append(("uvloop", uvloop.new_event_loop))
    return out


def start_sandbox(cpus: list[int]) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "brokerport", "sandbox", "okx", "--no-rate-limits", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if len(cpus) >= 2:
        os.sched_setaffinity(proc.pid, {cpus[-1]})
        os.sched_setaffinity(0, {cpus[0]})
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["base_url"], info["credentials"]


async def seed(base: str, creds: dict[str, str]) -> None:
    async with _brokerport_client(base, creds) as client:
        for i in range(3):
            await client.call("broker.dma.create_subaccount", subAcct=f"bench{i}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument(
        "--clients", default="port,raw,ccxt,aiohttp,python-okx", help="comma-separated"
    )
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    proc, base, creds = start_sandbox(cpus)
    all_clients = {
        "port": brokerport_port,
        "port-aiohttp": lambda b, c: brokerport_port(b, c, "aiohttp"),
        "raw": brokerport_raw,
        "ccxt": ccxt_async,
        "aiohttp": handwritten,
        "python-okx": python_okx,
    }
    clients = {n: all_clients[n](base, creds) for n in args.clients.split(",")}
    try:
        asyncio.run(seed(base, creds))
        pinned = f"; client on cpu {cpus[0]}, sandbox on cpu {cpus[-1]}" if len(cpus) > 1 else ""
        print(f"OKX sandbox {base}; {args.calls} calls per run, {args.rounds} rounds{pinned}")
        for loop_name, new_loop in loop_factories(args.loops.split(",")):
            for conc in (int(c) for c in args.concurrency.split(",")):
                times: dict[str, list[float]] = {n: [] for n in clients}
                cpu: dict[str, list[float]] = {n: [] for n in clients}
                for _ in range(args.rounds):
                    for name, factory in clients.items():
                        with asyncio.Runner(loop_factory=new_loop) as runner:
                            wall, used = runner.run(run(factory, args.calls, conc))
                        times[name].append(wall)
                        cpu[name].append(used)
                n = (args.calls // conc) * conc
                print(f"\n== {loop_name}, concurrency {conc}")
                print(
                    f"{'client':>12} {'calls/s':>8} {'CPU µs/call':>12} "
                    f"{'vs ccxt':>8} {'vs aiohttp':>11} {'CPU vs aiohttp':>15}"
                )
                for name in clients:
                    print(
                        f"{name:>12} {n / min(times[name]):>8.0f} "
                        f"{statistics.median(cpu[name]) / n * 1e6:>12.0f} "
                        f"{ratio(times, 'ccxt', name):>8} {ratio(times, 'aiohttp', name):>11} "
                        f"{ratio(cpu, name, 'aiohttp') if 'aiohttp' in cpu else '-':>15}"
                    )
        print(
            "\ncalls/s: best round; CPU: median round; ratios: median of per-round "
            "throughput ratios (> 1: faster than the other client); CPU vs aiohttp: "
            "median per-round ratio of client CPU per call (< 1: less CPU than the "
            "hand-written aiohttp client). At concurrency 32 the sandbox's core is the "
            "bottleneck once a client needs less CPU per call than the sandbox does."
        )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
