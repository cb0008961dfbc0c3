"""What a plugin author supplies to the conformance kit and the demo: sample data.

Like the ``data`` fixtures of pandas' extension-array base tests, the kit
cannot invent valid input for a vendor, so each plugin provides samples and
names them on its adapter: a TOML data file shipped as package data
(``samples = "brokerport_acme:samples.toml"``, read by :func:`load_samples`
into a :class:`DataSamples`; format in docs/plugin-guide.md), or a
:class:`Samples` subclass (``"module:Class"``). Every sample is optional; the
kit *fails* (not skips) a contract whose operation the adapter declares but
whose sample is missing, because an unproven declaration is a broken promise.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.resources
import inspect
import itertools
import re
import secrets
import tomllib
import typing
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, cast

import attrs

from .. import models as m
from ..errors import PluginError

if TYPE_CHECKING:
    from ..client import Client
    from ..errors import BrokerportError
    from ..sandbox import Sandbox

__all__ = [
    "CallCase",
    "DataSamples",
    "ErrorCase",
    "InvalidCase",
    "PagedCase",
    "Samples",
    "TradingRules",
    "load_samples",
]

Invoke = Callable[["Client"], Awaitable[Any]]


@attrs.frozen
class InvalidCase:
    """Input the plugin must reject with InvalidRequest before any I/O."""

    operation: str
    invoke: Invoke
    why: str


@attrs.frozen
class ErrorCase:
    """A call the sandbox answers with ``vendor_code``; the host must see ``expected``."""

    name: str
    operation: str
    invoke: Invoke
    expected: type[BrokerportError]
    vendor_code: str


@attrs.frozen
class PagedCase:
    """A listing seeded with ``expected`` items, read with a small page size."""

    operation: str
    call: Callable[[Any], Awaitable[m.Page[Any]]]
    request: Any
    expected: frozenset[str]
    key: Callable[[Any], str]


@attrs.frozen
class CallCase:
    """One successful call of a declared operation (or extension method) the kit runs
    to prove it: ``operation`` is ``port.method`` or ``extension:method``; ``check``
    gets the result and returns what is wrong with it (None: fine)."""

    operation: str
    invoke: Invoke
    check: Callable[[Any], str | None] = lambda _result: None


@attrs.frozen
class TradingRules:
    """How the vendor answers the trading contracts' edge cases (``[trading]``).

    ``cancel_again`` / ``duplicate``: a brokerport error class name the host must see,
    or ``"ok"`` (a second cancel succeeds) / ``"same"`` (a reused client order id
    answers the first order, and places nothing). ``cancelled``: the statuses that
    mean cancelled (default: any status starting with "cancel")."""

    cancel_again: str = "Conflict"
    duplicate: str = "Conflict"
    cancelled: tuple[str, ...] = ()
    #: fields of the Order read back that must equal what was placed
    echoed: tuple[str, ...] = ("instrument", "side", "quantity", "price")

    def is_cancelled(self, status: str | None) -> bool:
        text = (status or "").lower()
        return text in self.cancelled if self.cancelled else text.startswith("cancel")


class Samples:
    """Override what your vendor supports. ``client`` is connected to ``sandbox``."""

    #: the trading contracts' vendor rules
    trading: TradingRules = TradingRules()
    #: a completed deposit shows in the balance at once (False: the vendor credits it later)
    deposit_moves_balance: bool = True

    #: Seconds the vendor accepts a request timestamp; None: no timestamp check.
    timestamp_window: float | None = None

    def __init__(self, client: Client, sandbox: Sandbox | None) -> None:
        self.client = client
        self.sandbox = sandbox

    async def prepare(self) -> None:
        """Create whatever the samples need (users, accounts, funds) before a test."""

    # ---------------------------------------------------------------- ports

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        raise NotImplementedError

    async def key_owner(self) -> str:
        """Who API keys are created for (e.g. a fresh sub-account)."""
        raise NotImplementedError

    def create_api_key(self, owner: str) -> m.CreateApiKey:
        raise NotImplementedError

    def funding_account(self) -> str:
        raise NotImplementedError

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        raise NotImplementedError

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        """Finish a requested deposit (e.g. confirm the payment) so history shows it."""

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        raise NotImplementedError

    def withdrawal_client(self, account_id: str) -> AbstractAsyncContextManager[Client]:
        """The client a withdrawal from ``account_id`` is requested with: the kit's own
        (default), or — where the vendor has an account withdraw with its own
        credentials (OKX's DMA sub-accounts) — one holding those, closed afterwards."""
        return contextlib.nullcontext(self.client)

    def history_query(self, account_id: str) -> m.FundingHistoryQuery:
        return m.FundingHistoryQuery(account_id=account_id)

    def list_accounts(self) -> m.ListAccounts:
        raise NotImplementedError

    def place_order(self, n: int = 0) -> m.PlaceOrder:
        raise NotImplementedError

    def amend_order(self, order: m.Order, n: int = 0) -> m.AmendOrder:
        """An amendment of the open ``order`` (by its ``order_id``)."""
        raise NotImplementedError

    async def fill_order(self, order: m.Order) -> None:
        """Have the vendor fill ``order`` (a sandbox helper): for the fills/positions contract."""
        raise NotImplementedError

    def order_query(self) -> m.OrderQuery:
        return m.OrderQuery()

    def position_query(self) -> m.PositionQuery:
        raise NotImplementedError

    def calls(self) -> list[CallCase]:
        """A successful call of each declared operation no other contract proves."""
        return []

    async def paged_cases(self) -> list[PagedCase]:
        """Seed listings larger than one page and say what they must return."""
        return []

    def invalid_cases(self) -> list[InvalidCase]:
        return []

    def error_cases(self) -> list[ErrorCase]:
        return []

    # ---------------------------------------------------------- reliability

    def read_call(self) -> tuple[str, dict[str, Any]]:
        """An idempotent, signed read: (endpoint name, params)."""
        raise NotImplementedError

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        """A non-idempotent write with fresh params for each ``n``."""
        raise NotImplementedError

    def burst_call(self, n: int) -> tuple[str, dict[str, Any]]:
        """A rate-limited call for the burst test (defaults to :meth:`read_call`)."""
        return self.read_call()

    def tamper(self, body: bytes, query: str) -> tuple[bytes, str]:
        """Change one byte of what was signed; default: bump the last digit."""
        if body:
            return _bump_last_digit(body), query
        return body, _bump_last_digit(query.encode()).decode()


def _bump_last_digit(data: bytes) -> bytes:
    matches = list(re.finditer(rb"[0-9]", data))
    if not matches:
        # no digit: flip the case of the last letter
        letters = list(re.finditer(rb"[A-Za-z]", data))
        if not letters:
            return data + b" "
        i = letters[-1].start()
        return data[:i] + data[i : i + 1].swapcase() + data[i + 1 :]
    i = matches[-1].start()
    digit = (data[i] - 48 + 1) % 10
    return data[:i] + bytes([48 + digit]) + data[i + 1 :]


# ------------------------------------------------------------ samples as data

#: process-wide: ``{seq}`` never repeats within one process, across Samples objects
_SEQ = itertools.count(1)
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}:]+)(?::([^{}]*))?\}")
_PATH = re.compile(r"([A-Za-z_]\w*)|\.(\w+)|\[(\d+)\]")
#: the keys a samples file may have (docs/plugin-guide.md, section 8)
_TOP = frozenset(
    """hooks timestamp_window vars profile_options prepare create_subaccount key_owner
    create_api_key funding_account deposit complete_deposit withdrawal history_query
    list_accounts place_order order_query position_query seed paged invalid errors
    read_call write_call burst_call amend_order fill_order trading calls
    deposit_moves_balance""".split()  # noqa: SIM905
)
_REQUESTS: tuple[str, ...] = ("create_subaccount", "create_api_key", "deposit", "withdrawal")
_REQUESTS += ("history_query", "list_accounts", "place_order", "order_query", "position_query")
_REQUESTS += ("amend_order",)
_CALLS = ("operation", "endpoint", "sandbox", "hook", "extension")


