"""Pipeline overhead: brokerport's full pipeline vs a hand-written aiohttp call.

Both sides talk to the same local aiohttp endpoint (a separate process, on
127.0.0.1), sign every request the same way (HMAC-SHA256 over timestamp +
method + path?query + body), decode the JSON body with Decimal numbers and
build the same attrs model. brokerport adds validation, hooks, the rate-limit
bucket lookup, retry bookkeeping, the error map and cattrs structuring.

    python bench/overhead.py [--calls 4000] [--rounds 9]

Prints calls/s and µs/call (best round) for both at concurrency 1 and 32, the
ratio of the best rounds, and the median of the per-round ratios (raw and
brokerport rounds alternate, so each pair saw the same machine load).
Target: brokerport >= 90 % of raw throughput at concurrency 32.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

import aiohttp
import attrs
from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.catalog import Catalog, Endpoint, Param
from brokerport.client import Client
from brokerport.errors import InvalidRequest
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest, Signer, hmac_sha256_b64
from brokerport.transport import RawResponse
from yarl import URL

SECRET = "bench-secret-0123456789"
KEY = "bench-key"

SERVER = r"""
import asyncio, sys
from aiohttp import web
BODY = b'{"code":"0","msg":"","data":[{"ccy":"BTC","bal":"1.23456789","frozenBal":"0.1"}]}'
async def handler(request):
    return web.Response(body=BODY, content_type="application/json")
async def main():
    app = web.Application()
    app.router.add_get("/api/v5/account/balance", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


@attrs.frozen
class Balance:
    ccy: str
    bal: Decimal
    frozenBal: Decimal


def iso_ms(now: float) -> str:
    t = time.gmtime(now)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(now * 1000) % 1000:03d}Z"


def sign_headers(method: str, path_qs: str, body: bytes, now: float) -> dict[str, str]:
    ts = iso_ms(now)
    sig = hmac_sha256_b64(SECRET, (ts + method + path_qs).encode() + body)
    return {
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-SIGN": sig,
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": "bench-pass",
    }


# ------------------------------------------------------------ brokerport side


class BenchSigner(Signer):
    sensitive_headers = frozenset({"ok-access-sign", "ok-access-passphrase"})

    def sign(self, request: PreparedRequest, now: float) -> None:
        request.headers.update(
            sign_headers(request.method, request.path_with_query, request.body or b"", now)
        )


class BenchAdapter(Adapter):
    name = "bench"
    error_map = ErrorMap({"50011": InvalidRequest})

    @classmethod
    def build_catalog(cls) -> Catalog:
        return Catalog(
            "bench",
            [
                Endpoint(
                    "account.balance", "GET", "/api/v5/account/balance", (Param("ccy", "query"),)
                )
            ],
        )

    def create_signer(self) -> Signer:
        return BenchSigner()

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        doc = parse_json(response, vendor=self.name)
        if doc["code"] != "0":
            raise VendorFault(doc["code"], doc["msg"], http_status=response.status)
        return doc["data"]


async def run_brokerport(base: str, calls: int, concurrency: int) -> float:
    client = Client(BenchAdapter, Profile(vendor="bench", base_url=base))
    async with client:

        async def worker(n: int) -> None:
            for _ in range(n):
                data = await client.invoke("account.balance", {"ccy": "BTC"}, into=list[Balance])
                assert data[0].bal == Decimal("1.23456789")

        await worker(50)  # warm up
        start = time.perf_counter()
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
        return time.perf_counter() - start


# ------------------------------------------------------------------ raw side


async def run_raw(base: str, calls: int, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=64)
    timeout = aiohttp.ClientTimeout(total=30, connect=10, sock_read=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        path_qs = "/api/v5/account/balance?ccy=BTC"

        async def worker(n: int) -> None:
            for _ in range(n):
                headers = sign_headers("GET", path_qs, b"", time.time())
                async with session.get(URL(base + path_qs, encoded=True), headers=headers) as r:
                    body = await r.read()
                doc = json.loads(body, parse_float=Decimal)
                if doc["code"] != "0":
                    raise RuntimeError(doc["msg"])
                data = [
                    Balance(ccy=d["ccy"], bal=Decimal(d["bal"]), frozenBal=Decimal(d["frozenBal"]))
                    for d in doc["data"]
                ]
                assert data[0].bal == Decimal("1.23456789")

        await worker(50)
        start = time.perf_counter()
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    pinned = ""
    if len(cpus) >= 2:
        # server on one core, client on another: neither side's rounds migrate between
        # cores mid-run, which otherwise swings a round by +-5 % on a 2-core machine
        os.sched_setaffinity(server.pid, {cpus[-1]})
        os.sched_setaffinity(0, {cpus[0]})
        pinned = f"; client on cpu {cpus[0]}, server on cpu {cpus[-1]}"
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        print(
            f"server {base}; {args.calls} calls per run, {args.rounds} interleaved rounds{pinned}"
        )
        print(
            f"{'concurrency':>11} {'raw calls/s':>12} {'raw µs/call':>12} "
            f"{'bp calls/s':>11} {'bp µs/call':>11} {'ratio':>7} {'median':>7}"
        )
        for conc in (1, 32):
            # interleaved rounds: both sides see the same machine load
            raws, bps = [], []
            for _ in range(args.rounds):
                raws.append(asyncio.run(run_raw(base, args.calls, conc)))
                bps.append(asyncio.run(run_brokerport(base, args.calls, conc)))
            raw, bp = min(raws), min(bps)
            n = (args.calls // conc) * conc
            paired = statistics.median(r / b for r, b in zip(raws, bps, strict=True))
            print(
                f"{conc:>11} {n / raw:>12.0f} {raw / n * 1e6:>12.1f} {n / bp:>11.0f} "
                f"{bp / n * 1e6:>11.1f} {raw / bp:>7.1%} {paired:>7.1%}"
            )
        print("ratio: best round vs best round; median: median of the per-round ratios")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
