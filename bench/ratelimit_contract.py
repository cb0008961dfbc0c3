"""Run the conformance kit's rate-limit contract many times, optionally while
another process keeps a CPU core busy, and count the passes.

    python bench/ratelimit_contract.py [--runs 50] [--busy]

Each run is one pytest session of ``test_client_respects_rate_limits`` for
every plugin in this repository (OKX, lwork, wlink, Acme). Target: 50 of 50
under load. Not a test: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from busy import busy_core

ROOT = Path(__file__).resolve().parent.parent
SUITES = [
    "plugins/okx/tests/test_okx_conformance.py",
    "plugins/lwork/tests/test_lwork_conformance.py",
    "plugins/wlink/tests/test_wlink_conformance.py",
    "examples/acme/tests/test_conformance.py",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--busy", action="store_true", help="keep another CPU core busy")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "pytest", "-q", "-k", "test_client_respects_rate_limits"]
    passed = 0
    started = time.monotonic()
    with busy_core(args.busy):
        for i in range(1, args.runs + 1):
            run = subprocess.run([*cmd, *SUITES], cwd=ROOT, capture_output=True, text=True)
            ok = run.returncode == 0
            passed += ok
            last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
            print(f"run {i:>3}/{args.runs}: {'pass' if ok else 'FAIL'}  {last}", flush=True)
            if not ok:
                print(run.stdout[-3000:])
    load = " with another process busy on a core" if args.busy else ""
    print(
        f"{passed}/{args.runs} runs passed{load} ({time.monotonic() - started:.0f} s); "
        "each run: the contract for okx, lwork, wlink, acme"
    )


if __name__ == "__main__":
    main()
