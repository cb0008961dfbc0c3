"""A short run of bench/soak.py on every plugin with a sandbox: no write applied
twice, no untyped exception, and every UnknownOutcome reconciled to the truth
(or reported as one the vendor gives no way to tell)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


def _soak() -> Any:
    spec = importlib.util.spec_from_file_location("brokerport_bench_soak", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOAK = _soak()


@pytest.mark.parametrize("vendor", SOAK.vendors_with_sandboxes())
async def test_short_soak(vendor: str) -> None:
    report = await SOAK.soak(vendor, calls=300, fault_rate=0.2, seed=3, concurrency=8)
    text = "\n".join(report.lines())
    assert report.duplicates == 0, text
    assert report.untyped == 0, text
    assert report.reconciled_wrong == 0, text
    assert report.faulted > 20, text
    if vendor in ("okx", "lwork"):  # both declare lookups for their soak writes
        assert report.undecidable == 0, text
        assert report.reconciled_right == report.unknown, text


async def test_the_soak_catches_a_plugin_that_resends_writes() -> None:
    """Negative control: acme-broken marks withdrawals idempotent, so lost answers
    are resent and applied twice; the soak must count them."""
    assert "acme-broken" in SOAK.vendors_with_sandboxes(broken=True)
    report = await SOAK.soak("acme-broken", calls=300, fault_rate=0.3, seed=3, concurrency=8)
    assert report.duplicates > 0
