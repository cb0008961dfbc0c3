"""The ``brokerport`` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import brokerport
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.profile import Profile
from brokerport.registry import load_adapter

CMD = [sys.executable, "-m", "brokerport"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_plugins_lists_every_installed_plugin_with_ports() -> None:
    out = run("plugins")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for name in ("acme", "okx", "lwork"):
        assert f"\n{name}  (brokerport-{name.split('-')[0]} " in "\n" + text
    assert "subaccounts  create, delete, list" in text  # acme's declared ops
    assert "trading      open_orders, order_history, positions" in text  # lwork: read-only
    assert "extensions   okx.oauth, okx.rebates" in text
    assert "LOAD ERROR" not in text


@pytest.mark.parametrize("sub", ["", "plugins", "demo", "sandbox", "conformance"])
def test_help_everywhere(sub: str) -> None:
    out = run(*([sub] if sub else []), "--help")
    assert out.returncode == 0
    assert "usage: brokerport" in out.stdout
    assert "-h, --help" in out.stdout


def test_no_command_prints_help_and_fails() -> None:
    out = run()
    assert out.returncode == 2
    assert "COMMAND" in out.stdout


def test_unknown_plugin_is_a_clean_error() -> None:
    out = run("demo", "nosuchvendor")
    assert out.returncode == 1
    assert "nosuchvendor" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_demo_walks_a_plugin_on_its_sandbox() -> None:
    out = run("demo", "acme")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "acme: sandbox at http://127.0.0.1:" in out.stdout
    assert "✓ subaccounts.create" in out.stdout
    assert "✓ funding.request_deposit" in out.stdout
    assert "NotSupported, no request sent" in out.stdout
    assert ", 0 failures" in out.stdout
    assert "demo finished: all plugins walked cleanly" in out.stdout


async def test_sandbox_command_serves_a_sandbox_a_client_can_use() -> None:
    proc = await asyncio.create_subprocess_exec(
        *CMD,
        "sandbox",
        "acme",
        "--seconds",
        "30",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("Ctrl-C"):
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "sandbox exited early: " + "".join(lines)
            lines.append(line.decode().strip())
        url = lines[0].rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        creds = dict(line.split(" = ", 1) for line in lines if " = " in line)
        assert set(creds) >= {"api_key", "secret_key"}
        assert any(line.startswith("POST") and "/v1/subaccounts" in line for line in lines)
        # a client given only what was printed
        profile = Profile(vendor="acme", base_url=url, credentials=creds)
        async with Client(load_adapter("acme"), profile) as client:
            sub = await client.subaccounts.create(m.CreateSubAccount(name="fromcli"))
            assert sub.name == "fromcli"
        # and a wrong secret is refused by it
        bad = Profile(vendor="acme", base_url=url, credentials={**creds, "secret_key": "nope"})
        async with Client(load_adapter("acme"), bad) as client:
            with pytest.raises(brokerport.AuthenticationError):
                await client.subaccounts.create(m.CreateSubAccount(name="fromcli2"))
    finally:
        proc.terminate()
        await proc.wait()


def test_conformance_passes_a_good_plugin_and_fails_a_broken_one() -> None:
    good = run("conformance", "acme", timeout=300)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "brokerport conformance: acme" in good.stdout
    assert "0 failed" in good.stdout
    # skipped contracts name the operations the plugin does not declare
    assert "skipped  acme does not declare keys.create" in good.stdout

    broken = run("conformance", "acme-broken", timeout=300)
    assert broken.returncode == 1
    rows = {
        word: line
        for line in broken.stdout.splitlines()
        for word in line.split()
        if word.startswith("test_")
    }
    # it lets an undeclared operation through, and re-sends a non-idempotent write
    assert "FAILED" in rows["test_undeclared_operations_raise_not_supported_without_io"]
    assert "FAILED" in rows["test_lost_write_is_unknown_outcome_never_repeated"]
    assert "passed" in rows["test_capabilities_are_declared_operations"]


def test_conformance_kit_ships_inside_the_installed_package() -> None:
    import brokerport.testing.conformance as kit

    assert Path(kit.__file__).is_relative_to(Path(brokerport.__file__).parent)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, check=False
    )
    assert "--brokerport-vendor" in out.stdout  # registered through pytest11


async def test_limiter_max_wait_raises_rate_limited_instead_of_sleeping() -> None:
    from brokerport.catalog import RateLimit
    from brokerport.ratelimit import Limiter

    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = Limiter(
        RateLimit(1, 3600.0, margin=0.0), clock=lambda: now[0], sleep=fake_sleep, max_wait=60.0
    )
    await limiter.acquire()
    with pytest.raises(brokerport.RateLimited) as info:
        await limiter.acquire()
    assert info.value.retry_after == pytest.approx(3600.0)
    assert slept == []
    # without max_wait it waits (on the injected clock) for the window to pass
    patient = Limiter(RateLimit(2, 1.0, margin=0.25), clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(3):
        await patient.acquire()
        patient.release()  # answered at once
    assert slept == [pytest.approx(1.25)]
