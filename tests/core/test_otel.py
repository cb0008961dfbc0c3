"""brokerport.otel: one span per logical call and metrics, with the SDK's in-memory exporters."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from brokerport.client import Client
from brokerport.errors import NotFound, RateLimited
from brokerport.otel import OpenTelemetryHooks
from brokerport.pipeline import RetryPolicy
from brokerport.ratelimit import LimiterRegistry
from fakex_vendor import CREDENTIALS, FAST_RETRY, Fakex, FakexSandbox
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode


def otel() -> tuple[OpenTelemetryHooks, InMemorySpanExporter, InMemoryMetricReader]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    hooks = OpenTelemetryHooks(tracer_provider, MeterProvider(metric_readers=[reader]))
    return hooks, exporter, reader


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out[metric.name] = list(metric.data.data_points)
    return out


async def test_one_span_per_call_with_outcome_and_metrics(sandbox: FakexSandbox) -> None:
    hooks, exporter, reader = otel()
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[hooks]) as client:
        await client.call("sub.create", name="otel01", trade_password="s3cr3t-Pass!")
        with pytest.raises(NotFound):
            await client.call("account.get", account_id="missing")
    ok, failed = exporter.get_finished_spans()
    assert ok.name == "brokerport fakex sub.create"
    assert ok.attributes is not None and failed.attributes is not None
    assert ok.attributes["brokerport.outcome"] == "ok"
    assert ok.attributes["brokerport.attempts"] == 1
    assert ok.attributes["http.response.status_code"] == 200
    assert ok.attributes["brokerport.idempotent"] is False
    assert failed.attributes["brokerport.outcome"] == "NotFound"
    assert failed.attributes["brokerport.vendor_code"] == "51603"
    assert failed.status.status_code is StatusCode.ERROR
    # never a secret: no parameter, credential or answer anywhere in what is exported
    exported = repr([dict(s.attributes or {}) for s in (ok, failed)])
    for secret in ("s3cr3t-Pass!", *CREDENTIALS.values()):
        assert secret not in exported
    got = points(reader)
    calls = {p.attributes["brokerport.outcome"]: p.value for p in got["brokerport.calls"]}
    assert calls == {"ok": 1, "NotFound": 1}
    assert [p.attributes["error.type"] for p in got["brokerport.errors"]] == ["NotFound"]
    assert sum(p.count for p in got["brokerport.limiter.wait"]) == 2
    assert sum(p.count for p in got["brokerport.call.duration"]) == 2


async def test_retry_after_and_limiter_wait_are_recorded(sandbox: FakexSandbox) -> None:
    """A vendor refusal carries retry-after; a client-side wait shows as limiter wait
    (injected clock and sleep: nothing waits for real)."""
    hooks, exporter, _ = otel()
    now = [0.0]

    async def fake_sleep(delay: float) -> None:
        now[0] += delay

    class NoLimits(LimiterRegistry):
        def for_endpoint(self, endpoint: Any, scope: str = "") -> None:
            return None

    async with Client(
        Fakex,
        sandbox.profile(),
        limiters=NoLimits(),
        retry=RetryPolicy(max_attempts=1),
        hooks=[hooks],
    ) as client:
        await client.call("limited")
        await client.call("limited")
        with pytest.raises(RateLimited):
            await client.call("limited")
    refused = exporter.get_finished_spans()[-1]
    assert refused.attributes is not None
    assert refused.attributes["brokerport.outcome"] == "RateLimited"
    assert refused.attributes["brokerport.retry_after"] == pytest.approx(0.05)
    assert refused.attributes["http.response.status_code"] == 429

    exporter.clear()
    sandbox.enforce_rate_limits = False
    limiters = LimiterRegistry(clock=lambda: now[0], sleep=fake_sleep)
    async with Client(
        Fakex, sandbox.profile(), limiters=limiters, retry=FAST_RETRY, hooks=[hooks]
    ) as client:
        for _ in range(3):  # 2/s: the third waits a window after the first answer
            await client.call("limited")
    waits = [s.attributes["brokerport.limiter.wait"] for s in exporter.get_finished_spans()]
    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(1.0)
