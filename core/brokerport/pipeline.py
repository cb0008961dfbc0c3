"""The one request pipeline.

::

    validate -> before_request hook -> [attempt loop:
        rate limiter -> signer (fresh clock) -> transport -> envelope decoder
        -> error map -> retry / recover / UnknownOutcome]
    -> cattrs structure -> after_response / on_error hooks

Every step's failure leaves as a :class:`~brokerport.errors.BrokerportError`.
Bytes are fixed before the loop (what is signed is what is sent, and an
idempotency key is minted once); signing happens inside the loop so each
attempt carries a fresh timestamp.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .adapter import VendorFault
from .catalog import CONTROL_CHARS, Endpoint
from .errors import (
    AuthenticationError,
    BrokerportError,
    DecodeError,
    InvalidRequest,
    RateLimited,
    Timeout,
    UnknownOutcome,
    VendorUnavailable,
)
from .signing import Signer
from .transport import TransportFailure
from .types import REDACTED, Secret, redact_payload

if TYPE_CHECKING:
    from .adapter import Adapter
    from .client import Client
    from .ratelimit import Limiter

__all__ = ["Call", "ResponseInfo", "RetryPolicy"]

log = logging.getLogger("brokerport.pipeline")
T = TypeVar("T")
_ids = itertools.count(1)


@attrs.frozen(slots=True)
class RetryPolicy:
    """Retries for transient failures of idempotent requests.

    Exponential backoff with full jitter, and a client-wide retry budget
    (botocore's "standard" quota): each retry spends tokens, each success
    refunds one, so a failing vendor is not hammered.
    """

    max_attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 2.0
    budget: int = 100
    retry_cost: int = 5
    timeout_cost: int = 10

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RetryBudget:
    __slots__ = ("capacity", "tokens")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tokens = capacity

    def spend(self, cost: int) -> bool:
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def refund(self) -> None:
        if self.tokens < self.capacity:
            self.tokens += 1


def _redact_params(params: Mapping[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    return {
        k: REDACTED if (k in sensitive or isinstance(v, Secret)) else v for k, v in params.items()
    }


class Call:
    """One logical call, as hooks see it. ``params`` and ``headers`` are
    mutable in ``before_request``; ``credentials`` is a redacted view."""

    __slots__ = (
        "attempts",
        "call_id",
        "credentials",
        "endpoint",
        "headers",
        "idempotency_key",
        "params",
        "started",
        "vendor",
    )

    def __init__(
        self,
        vendor: str,
        endpoint: Endpoint,
        params: dict[str, Any],
        credentials: Mapping[str, str],
    ) -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        self.params = params
        self.headers: dict[str, str] = {}
        self.credentials = credentials
        self.idempotency_key: str | None = None
        self.attempts = 0
        self.call_id = next(_ids)
        self.started = time.monotonic()

    def redacted_params(self) -> dict[str, Any]:
        return _redact_params(self.params, self.endpoint.sensitive_names)

    def __repr__(self) -> str:
        return f"Call({self.vendor}:{self.endpoint.name} {self.redacted_params()!r})"


@attrs.frozen(slots=True)
class ResponseInfo:
    status: int
    headers: Mapping[str, str]
    elapsed: float
    attempts: int


class Pipeline:
    """Runs calls for one client. Not used directly by hosts."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.adapter: Adapter = client.adapter
        self.vendor = client.vendor
        self.signer = client.signer
        self.transport = client.transport
        self.limiters = client.limiters
        self.retry = client.retry_policy
        self.budget = RetryBudget(self.retry.budget)
        self.rng = random.Random()
        self.scope = client.limiter_scope
        self.hooks = client.hooks
        self._sensitive_headers = frozenset(self.signer.sensitive_headers)
        # per-call lookups done once: endpoints by name, limiters, structure hooks
        self._endpoints = {name: self.adapter.endpoint(name) for name in self.adapter.catalog()}
        self._limiter_for: dict[str, Limiter | None] = {}
        self._hook_for: dict[Any, Callable[[Any, Any], Any]] = {}
        # skip awaiting a no-op prepare() on the hot path
        self._prepare = None if type(self.signer).prepare is Signer.prepare else self.signer.prepare

    async def invoke(
        self,
        name: str,
        params: Mapping[str, Any],
        *,
        into: type[T] | Any = None,
        idempotency_key: str | None = None,
        read: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Run one catalog endpoint. ``into`` structures the payload with the
        vendor's converter; ``read`` (a binding's reader) turns it into the
        result. Either runs inside the call: an answer to a write that cannot
        be read is ``UnknownOutcome``, to a read ``DecodeError``."""
        # One flat coroutine on purpose: every await level is paid again on each
        # suspension, and this runs once per request (see bench/overhead.py).
        adapter = self.adapter
        endpoint = self._endpoints.get(name) or adapter.endpoint(name)
        hooks = self.hooks
        call = Call(self.vendor, endpoint, dict(params), hooks.credentials)
        try:
            # ---- validate and fix the bytes, once
            if endpoint.idempotency_param:
                key = call.params.get(endpoint.idempotency_param) or idempotency_key
                if not key:
                    key = adapter.mint_idempotency_key(endpoint)
                call.params[endpoint.idempotency_param] = key
                call.idempotency_key = str(key)
            if hooks.before_request:
                hooks.pm.hook.brokerport_before_request(call=call)
                for hname, hvalue in call.headers.items():
                    if CONTROL_CHARS.search(f"{hname}{hvalue}"):
                        raise InvalidRequest(
                            f"header {hname!r} holds a control character", field=hname
                        )
            endpoint.validate(call.params, vendor=self.vendor)
            try:
                request = adapter.build_request(endpoint, call.params, call.headers)
            except BrokerportError:
                raise
            except (ValueError, TypeError, KeyError) as exc:
                raise InvalidRequest(
                    f"cannot encode the request: {exc}", vendor=self.vendor, endpoint=endpoint.name
                ) from None
            # ---- attempts: limiter, sign (fresh clock), send, decode, map errors
            try:
                limiter = self._limiter_for[endpoint.name]
            except KeyError:
                limiter = self._limiter_for[endpoint.name] = self.limiters.for_endpoint(
                    endpoint, self.scope
                )
            retry = self.retry
            client = self.client
            signer = self.signer
            # public endpoints are never signed and never wait for credentials
            # (a token refresh is itself a public call: no deadlock)
            public = endpoint.auth == "public"
            reauthed = recovered = False
            debug = log.isEnabledFor(logging.DEBUG)
            while True:
                call.attempts += 1
                attempt = call.attempts
                if limiter is not None:
                    await limiter.acquire(endpoint.cost)
                if public:
                    signer.sign_public(request)
                else:
                    if self._prepare is not None:
                        await self._prepare()
                    signer.sign(request, client.clock() + client.clock_offset)
                if debug:
                    log.debug(
                        "-> %s %s %s %s attempt=%d params=%r",
                        self.vendor,
                        endpoint.name,
                        request.method,
                        # never the query text: a sensitive query value would show in clear
                        endpoint.render_path(call.redacted_params()),
                        attempt,
                        call.redacted_params(),
                    )
                error: BrokerportError
                try:
                    raw = await self.transport.send(request)
                except TransportFailure as fail:
                    error = self._transport_error(fail, call, endpoint)
                    if isinstance(error, UnknownOutcome):
                        raise error from None
                    if attempt < retry.max_attempts and self.budget.spend(
                        retry.timeout_cost if fail.kind == "timeout" else retry.retry_cost
                    ):
                        await asyncio.sleep(retry.backoff(attempt, self.rng))
                        continue
                    raise error from None
                if debug:
                    log.debug(
                        "<- %s %s HTTP %d %d bytes",
                        self.vendor,
                        endpoint.name,
                        raw.status,
                        len(raw.body),
                    )
                try:
                    payload = adapter.decode(endpoint, raw)
                except BrokerportError as err:
                    error = err.with_context(http_status=raw.status)
                except VendorFault as fault:
                    if fault.http_status is None:
                        fault.http_status = raw.status
                    error = adapter.error_map.error(
                        fault, vendor=self.vendor, endpoint=endpoint.name
                    )
                except Exception as exc:
                    error = DecodeError(
                        f"cannot read the vendor's answer: {type(exc).__name__}",
                        vendor=self.vendor,
                        http_status=raw.status,
                        endpoint=endpoint.name,
                    )
                else:
                    self.budget.refund()
                    break
                if isinstance(error, DecodeError):
                    # an answer we cannot read: for a write, we cannot know what happened
                    if not endpoint.is_idempotent:
                        raise self._unknown(
                            call, endpoint, f"its answer could not be read (HTTP {raw.status})"
                        )
                    if raw.status >= 500:
                        error = VendorUnavailable(
                            f"the vendor answered HTTP {raw.status}",
                            vendor=self.vendor,
                            http_status=raw.status,
                            endpoint=endpoint.name,
                        )
                # a typed error from the vendor: recover, retry, or raise
                if isinstance(error, UnknownOutcome):
                    raise error
                if not reauthed and not public and isinstance(error, AuthenticationError):
                    reauthed = True
                    if await signer.on_auth_failure(request, error):
                        continue
                if not recovered:
                    recovered = True
                    if await adapter.recover(error, call):
                        continue
                safe = endpoint.is_idempotent or isinstance(error, RateLimited)
                if (
                    error.retryable
                    and safe
                    and attempt < retry.max_attempts
                    and self.budget.spend(retry.retry_cost)
                ):
                    delay = retry.backoff(attempt, self.rng)
                    if isinstance(error, RateLimited) and error.retry_after:
                        delay = max(delay, error.retry_after)
                    await asyncio.sleep(delay)
                    continue
                raise error

            # ---- structure
            result = payload
            if into is not None:
                try:
                    hook = self._hook_for.get(into)
                    if hook is None:
                        hook = self._hook_for[into] = self.client.converter.get_structure_hook(into)
                    result = hook(payload, into)
                except Exception as exc:
                    raise self.unreadable(call, getattr(into, "__name__", str(into)), exc) from None
            if read is not None:
                try:
                    result = read(result)
                except BrokerportError as exc:
                    if endpoint.is_idempotent or isinstance(exc, UnknownOutcome):
                        raise
                    raise self.unreadable(call, "the expected answer", exc) from None
                except Exception as exc:
                    raise self.unreadable(call, "the expected answer", exc) from None
        except BrokerportError as err:
            err.with_context(vendor=self.vendor, endpoint=endpoint.name)
            if hooks.on_error:
                hooks.pm.hook.brokerport_on_error(call=call, error=err)
            raise
        if hooks.after_response:
            shown = redact_payload(result, endpoint.sensitive_response)
            info = ResponseInfo(
                raw.status, raw.headers, time.monotonic() - call.started, call.attempts
            )
            hooks.pm.hook.brokerport_after_response(call=call, response=info, result=shown)
        return result

    def unreadable(self, call: Call | None, what: str, exc: BaseException) -> BrokerportError:
        """The error for a successful answer we cannot structure (in the pipeline or a port)."""
        if call is not None and not call.endpoint.is_idempotent:
            # the vendor accepted a write: re-sending it could do it twice
            return self._unknown(
                call,
                call.endpoint,
                f"its answer could not be read as {what} ({type(exc).__name__})",
            )
        return DecodeError(
            f"cannot read the vendor's answer as {what}: {type(exc).__name__}",
            vendor=self.vendor,
            endpoint=call.endpoint.name if call else None,
        )

    def _unknown(self, call: Call, endpoint: Endpoint, why: str) -> UnknownOutcome:
        reconcile = {
            k: str(v)
            for k, v in call.redacted_params().items()
            if v is not None and not isinstance(v, (dict, list))
        }
        how = endpoint.reconcile or (
            f"look the operation up by {endpoint.idempotency_param}={call.idempotency_key}"
            if call.idempotency_key
            else "look the operation up at the vendor by the fields in reconcile_with "
            "before retrying"
        )
        return UnknownOutcome(
            f"{endpoint.name} was sent but {why}; it may or may not have taken effect",
            vendor=self.vendor,
            endpoint=endpoint.name,
            idempotency_key=call.idempotency_key,
            reconcile_with=reconcile,
            how_to_reconcile=how,
        )

    def _transport_error(
        self, fail: TransportFailure, call: Call, endpoint: Endpoint
    ) -> BrokerportError:
        if fail.maybe_sent and not endpoint.is_idempotent:
            return self._unknown(call, endpoint, f"no answer came back ({fail.detail})")
        if fail.kind == "timeout":
            return Timeout(fail.detail, vendor=self.vendor, endpoint=endpoint.name)
        return VendorUnavailable(fail.detail, vendor=self.vendor, endpoint=endpoint.name)
