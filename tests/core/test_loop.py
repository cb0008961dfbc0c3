"""brokerport.loop: uvloop (brokerport[speed]) when installed, else asyncio."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest
from brokerport import loop


def _fake_uvloop(monkeypatch: pytest.MonkeyPatch) -> list[asyncio.AbstractEventLoop]:
    made: list[asyncio.AbstractEventLoop] = []

    def new_event_loop() -> asyncio.AbstractEventLoop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    new_event_loop.__module__ = "uvloop"
    fake = types.ModuleType("uvloop")
    fake.new_event_loop = new_event_loop  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "uvloop", fake)
    return made


def test_uses_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loop.ENV, raising=False)
    made = _fake_uvloop(monkeypatch)
    assert loop.loop_name() == "uvloop"

    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert loop.run(where()) is made[0]


def test_standard_loop_without_uvloop_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # not installed
    assert loop.loop_factory() is None and loop.loop_name() == "asyncio"
    _fake_uvloop(monkeypatch)
    monkeypatch.setenv(loop.ENV, "asyncio")
    assert loop.loop_factory() is None

    async def answer() -> int:
        return 42

    assert loop.run(answer()) == 42
