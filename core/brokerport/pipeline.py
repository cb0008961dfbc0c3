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
import copy
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .adapter import VendorFault
from .catalog import CONTROL_CHARS, Endpoint
from .errors import (
    AuthenticationError,
    BrokerportError,
    ClientClosed,
    DecodeError,
    InvalidRequest,
    RateLimited,
    Timeout,
    UnknownOutcome,
    VendorUnavailable,
)
from .outbox import OutboxEntry
from .signing import Signer
from .transport import MAX_ANSWER_BYTES, RawResponse, TransportFailure
from .types import REDACTED, Secret, redact_payload, wrap_secrets

if TYPE_CHECKING:
    from .adapter import Adapter
    from .client import Client
    from .ratelimit import Limiter
    from .reconcile import Reconciliation

__all__ = ["Call", "HookCall", "RedactedParams", "ResponseInfo", "RetryPolicy"]

log = logging.getLogger("brokerport.pipeline")
#: A prefilter for :func:`wrap_secrets`: every name in types.SENSITIVE_FIELDS
#: contains one of these stems, in any case, with any "_"/"-" inside (as names
#: are compared); tests/core/test_hook_secrets.py checks the list covers them.
CREDENTIAL_STEMS = ("secret", "passphrase", "password", "token", "private", "sign")
_STEM_BYTES = tuple(stem.encode() for stem in CREDENTIAL_STEMS)


def _MAY_HOLD_CREDENTIAL(body: bytes) -> bool:
    """Whether a stem shows in ``body``, in any case, with any "_"/"-" inside.

    ASCII lower-casing and deleting every "_" and "-" first (both C speed) leaves
    plain substring searches: ~1 µs for a typical answer, where the equivalent
    regular expression took ~40 µs."""
    text = body.lower().translate(None, b"_-")
    # unrolled (no generator frame per answer); a test holds it to CREDENTIAL_STEMS
    return (
        b"secret" in text
        or b"passphrase" in text
        or b"password" in text
        or b"token" in text
        or b"private" in text
        or b"sign" in text
    )


T = TypeVar("T")
_ids = itertools.count(1)


@attrs.frozen(slots=True)
class RetryPolicy:
    """Retries for transient failures of idempotent requests.

    Exponential backoff with full jitter, and a client-wide retry budget that
    follows botocore's "standard" retry quota: a capacity of ``budget`` tokens
    (500, as botocore's), each retry spends ``retry_cost`` (5; ``timeout_cost``,
    10, after a timeout), and a call that succeeds gives back what its retries
    spent — or ``success_refund`` (1) when it needed none — never above the
    capacity. So only calls that fail for good drain the budget: under a steady
    fault rate it stays full, and under an outage it empties after about
    ``budget / (retry_cost * (max_attempts - 1))`` failing calls (50), after
    which failures are raised at once until successes refill it.
    """

    max_attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 2.0
    budget: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    success_refund: int = 1

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

    def refund(self, amount: int = 1) -> None:
        self.tokens = min(self.capacity, self.tokens + amount)


def _shown_param(name: str, value: Any, sensitive: frozenset[str]) -> tuple[Any, bool]:
    """What a hook sees of one parameter, and whether that hides something."""
    if name in sensitive or isinstance(value, Secret):
        return REDACTED, True
    if isinstance(value, (dict, list, tuple)):
        shown = redact_payload(list(value) if isinstance(value, tuple) else value)
        if isinstance(value, tuple):
            shown = tuple(shown)
        if shown != value:  # a Secret or a credential field inside: a redacted copy
            return shown, True
    return value, False


