"""Keep one CPU core busy from another process while a benchmark runs.

    with busy_core(): ...     # or: python bench/busy.py  (until interrupted)

The rate-limit figures are taken with and without it: a limiter that guesses
a margin for jitter trips a vendor's window when the event loop is late; one
that holds each slot until the answer is in does not.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

SPIN = "while True:\n    pass\n"


@contextlib.contextmanager
def busy_core(enabled: bool = True) -> Iterator[None]:
    if not enabled:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        yield
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    with busy_core(), contextlib.suppress(KeyboardInterrupt):
        subprocess.run([sys.executable, "-c", "import time; time.sleep(1e9)"], check=False)
