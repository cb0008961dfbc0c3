"""The event loop the ``brokerport`` command, the demo and the benchmarks run on.

``pip install 'brokerport[speed]'`` adds uvloop; when it is importable,
:func:`run` uses it (``bench/compare.py`` measures both loops). The
environment variable ``BROKERPORT_LOOP=asyncio`` keeps the standard loop.
Library code never picks a loop: a host's ``asyncio.run`` (or its own
``asyncio.Runner(loop_factory=uvloop.new_event_loop)``) decides.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "loop_name", "run"]

T = TypeVar("T")
ENV = "BROKERPORT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when it is installed and not switched off, else None
    (the standard loop)."""
    if os.environ.get(ENV, "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # the optional speed extra
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name(factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> str:
    factory = loop_factory() if factory is None else factory
    return "asyncio" if factory is None else factory.__module__.split(".")[0]


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the fastest installed loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
