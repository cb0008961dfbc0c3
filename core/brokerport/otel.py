"""OpenTelemetry for brokerport calls, as a hook plugin (``pip install 'brokerport[otel]'``).

One span per logical call (retries included) and a few metrics::

    from brokerport.otel import OpenTelemetryHooks

    brokerport.register_hooks(OpenTelemetryHooks())          # every client
    client = brokerport.connect("okx", hooks=[OpenTelemetryHooks()])  # one client

The span is ``brokerport VENDOR ENDPOINT`` (kind CLIENT, child of whatever
span is current when the call starts) with the attributes

* ``brokerport.vendor``, ``brokerport.endpoint``, ``http.request.method``,
  ``brokerport.idempotent``;
* at the end: ``brokerport.attempts``, ``brokerport.outcome`` (``ok`` or the
  error class: ``RateLimited``, ``UnknownOutcome``, ...),
  ``brokerport.vendor_code``, ``brokerport.retry_after`` (seconds, when the
  vendor or the limiter said), ``http.response.status_code``,
  ``brokerport.limiter.wait`` (seconds spent waiting for rate-limit slots);
  an error sets the span's status to ERROR with the error class.

Metrics: ``brokerport.calls`` (counter; vendor, endpoint, outcome),
``brokerport.errors`` (counter; vendor, endpoint, error class),
``brokerport.limiter.wait`` (histogram, s; vendor, endpoint) and
``brokerport.call.duration`` (histogram, s; vendor, endpoint, outcome).

Never a secret: no parameter, header, credential or answer is recorded —
names, counts, codes and times only (an error's message is not recorded
either: it may quote the vendor).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .hookspec import hookimpl

if TYPE_CHECKING:
    from .errors import BrokerportError
    from .pipeline import HookCall, ResponseInfo

__all__ = ["OpenTelemetryHooks"]

#: spans of calls that never ended (a cancelled call runs no end hook) are
#: dropped past this many open at once
MAX_OPEN = 10_000


class OpenTelemetryHooks:
    """The hook plugin; ``tracer_provider``/``meter_provider`` default to the global ones."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer("brokerport", tracer_provider=tracer_provider)
        meter = metrics.get_meter("brokerport", meter_provider=meter_provider)
        self.calls = meter.create_counter(
            "brokerport.calls", unit="{call}", description="logical calls, by outcome"
        )
        self.errors = meter.create_counter(
            "brokerport.errors", unit="{call}", description="failed calls, by error class"
        )
        self.limiter_wait = meter.create_histogram(
            "brokerport.limiter.wait", unit="s", description="time waiting for rate-limit slots"
        )
        self.duration = meter.create_histogram(
            "brokerport.call.duration", unit="s", description="logical call time, retries included"
        )
        self._open: OrderedDict[tuple[int, int], tuple[trace.Span, float]] = OrderedDict()

    def _start(self, call: HookCall) -> tuple[trace.Span, float]:
        span = self.tracer.start_span(
            f"brokerport {call.vendor} {call.endpoint.name}",
            kind=SpanKind.CLIENT,
            attributes={
                "brokerport.vendor": call.vendor,
                "brokerport.endpoint": call.endpoint.name,
                "http.request.method": call.endpoint.method,
                "brokerport.idempotent": call.endpoint.is_idempotent,
            },
        )
        return span, time.monotonic()

    @hookimpl
    def brokerport_before_request(self, call: HookCall) -> None:
        key = (id(self), call.call_id)
        self._open[key] = self._start(call)
        while len(self._open) > MAX_OPEN:
            _, (span, _) = self._open.popitem(last=False)
            span.set_attribute("brokerport.outcome", "abandoned")
            span.end()

    def _finish(
        self,
        call: HookCall,
        outcome: str,
        status: int | None,
        error: BrokerportError | None = None,
    ) -> None:
        started = self._open.pop((id(self), call.call_id), None)
        span, t0 = started if started is not None else self._start(call)
        attrs: dict[str, Any] = {
            "brokerport.attempts": call.attempts,
            "brokerport.outcome": outcome,
            "brokerport.limiter.wait": float(getattr(call, "limiter_wait", 0.0)),
        }
        if status is not None:
            attrs["http.response.status_code"] = status
        if error is not None:
            if error.vendor_code is not None:
                attrs["brokerport.vendor_code"] = str(error.vendor_code)
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None:
                attrs["brokerport.retry_after"] = float(retry_after)
            span.set_status(Status(StatusCode.ERROR, outcome))
        span.set_attributes(attrs)
        span.end()
        labels = {"brokerport.vendor": call.vendor, "brokerport.endpoint": call.endpoint.name}
        self.calls.add(1, {**labels, "brokerport.outcome": outcome})
        if error is not None:
            self.errors.add(1, {**labels, "error.type": outcome})
        self.limiter_wait.record(attrs["brokerport.limiter.wait"], labels)
        self.duration.record(time.monotonic() - t0, {**labels, "brokerport.outcome": outcome})

    @hookimpl
    def brokerport_after_response(
        self, call: HookCall, response: ResponseInfo, result: Any
    ) -> None:
        self._finish(call, "ok", response.status or None)

    @hookimpl
    def brokerport_on_error(self, call: HookCall, error: BrokerportError) -> None:
        self._finish(call, type(error).__name__, error.http_status, error)