class _Seq:
    """``{seq}``: drawn from the process-wide counter on first use, once per rendering."""

    def __init__(self) -> None:
        self.value: int | None = None

    def get(self) -> int:
        if self.value is None:
            self.value = next(_SEQ)
        return self.value


class _Bad(PluginError):
    """A template problem; re-raised as PluginError naming the file and key."""


def _attr(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        if name not in value:
            raise _Bad(f"no {name!r}")
        return value[name]
    if not hasattr(value, name):
        raise _Bad(f"{type(value).__name__} has no {name!r}")
    return getattr(value, name)


def _path(text: str, scope: Any) -> Any:
    """``name``, ``name.attr``, ``name[0]`` looked up in ``scope`` (a mapping or an object)."""
    value, pos = scope, 0
    for match in _PATH.finditer(text):
        if match.start() != pos or (pos == 0) != (match.group(1) is not None):
            break
        pos = match.end()
        if match.group(3) is not None:
            try:
                value = list(value)[int(match.group(3))]
            except (TypeError, IndexError):
                raise _Bad(f"{text}: no item {match.group(3)}") from None
        else:
            value = _attr(value, match.group(1) or match.group(2))
    if pos != len(text) or pos == 0:
        raise _Bad(f"{{{text}}} is not a name, name.attr or name[index]")
    return value.get() if isinstance(value, _Seq) else value


def _expr(text: str, scope: Any) -> Any:
    """A path, optionally plus or minus whole numbers or other paths: ``{n+10}``."""
    parts = re.split(r"\s*([+-])\s*", text.strip())
    total = None
    for sign, term in zip(["+", *parts[1::2]], parts[0::2], strict=True):
        value = int(term) if term.isdigit() else _path(term, scope)
        total = value if total is None else total + value if sign == "+" else total - value
    return total


def _text(template: str, scope: Any) -> Any:
    """Fill ``{...}`` fields; a lone field without a format spec keeps its value's type."""
    whole = _FIELD.fullmatch(template)
    if whole and whole.group(1) and whole.group(2) is None:
        return _expr(whole.group(1), scope)

    def field(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]  # {{ or }}
        return format(_expr(match.group(1), scope), match.group(2) or "")

    return _FIELD.sub(field, template)


def _render(value: Any, scope: Any) -> Any:
    if isinstance(value, str):
        return _text(value, scope)
    if isinstance(value, list):
        return [_render(v, scope) for v in value]
    if isinstance(value, dict):
        if value.keys() == {"decimal"}:  # a raw-call amount: { decimal = "1.10" }
            return Decimal(str(_render(value["decimal"], scope)))
        return {k: _render(v, scope) for k, v in value.items()}
    return value


def _names(value: Any) -> set[str]:
    """The root names a spec's templates refer to."""
    if isinstance(value, str):
        return {m.group(1) for m in re.finditer(r"\{([A-Za-z_]\w*)", value)}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(_names(v) for v in items))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, hint: Any) -> Any:
    """Decimal fields from str/int (never float), nested models from tables."""
    kinds = typing.get_args(hint) or (hint,)
    if Decimal in kinds and isinstance(value, (str, int)) and not isinstance(value, bool):
        with contextlib.suppress(ArithmeticError):
            return Decimal(value)
    if isinstance(value, Mapping):
        for kind in kinds:
            if attrs.has(kind) and kind.__module__ == m.__name__:
                return kind(**{k: _coerce(v, _hints(kind).get(k)) for k, v in value.items()})
    return value


