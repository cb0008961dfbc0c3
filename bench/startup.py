"""Start-up cost: ``import brokerport`` and ``brokerport plugins`` vs a bare interpreter.

    python bench/startup.py [--rounds 21] [--bytecode both|cached|source]

Runs N interleaved rounds of three subprocesses, all with this interpreter:

* ``python -c pass``                  (the bare interpreter: the baseline)
* ``python -c "import brokerport"``
* ``python -m brokerport plugins``

and prints the median wall time of each, the milliseconds ``import brokerport``
adds over the baseline and the ratio of ``brokerport plugins`` to the
baseline, against the targets (+25 ms at most; 4x at most).

Bytecode changes the figures a lot, so the bench says which it measured, and
by default measures both:

* ``cached``: every module has its ``.pyc``, as a user has it after the first
  run (warm-up runs write them).
* ``source``: the standard library and installed packages have their ``.pyc``
  but this repository's sources (core and plugins, installed editable) are
  compiled on every run, as in a sandbox with ``PYTHONDONTWRITEBYTECODE=1``.

Both modes keep their bytecode under a temporary ``PYTHONPYCACHEPREFIX``, so
the figures do not depend on which ``__pycache__`` directories happen to
exist in the worktree, and the bench writes none there. It prints figures; it
is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the sources compiled on every run in ``source`` mode (editable installs)
PROJECT_DIRS = [ROOT / "core", ROOT / "plugins", ROOT / "examples"]

IMPORT_TARGET_MS = 25.0
PLUGINS_TARGET_RATIO = 4.0

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import brokerport": ["-c", "import brokerport"],
    "brokerport plugins": ["-m", "brokerport", "plugins"],
}


def run(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one subprocess, in ms; a failing command stops the bench."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    elapsed = (time.perf_counter() - start) * 1000.0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return elapsed


def prepare(mode: str, prefix: Path) -> dict[str, str]:
    """The environment for ``mode``, with its bytecode cache ready under ``prefix``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    for argv in COMMANDS.values():  # warm-up: writes the .pyc of everything imported
        run(argv, env)
    if mode == "source":
        for project_dir in PROJECT_DIRS:
            # the prefix mirrors absolute paths: <prefix>/<path without its root>
            mirror = prefix / project_dir.relative_to(project_dir.anchor)
            shutil.rmtree(mirror, ignore_errors=True)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def measure(mode: str, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="brokerport-bench-") as tmp:
        env = prepare(mode, Path(tmp))
        times: dict[str, list[float]] = {label: [] for label in COMMANDS}
        for _ in range(rounds):
            for label, argv in COMMANDS.items():  # interleaved: each round sees the same load
                times[label].append(run(argv, env))
    return {label: statistics.median(values) for label, values in times.items()}


def report(mode: str, medians: dict[str, float], rounds: int) -> bool:
    base = medians["python -c pass"]
    added = medians["import brokerport"] - base
    ratio = medians["brokerport plugins"] / base
    what = {
        "cached": "bytecode cached (.pyc for every module, as after a first run)",
        "source": "repository sources compiled on every run (PYTHONDONTWRITEBYTECODE=1)",
    }[mode]
    print(f"[{mode}] {what}; median of {rounds} interleaved rounds")
    for label, ms in medians.items():
        print(f"  {label:<20} {ms:8.1f} ms")
    ok_import = added <= IMPORT_TARGET_MS
    ok_plugins = ratio <= PLUGINS_TARGET_RATIO
    print(
        f"  import brokerport adds {added:6.1f} ms  "
        f"(target <= {IMPORT_TARGET_MS:.0f} ms: {'ok' if ok_import else 'MISSED'})"
    )
    print(
        f"  brokerport plugins     {ratio:6.2f} x bare python  "
        f"(target <= {PLUGINS_TARGET_RATIO:.0f}x: {'ok' if ok_plugins else 'MISSED'})"
    )
    return ok_import and ok_plugins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (21)")
    parser.add_argument(
        "--bytecode",
        choices=("both", "cached", "source"),
        default="both",
        help="which bytecode situation to measure (both)",
    )
    args = parser.parse_args()
    modes = ["cached", "source"] if args.bytecode == "both" else [args.bytecode]
    print(f"python {sys.version.split()[0]} at {sys.executable}")
    for mode in modes:
        report(mode, measure(mode, args.rounds), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