def _redact_params(params: Mapping[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k in sensitive or isinstance(v, Secret):
            out[k] = REDACTED
        elif isinstance(v, (dict, list, tuple)):
            out[k] = _shown_param(k, v, sensitive)[0]
        else:
            out[k] = v
    return out


class RedactedParams(MutableMapping[str, Any]):
    """A call's parameters as hooks see them.

    Reads show each sensitive parameter of the endpoint and each
    :class:`~brokerport.types.Secret` as ``"***"`` (a list or dict holding
    one, as a redacted copy). Writes and deletions are recorded and applied to
    the real parameters after ``before_request``; writing ``"***"`` (or the
    redacted copy just read) back to a hidden parameter changes nothing. The
    view is built from a redacted copy and keeps no reference to the real
    parameters, so no attribute of it leads to a secret.
    """

    __slots__ = ("_deleted", "_hidden", "_sensitive", "_set", "_shown")

    def __init__(self, params: Mapping[str, Any], sensitive: frozenset[str]) -> None:
        self._sensitive = sensitive
        self._shown: dict[str, Any] = {}
        self._hidden: dict[str, Any] = {}  # name -> the redacted value shown for it
        self._set: dict[str, Any] = {}
        self._deleted: set[str] = set()
        for name, value in params.items():
            self._show(name, value)

    def _show(self, name: str, value: Any) -> None:
        shown, hidden = _shown_param(name, value, self._sensitive)
        self._shown[name] = shown
        if hidden:
            self._hidden[name] = shown
        else:
            self._hidden.pop(name, None)

    def __getitem__(self, name: str) -> Any:
        return self._shown[name]

    def __setitem__(self, name: str, value: Any) -> None:
        if (name in self._hidden or name in self._sensitive) and (
            (isinstance(value, str) and value == REDACTED)
            or (name in self._hidden and value is self._hidden[name])
        ):
            return  # the redaction read back: the real value stays
        self._set[name] = value
        self._deleted.discard(name)
        self._show(name, value)

    def __delitem__(self, name: str) -> None:
        del self._shown[name]
        self._hidden.pop(name, None)
        self._set.pop(name, None)
        self._deleted.add(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._shown)

    def __len__(self) -> int:
        return len(self._shown)

    def __contains__(self, name: object) -> bool:
        return name in self._shown

    def __repr__(self) -> str:
        return repr(self._shown)

    def copy(self) -> dict[str, Any]:
        return dict(self._shown)

    def _apply_to(self, params: MutableMapping[str, Any]) -> None:
        for name in self._deleted:
            params.pop(name, None)
        params.update(self._set)
        self._deleted.clear()
        self._set.clear()


class Call:
    """One logical call.

    The pipeline's own Call holds the real parameters; hooks never get it:
    they get :meth:`for_hooks`, a :class:`HookCall` whose ``params`` is a
    :class:`RedactedParams` view and whose ``credentials`` are redacted.
    """

    __slots__ = (
        "_view",
        "attempts",
        "call_id",
        "credentials",
        "endpoint",
        "headers",
        "idempotency_key",
        "limiter_wait",
        "maybe_sent",
        "params",
        "spent",
        "started",
        "vendor",
    )

    params: MutableMapping[str, Any]

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
        self._view: HookCall | None = None
        #: retry-budget tokens this call's retries spent (refunded on success)
        self.spent = 0
        #: an attempt of this call may have reached the vendor
        self.maybe_sent = False
        #: seconds this call waited for rate-limit slots
        self.limiter_wait = 0.0

    def redacted_params(self) -> dict[str, Any]:
        return _redact_params(self.params, self.endpoint.sensitive_names)

    def for_hooks(self) -> HookCall:
        """The call as hooks see it (one object per call, brought up to date)."""
        view = self._view
        if view is None:
            view = self._view = HookCall(self)
        else:
            view._refresh(self)
        return view

    def take_hook_changes(self) -> None:
        """Apply what ``before_request`` hooks set: parameters, headers, idempotency key."""
        view = self._view
        if view is None:
            return
        view._params._apply_to(self.params)
        self.headers = view.headers
        self.idempotency_key = view.idempotency_key

    def __repr__(self) -> str:
        return f"Call({self.vendor}:{self.endpoint.name} {self.redacted_params()!r})"


class HookCall(Call):
    """A :class:`Call` as hooks see it: ``params`` is a :class:`RedactedParams`.

    It holds no secret: the parameters are a redacted copy that records
    writes, the credentials a redacted view. Assigning ``call.params`` a new
    mapping sets and deletes keys through the view.
    """

    __slots__ = ("_params",)

    def __init__(self, call: Call) -> None:
        # not Call.__init__: a HookCall never holds the real parameters
        self.vendor = call.vendor
        self.endpoint = call.endpoint
        self.credentials = call.credentials
        self.call_id = call.call_id
        self.started = call.started
        self._view = None
        self._refresh(call)

    def _refresh(self, call: Call) -> None:
        self._params = RedactedParams(call.params, call.endpoint.sensitive_names)
        self.headers = call.headers
        self.idempotency_key = call.idempotency_key
        self.attempts = call.attempts
        self.limiter_wait = call.limiter_wait

    @property
    def params(self) -> RedactedParams:
        return self._params

    @params.setter
    def params(self, value: Mapping[str, Any]) -> None:
        view = self._params
        for name in [n for n in view if n not in value]:
            del view[name]
        view.update(value)

    def for_hooks(self) -> HookCall:
        return self


#: stands for the answer of a write settled by a lookup (no HTTP answer of its own)
_SETTLED = RawResponse(200, {}, b"")


def _money_params(endpoint: Endpoint) -> tuple[tuple[str, Callable[[Any], str]], ...]:
    """(param, canonical text) for each parameter with a money rule."""
    out = []
    for p in endpoint.params:
        for rule in p.rules:
            canonical = getattr(rule, "canonical", None)
            if canonical is not None:
                out.append((p.name, canonical))
                break
    return tuple(out)


def _text_params(call: Call) -> dict[str, str]:
    return {
        k: str(v)
        for k, v in call.redacted_params().items()
        if v is not None and not isinstance(v, (dict, list, tuple))
    }


def _hook_result(result: Any, extra: frozenset[str], depth: int = 3) -> Any:
    """``result`` as hooks see it: credential fields and Secrets redacted (bounded depth)."""
    if isinstance(result, (dict, list)):
        return redact_payload(result, extra)
    if isinstance(result, Secret):
        return REDACTED
    if depth <= 0:
        return result
    if isinstance(result, tuple):
        items = tuple(_hook_result(r, extra, depth - 1) for r in result)
        return result if all(a is b for a, b in zip(items, result, strict=True)) else items
    if attrs.has(type(result)):
        changes: dict[str, Any] = {}
        for field in attrs.fields(type(result)):
            value = getattr(result, field.name)
            if isinstance(value, Secret):
                changes[field.name] = Secret(REDACTED)  # keeps the field's type
            elif isinstance(value, tuple) or attrs.has(type(value)):
                shown = _hook_result(value, extra, depth - 1)
                if shown is not value:
                    changes[field.name] = shown
        if changes:
            result = copy.copy(result)  # frozen: set on the copy only
            for name, value in changes.items():
                object.__setattr__(result, name, value)
    return result


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
        self._money_for: dict[str, tuple[tuple[str, Callable[[Any], str]], ...]] = {}
        self._max_answer: int = getattr(
            getattr(self.transport, "settings", None), "max_answer_bytes", MAX_ANSWER_BYTES
        )
        #: set by close(): no new attempt starts
        self.closed = False
        self._inflight: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[Any]] = set()

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
        if self.closed:
            raise ClientClosed(f"the {self.vendor} client is closed", vendor=self.vendor)
        adapter = self.adapter
        endpoint = self._endpoints.get(name) or adapter.endpoint(name)
        hooks = self.hooks
        call = Call(self.vendor, endpoint, dict(params), hooks.credentials)
        # in-flight calls, so that aclose() can end them (a nested sub-request
        # of the same task is covered by the outer call)
        task = asyncio.current_task()
        owner = task is not None and task not in self._inflight
        if owner:
            self._inflight.add(task)  # type: ignore[arg-type]
        try:
            try:
                # ---- validate and fix the bytes, once
                if endpoint.idempotency_param:
                    key = call.params.get(endpoint.idempotency_param) or idempotency_key
                    if not key:
                        key = adapter.mint_idempotency_key(endpoint)
                    call.params[endpoint.idempotency_param] = key
                    call.idempotency_key = str(key)
                if hooks.before_request:
                    hooks.pm.hook.brokerport_before_request(call=call.for_hooks())
                    call.take_hook_changes()
                    for hname, hvalue in call.headers.items():
                        if CONTROL_CHARS.search(f"{hname}{hvalue}"):
                            raise InvalidRequest(
                                f"header {hname!r} holds a control character", field=hname
                            )
                endpoint.validate(call.params, vendor=self.vendor)
                money = self._money_for.get(endpoint.name)
                if money is None:
                    money = self._money_for[endpoint.name] = _money_params(endpoint)
                for pname, canonical in money:
                    value = call.params.get(pname)
                    if value is not None and value != "":
                        # the wire carries the parsed amount's canonical text, never
                        # the host's spelling of it ("1e2", " 100 ")
                        call.params[pname] = canonical(value)
                try:
                    request = adapter.build_request(endpoint, call.params, call.headers)
                except BrokerportError:
                    raise
                except (ValueError, TypeError, KeyError) as exc:
                    raise InvalidRequest(
                        f"cannot encode the request: {exc}",
                        vendor=self.vendor,
                        endpoint=endpoint.name,
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
                # a write the vendor deduplicates by its idempotency key may be sent
                # again with the same key: a lookup first, a duplicate refusal after
                dup_code = adapter.deduplicates.get(endpoint.name) if call.idempotency_key else None
                # public endpoints are never signed and never wait for credentials
                # (a token refresh is itself a public call: no deadlock)
                public = endpoint.auth == "public"
                reauthed = recovered = False
                debug = log.isEnabledFor(logging.DEBUG)
                while True:
                    if self.closed:
                        raise self._closed_error(call, endpoint)
                    call.attempts += 1
                    attempt = call.attempts
                    if limiter is not None:
                        call.limiter_wait += await limiter.acquire(endpoint.cost)
                    try:
                        if public:
                            signer.sign_public(request)
                        else:
                            if self._prepare is not None:
                                await self._prepare()
                            signer.sign(request, client.clock() + client.clock_offset)
                        if self.closed:
                            raise self._closed_error(call, endpoint)
                    except BaseException:
                        if limiter is not None:  # never sent: the held slot counts from now
                            limiter.release(endpoint.cost)
                        raise
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
                    unknown_why = ""
                    sent_before = call.maybe_sent
                    call.maybe_sent = True
                    try:
                        try:
                            raw = await self.transport.send(request)
                        finally:
                            if limiter is not None:  # answered: the vendor has counted it
                                limiter.release(endpoint.cost)
                    except TransportFailure as fail:
                        if not fail.maybe_sent:
                            call.maybe_sent = sent_before
                        if fail.maybe_sent and not endpoint.is_idempotent:
                            unknown_why = f"no answer came back ({fail.detail})"
                            error = self._unknown(call, endpoint, unknown_why)
                        else:
                            error = self._transport_error(fail, call, endpoint)
                            if attempt < retry.max_attempts and self._spend(
                                call, retry.timeout_cost if fail.kind == "timeout" else 0
                            ):
                                await asyncio.sleep(retry.backoff(attempt, self.rng))
                                continue
                            raise error from None
                    else:
                        if debug:
                            log.debug(
                                "<- %s %s HTTP %d %d bytes",
                                self.vendor,
                                endpoint.name,
                                raw.status,
                                len(raw.body),
                            )
                        try:
                            if len(raw.body) > self._max_answer:
                                raise DecodeError(
                                    f"the answer is larger than {self._max_answer} bytes",
                                    vendor=self.vendor,
                                )
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
                            self.budget.refund(call.spent or retry.success_refund)
                            break
                        unknown_why = self._outcome_unknown(error, endpoint, raw.status)
                        if not unknown_why:
                            # a definite answer: this attempt changed nothing
                            call.maybe_sent = sent_before
                        if isinstance(error, DecodeError) and not unknown_why:
                            if raw.status >= 500:
                                error = VendorUnavailable(
                                    f"the vendor answered HTTP {raw.status}",
                                    vendor=self.vendor,
                                    http_status=raw.status,
                                    endpoint=endpoint.name,
                                )
                        elif isinstance(error, UnknownOutcome) and endpoint.is_idempotent:
                            # "may or may not have succeeded" of a read: a retryable timeout
                            error = Timeout(
                                error.message,
                                vendor=self.vendor,
                                vendor_code=error.vendor_code,
                                vendor_message=error.vendor_message,
                                http_status=error.http_status,
                                endpoint=endpoint.name,
                            )
                    if unknown_why or (
                        dup_code is not None and sent_before and error.vendor_code == dup_code
                    ):
                        # a write that may have been applied: settle it, or raise
                        why = unknown_why or "the vendor refused a resend as a duplicate"
                        if dup_code is None:
                            raise self._vendor_unknown(call, endpoint, why, error)
                        settled = await self._settle(call, endpoint)
                        if settled is not None and settled.status == "applied":
                            payload = settled.result
                            raw = _SETTLED
                            self.budget.refund(call.spent or retry.success_refund)
                            break
                        if (
                            settled is not None
                            and settled.status == "not_applied"
                            and attempt < retry.max_attempts
                            and self._spend(call, 0)
                        ):
                            await asyncio.sleep(retry.backoff(attempt, self.rng))
                            continue
                        raise self._vendor_unknown(call, endpoint, why, error)
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
                        and self._spend(call, 0)
                    ):
                        delay = retry.backoff(attempt, self.rng)
                        if isinstance(error, RateLimited) and error.retry_after:
                            delay = max(delay, error.retry_after)
                        await asyncio.sleep(delay)
                        continue
                    raise error

                # ---- structure
                result = payload
                # a credential the vendor returns is a Secret, as in port models; the
                # byte scan (C speed) spares the walk for the many answers that hold none
                if into is None and (endpoint.sensitive_response or _MAY_HOLD_CREDENTIAL(raw.body)):
                    wrap_secrets(payload, endpoint.sensitive_response)
                if into is not None:
                    try:
                        hook = self._hook_for.get(into)
                        if hook is None:
                            hook = self._hook_for[into] = self.client.converter.get_structure_hook(
                                into
                            )
                        result = hook(payload, into)
                    except Exception as exc:
                        raise self.unreadable(
                            call, getattr(into, "__name__", str(into)), exc
                        ) from None
                if read is not None:
                    try:
                        result = read(result)
                    except BrokerportError as exc:
                        if endpoint.is_idempotent or isinstance(exc, UnknownOutcome):
                            raise
                        raise self.unreadable(call, "the expected answer", exc) from None
                    except Exception as exc:
                        raise self.unreadable(call, "the expected answer", exc) from None
            except asyncio.CancelledError:
                if task is not None and task in self._closing:
                    # aclose() ended this call: a typed error, not a cancellation
                    self._closing.discard(task)
                    task.uncancel()
                    raise self._closed_error(call, endpoint) from None
                if call.maybe_sent and not endpoint.is_idempotent:
                    # the host cancelled a write that may have been applied: record it
                    self._record_soon(
                        self._unknown(call, endpoint, "the call was cancelled after it was sent"),
                        call,
                        "cancelled",
                    )
                raise
            except RecursionError:
                # nothing deep should reach here (answers are bounded), but never a
                # foreign exception: for a write this is an unknown outcome
                raise self.unreadable(call, "bounded data", RecursionError()) from None
        except BrokerportError as err:
            err.with_context(vendor=self.vendor, endpoint=endpoint.name)
            if isinstance(err, UnknownOutcome) and err.outbox_id is None:
                await self._record(err, call, "unknown_outcome")
            if hooks.on_error:
                hooks.pm.hook.brokerport_on_error(call=call.for_hooks(), error=err)
            raise
        finally:
            if owner:
                self._inflight.discard(task)  # type: ignore[arg-type,unused-ignore]
        if hooks.after_response:
            try:
                shown = _hook_result(result, endpoint.sensitive_response)
            except RecursionError:  # answers are bounded in depth; never a foreign error
                shown = REDACTED
            info = ResponseInfo(
                raw.status, raw.headers, time.monotonic() - call.started, call.attempts
            )
            hooks.pm.hook.brokerport_after_response(
                call=call.for_hooks(), response=info, result=shown
            )
        return result

    # ------------------------------------------------------------ helpers

    def _spend(self, call: Call, cost: int) -> bool:
        cost = cost or self.retry.retry_cost
        if self.budget.spend(cost):
            call.spent += cost
            return True
        return False

    def _outcome_unknown(self, error: BrokerportError, endpoint: Endpoint, status: int) -> str:
        """Why an answer leaves a write's outcome unknown ("" when it does not)."""
        if endpoint.is_idempotent:
            return ""
        if isinstance(error, UnknownOutcome):
            # the vendor itself says it may or may not have done it (OKX 50004)
            return f"the vendor answered that its outcome is unknown ({error.vendor_code})"
        if isinstance(error, DecodeError):
            return f"its answer could not be read (HTTP {status})"
        if status >= 500 and not isinstance(error, RateLimited):
            return f"the vendor failed with HTTP {status} after receiving it"
        return ""

    async def _settle(self, call: Call, endpoint: Endpoint) -> Reconciliation | None:
        """The plugin's lookup for this write, run now (None: none declared or it failed)."""
        reconciler = self.adapter.reconciler(endpoint.name)
        if reconciler is None:
            return None
        try:
            verdict: Reconciliation = await reconciler(
                self.client, self._entry(call, endpoint, "", "unknown_outcome")
            )
            return verdict
        except BrokerportError:
            return None

    def _entry(self, call: Call, endpoint: Endpoint, message: str, kind: Any) -> OutboxEntry:
        started = self.client.clock() - (time.monotonic() - call.started)
        return OutboxEntry(
            vendor=self.vendor,
            endpoint=endpoint.name,
            kind=kind,
            message=message,
            params=_text_params(call),
            idempotency_key=call.idempotency_key,
            how_to_reconcile=endpoint.reconcile,
            started=started,
        )

    async def _record(self, err: UnknownOutcome, call: Call, kind: Any) -> None:
        entry = self._entry(call, call.endpoint, err.message, kind)
        err.outbox_id = entry.id
        try:
            await self.client.outbox.add(entry)
        except Exception:
            log.exception("cannot record %s in the outbox", call.endpoint.name)

    def _record_soon(self, err: UnknownOutcome, call: Call, kind: Any) -> None:
        entry = self._entry(call, call.endpoint, err.message, kind)
        try:
            self.client.outbox.add_soon(entry)
        except Exception:
            log.exception("cannot record %s in the outbox", call.endpoint.name)

    def _vendor_unknown(
        self, call: Call, endpoint: Endpoint, why: str, error: BrokerportError
    ) -> UnknownOutcome:
        if isinstance(error, UnknownOutcome) and error.how_to_reconcile:
            return error  # already one of ours (no answer came back)
        return self._unknown(call, endpoint, why).with_context(  # type: ignore[return-value]
            vendor_code=error.vendor_code,
            vendor_message=error.vendor_message,
            http_status=error.http_status,
        )

    def _closed_error(self, call: Call, endpoint: Endpoint) -> BrokerportError:
        if call.maybe_sent and not endpoint.is_idempotent:
            return self._unknown(call, endpoint, "the client was closed while it was in flight")
        return ClientClosed(
            f"the {self.vendor} client was closed; {endpoint.name} was not completed",
            vendor=self.vendor,
            endpoint=endpoint.name,
        )

    async def close(self) -> None:
        """Refuse new calls, end every call in flight with a typed error, and wait
        until they have ended (aclose() then closes the transport)."""
        self.closed = True
        current = asyncio.current_task()
        pending = [t for t in self._inflight if t is not current and not t.done()]
        for t in pending:
            self._closing.add(t)
            t.cancel()
        if pending:
            await asyncio.wait(pending)
        self._closing.clear()

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