def _model(spec: Mapping[str, Any], scope: Any) -> Any:
    """``m.<model>(**fields)``, the fields rendered and coerced to the annotations."""
    fields = dict(spec)
    cls = getattr(m, fields.pop("model"))
    hints = _hints(cls)
    return cls(**{k: _coerce(_render(v, scope), hints.get(k)) for k, v in fields.items()})


def _error_class(name: Any) -> type[BrokerportError]:
    from .. import errors

    cls = getattr(errors, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.BrokerportError)):
        raise _Bad(f"{name!r} is not a brokerport error class")
    return cls


class DataSamples(Samples):
    """:class:`Samples` read from a TOML file (see :func:`load_samples`).

    Subclass it only for what cannot be data: methods named by ``hook`` steps,
    or an override such as :meth:`Samples.tamper`; name the subclass in the
    file (``hooks = "module:Class"``).
    """

    #: the parsed file and its name (``package:file.toml``); set by load_samples
    data: ClassVar[Mapping[str, Any]] = {}
    source: ClassVar[str] = "?"

    def __init__(self, client: Client, sandbox: Sandbox | None) -> None:
        super().__init__(client, sandbox)
        self.timestamp_window = self.data.get("timestamp_window", type(self).timestamp_window)
        self.deposit_moves_balance = bool(self.data.get("deposit_moves_balance", True))
        rules = dict(self.data.get("trading", {}))
        if "cancelled" in rules:
            rules["cancelled"] = tuple(rules["cancelled"])
        if "echoed" in rules:
            rules["echoed"] = tuple(rules["echoed"])
        self.trading = TradingRules(**rules)
        #: template names: ``tag`` (fresh per object), ``[vars]``, named prepare/seed results
        self.values: dict[str, Any] = {"tag": secrets.token_hex(3)}
        for key, value in self.data.get("vars", {}).items():
            self.values[key] = self._fill(value, f"vars.{key}")

    # ------------------------------------------------------------ helpers

    def _fail(self, where: str, problem: object) -> PluginError:
        return PluginError(f"{self.source}: {where}: {problem}")

    def _fill(self, value: Any, where: str, scope: Mapping[str, Any] = {}) -> Any:
        """Render ``value`` with the object's names, a fresh ``{seq}`` and ``scope``."""
        try:
            return _render(value, {**self.values, "seq": _Seq(), **scope})
        except _Bad as exc:
            raise self._fail(where, exc) from None

    def _request(self, spec: Mapping[str, Any], where: str, scope: Mapping[str, Any]) -> Any:
        try:
            return _model(spec, {**self.values, "seq": _Seq(), **scope})
        except _Bad as exc:
            raise self._fail(where, exc) from None

    def _table(self, key: str, **scope: Any) -> Any:
        spec = self.data.get(key)
        if spec is None:
            raise NotImplementedError(key)
        return self._request(spec, key, scope)

    def _call(self, key: str, **scope: Any) -> tuple[str, dict[str, Any]]:
        spec = self.data.get(key)
        if spec is None:
            raise NotImplementedError(key)
        return spec["endpoint"], self._fill(spec.get("params", {}), f"{key}.params", scope)

    async def _step(
        self, spec: Mapping[str, Any], where: str, scope: dict[str, Any], client: Client
    ) -> Any:
        """Run one step; a Page's items (or the answer) reduced to ``key`` when given."""
        ignore = tuple(_error_class(e) for e in spec.get("ignore", ()))
        try:
            if "operation" in spec:
                port, _, method = spec["operation"].partition(".")
                request = self._request(spec["request"], f"{where}.request", scope)
                result = await getattr(getattr(client, port), method)(request)
            elif "extension" in spec:
                ext = client.ext(spec["extension"])
                if "request" in spec:
                    args = [self._request(spec["request"], f"{where}.request", scope)]
                else:
                    args = self._fill(spec.get("args", []), f"{where}.args", scope)
                kwargs = self._fill(spec.get("kwargs", {}), f"{where}.kwargs", scope)
                result = await getattr(ext, spec["method"])(*args, **kwargs)
            elif "endpoint" in spec:
                params = self._fill(spec.get("params", {}), f"{where}.params", scope)
                result = await client.call(spec["endpoint"], **params)
            else:
                target = self.sandbox if "sandbox" in spec else self
                fn = getattr(target, spec.get("sandbox") or spec["hook"])
                args = self._fill(spec.get("args", []), f"{where}.args", scope)
                kwargs = self._fill(spec.get("kwargs", {}), f"{where}.kwargs", scope)
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except ignore:
            return None
        key = spec.get("key")
        if key is None:
            return result
        try:
            if isinstance(result, m.Page):
                return [_item_key(item, key) for item in result.items]
            return _item_key(result, key)
        except _Bad as exc:
            raise self._fail(f"{where}.key", exc) from None

    async def _steps(self, key: str, scope: dict[str, Any]) -> dict[str, Any]:
        """Run ``[[key]]`` steps in order; a step's ``name`` holds its result (``count``: a list).

        ``sandbox`` and ``hook`` steps need the sandbox: without one they are
        skipped, and so is every later step naming what they would have made.
        """
        skipped: set[str] = set()
        for i, spec in enumerate(self.data.get(key, ())):
            where, name = f"{key}[{i}]", spec.get("name")
            if (self.sandbox is None and ("sandbox" in spec or "hook" in spec)) or (
                _names(spec) & skipped
            ):
                skipped.add(name or "")
                continue
            if "count" not in spec:
                value = await self._step(spec, where, scope, self.client)
            else:
                value = []
                for n in range(spec["count"]):
                    got = await self._step(spec, where, {**scope, "n": n}, self.client)
                    value += got if isinstance(got, list) else [got]
            if name:
                scope[name] = value
        scope["_skipped"] = skipped
        return scope

    def _case(self, spec: Mapping[str, Any], where: str) -> tuple[str, Invoke]:
        """(operation label, invoke) of an invalid or error case; built on each call."""

        async def invoke(client: Client) -> Any:
            scope: dict[str, Any] = {}
            for i, before in enumerate(spec.get("before", ())):
                if before.get("same"):  # the case's own call, sent once first
                    before = {**spec, "key": None, **before}
                value = await self._step(before, f"{where}.before[{i}]", scope, client)
                if "name" in before:
                    scope[before["name"]] = value
            return await self._step(spec, where, scope, client)

        label = spec.get("operation") or f"raw {spec.get('endpoint', spec.get('extension'))}"
        return label, invoke

    # -------------------------------------------------------------- samples

    async def prepare(self) -> None:
        """Profile options a real profile would set (sandbox only), then ``[[prepare]]`` steps."""
        options = self.data.get("profile_options")
        if options and self.sandbox is not None:
            profile = self.client.profile
            merged = {**self._fill(options, "profile_options"), **profile.options}
            if merged != dict(profile.options):
                self.client.profile = attrs.evolve(profile, options=merged)
        scope = await self._steps("prepare", {})
        self.values.update((k, v) for k, v in scope.items() if not k.startswith("_"))

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        return cast(m.CreateSubAccount, self._table("create_subaccount", n=n))

    async def key_owner(self) -> str:
        if "key_owner" not in self.data:
            raise NotImplementedError("key_owner")
        return str(await self._step(self.data["key_owner"], "key_owner", {}, self.client))

    def create_api_key(self, owner: str) -> m.CreateApiKey:
        return cast(m.CreateApiKey, self._table("create_api_key", owner=owner))

    def funding_account(self) -> str:
        if "funding_account" not in self.data:
            raise NotImplementedError("funding_account")
        return str(self._fill(self.data["funding_account"], "funding_account"))

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        return cast(m.DepositRequest, self._table("deposit", account=account_id, n=n))

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        await self._steps("complete_deposit", {"ticket": ticket, "request": request})

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        return cast(m.WithdrawalRequest, self._table("withdrawal", account=account_id, n=n))

    def history_query(self, account_id: str) -> m.FundingHistoryQuery:
        if "history_query" not in self.data:
            return super().history_query(account_id)
        return cast(m.FundingHistoryQuery, self._table("history_query", account=account_id))

    def list_accounts(self) -> m.ListAccounts:
        return cast(m.ListAccounts, self._table("list_accounts"))

    def place_order(self, n: int = 0) -> m.PlaceOrder:
        return cast(m.PlaceOrder, self._table("place_order", n=n))

    def amend_order(self, order: m.Order, n: int = 0) -> m.AmendOrder:
        return cast(m.AmendOrder, self._table("amend_order", order=order, n=n))

    async def fill_order(self, order: m.Order) -> None:
        if "fill_order" not in self.data:
            raise NotImplementedError("fill_order")
        await self._steps("fill_order", {"order": order})

    def calls(self) -> list[CallCase]:
        out = []
        for i, spec in enumerate(self.data.get("calls", ())):
            where = f"calls[{i}]"
            label, invoke = self._case(spec, where)
            if "extension" in spec:
                label = f"{spec['extension']}:{spec['method']}"
            label = spec.get("proves", label)  # a hook step names what it proves
            expect = spec.get("expect", {})
            out.append(CallCase(label, invoke, functools.partial(self._expect, expect, where)))
        return out

    def _expect(self, expect: Mapping[str, Any], where: str, result: Any) -> str | None:
        """``expect``: attribute path (of the result, or of each item of a Page) -> value."""
        items = (
            result.items
            if isinstance(result, m.Page)
            else list(result)
            if isinstance(result, (tuple, list))
            else [result]
        )
        for path, want in expect.items():
            wanted = self._fill(want, f"{where}.expect.{path}")
            got = [_path(path, item) for item in items]
            if not any(str(g) == str(wanted) for g in got):
                return f"{path}: expected {wanted!r}, got {got!r}"
        return None

    def order_query(self) -> m.OrderQuery:
        if "order_query" not in self.data:
            return super().order_query()
        return cast(m.OrderQuery, self._table("order_query"))

    def position_query(self) -> m.PositionQuery:
        return cast(m.PositionQuery, self._table("position_query"))

    async def paged_cases(self) -> list[PagedCase]:
        scope: dict[str, Any] = {}
        if self.sandbox is not None:
            scope.update(now=self.sandbox.clock.now(), now_ms=self.sandbox.clock.now_ms())
        scope = await self._steps("seed", scope)
        skipped = scope.pop("_skipped")
        cases = []
        for i, spec in enumerate(self.data.get("paged", ())):
            where = f"paged[{i}]"
            if _names({k: v for k, v in spec.items() if k != "key"}) & skipped:
                continue
            port, _, method = spec["operation"].partition(".")
            expect = spec["expect"]
            expected: set[Any] = set()
            for template in [expect] if isinstance(expect, str) else expect:
                expected |= self._expand(template, scope, f"{where}.expect")
            request = self._request(spec["request"], f"{where}.request", scope)
            call = getattr(getattr(self.client, port), method)
            key = functools.partial(_item_key, key=spec["key"])
            cases.append(PagedCase(spec["operation"], call, request, frozenset(expected), key))
        return cases

    def _expand(self, template: str, scope: dict[str, Any], where: str) -> set[Any]:
        """One value per combination of the lists named by bare ``{name}`` fields."""
        known = {**self.values, **scope}
        lists = sorted(
            n
            for n in _names(template)
            if f"{{{n}}}" in template and isinstance(known.get(n), (list, tuple, set, frozenset))
        )
        combos = itertools.product(*(known[n] for n in lists))
        return {
            self._fill(template, where, {**scope, **dict(zip(lists, c, strict=True))})
            for c in combos
        }

    def invalid_cases(self) -> list[InvalidCase]:
        out = []
        for i, spec in enumerate(self.data.get("invalid", ())):
            label, invoke = self._case(spec, f"invalid[{i}]")
            out.append(InvalidCase(label, invoke, spec["why"]))
        return out

    def error_cases(self) -> list[ErrorCase]:
        out = []
        for i, spec in enumerate(self.data.get("errors", ())):
            label, invoke = self._case(spec, f"errors[{i}]")
            error = _error_class(spec["error"])
            out.append(ErrorCase(spec["name"], label, invoke, error, str(spec["code"])))
        return out

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return self._call("read_call")

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        return self._call("write_call", n=n)

    def burst_call(self, n: int) -> tuple[str, dict[str, Any]]:
        if "burst_call" not in self.data:
            return super().burst_call(n)
        return self._call("burst_call", n=n)


def _item_key(item: Any, key: str) -> Any:
    """``key`` of a listed item: an attribute path, or a template over its attributes."""
    value = _text(key, item) if "{" in key else _path(key, item)
    return "" if value is None else value


# ---------------------------------------------------------------- loading


@functools.cache
def load_samples(spec: str) -> type[Samples]:
    """The Samples class an adapter's ``samples`` names, loaded once.

    ``"package:file.toml"``: a samples data file shipped in ``package`` (a
    :class:`DataSamples`, or the file's ``hooks`` class); ``"module:Class"``:
    a :class:`Samples` subclass. A bad file is a :class:`PluginError` naming
    the file and the key.
    """
    module, _, name = spec.partition(":")
    if not module or not name:
        raise PluginError(f"samples {spec!r}: name 'package:file.toml' or 'module:Class'")
    if not name.endswith(".toml"):
        cls = _import(module, name, spec)
        if not (isinstance(cls, type) and issubclass(cls, Samples)):
            raise PluginError(f"samples {spec!r} is not a Samples subclass")
        return cls
    try:
        text = importlib.resources.files(module).joinpath(name).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (ImportError, OSError) as exc:
        raise PluginError(f"{spec}: cannot read the samples file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PluginError(f"{spec}: not valid TOML: {exc}") from None
    _check(data, spec)
    base: type[DataSamples] = DataSamples
    if "hooks" in data:
        hooks_module, _, hooks_name = str(data["hooks"]).partition(":")
        base = _import(hooks_module, hooks_name, f"{spec}: hooks")
        if not (isinstance(base, type) and issubclass(base, DataSamples)):
            raise PluginError(f"{spec}: hooks: {data['hooks']!r} is not a DataSamples subclass")
    attributes = {"data": data, "source": spec, "__module__": base.__module__}
    return type(base.__name__, (base,), attributes)


def _import(module: str, name: str, what: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{what}: cannot import {module}:{name} ({exc})") from None


def _check(data: Mapping[str, Any], source: str) -> None:
    """Refuse a malformed samples file up front, naming the key."""

    def bad(key: str, problem: str) -> PluginError:
        return PluginError(f"{source}: {key}: {problem}")

    def table(value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise bad(key, "must be a table")
        return value

    def tables(value: Any, key: str) -> list[Mapping[str, Any]]:
        if not isinstance(value, list):
            raise bad(key, "must be an array of tables ([[...]])")
        return [table(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def request(value: Any, key: str, fields: bool = True) -> None:
        spec = table(value, key)
        cls = getattr(m, str(spec.get("model")), None)
        if cls not in m.REQUEST_MODELS:
            raise bad(f"{key}.model", f"{spec.get('model')!r} is not a request model")
        known = {a.alias for a in attrs.fields(cls)}
        unknown = sorted(set(spec) - known - {"model"})
        if fields and unknown:
            raise bad(f"{key}.{unknown[0]}", f"{cls.__name__} has no such field")

    def step(value: Any, key: str, fields: bool = True, call: bool = True) -> None:
        spec = table(value, key)
        calls = [c for c in _CALLS if c in spec]
        if len(calls) != 1:
            raise bad(key, f"name exactly one of {', '.join(_CALLS)}")
        if calls[0] == "operation":
            if spec["operation"].count(".") != 1:
                raise bad(f"{key}.operation", "must be 'port.method'")
            request(spec.get("request"), f"{key}.request", fields)
        for name in ("params", "kwargs"):
            if name in spec:
                table(spec[name], f"{key}.{name}")
        for i, error in enumerate(spec.get("ignore", ())):
            try:
                _error_class(error)
            except _Bad as exc:
                raise bad(f"{key}.ignore[{i}]", str(exc)) from None

    def need(spec: Mapping[str, Any], key: str, *names: str) -> None:
        for name in names:
            if name not in spec:
                raise bad(key, f"{name} is missing")

    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise bad(unknown[0], "unknown key (see docs/plugin-guide.md)")
    for key in _REQUESTS:
        if key in data:
            request(data[key], key)
    for key in ("read_call", "write_call", "burst_call"):
        if key in data:
            need(table(data[key], key), key, "endpoint")
            step(data[key], key)
    for key in ("prepare", "complete_deposit", "seed", "fill_order"):
        for i, spec in enumerate(tables(data.get(key, []), key)):
            step(spec, f"{key}[{i}]")
    if "key_owner" in data:
        step(data["key_owner"], "key_owner")
    for key, required in (("invalid", ("why",)), ("errors", ("name", "error", "code"))):
        for i, spec in enumerate(tables(data.get(key, []), key)):
            where = f"{key}[{i}]"
            need(spec, where, *required)
            if "operation" not in spec and "endpoint" not in spec:
                raise bad(where, "name an operation (with a request) or an endpoint")
            step(spec, where, fields=key != "invalid")
            for j, before in enumerate(tables(spec.get("before", []), f"{where}.before")):
                if not before.get("same"):
                    step(before, f"{where}.before[{j}]")
            if key == "errors":
                try:
                    _error_class(spec["error"])
                except _Bad as exc:
                    raise bad(f"{where}.error", str(exc)) from None
    for i, spec in enumerate(tables(data.get("paged", []), "paged")):
        need(spec, f"paged[{i}]", "operation", "request", "expect", "key")
        step({k: v for k, v in spec.items() if k not in ("expect", "key")}, f"paged[{i}]")
    for key in ("vars", "profile_options"):
        table(data.get(key, {}), key)
    for i, spec in enumerate(tables(data.get("calls", []), "calls")):
        step(spec, f"calls[{i}]")
        if "extension" in spec:
            need(spec, f"calls[{i}]", "method")
        table(spec.get("expect", {}), f"calls[{i}].expect")
    rules = table(data.get("trading", {}), "trading")
    unknown_rules = sorted(set(rules) - {a.name for a in attrs.fields(TradingRules)})
    if unknown_rules:
        raise bad(f"trading.{unknown_rules[0]}", "unknown key")
