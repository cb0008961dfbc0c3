"""Bindings: a port operation declared as data, not written as a mapper.

A binding names the catalog endpoint an operation calls, where each wire
parameter comes from (a request field, a profile option, a constant or a small
function), where the payload sits in the answer, the model each item becomes
(field by field, structured by the vendor's cattrs converter) and, for lists,
the pager. The core builds the request, runs it through the pipeline, and
reads the answer *inside* the call, so one rule holds everywhere: an answer
to a write that cannot be read is ``UnknownOutcome`` with reconciliation
hints, an answer to a read is ``DecodeError``.

::

    class OkxSubAccounts(SubAccountPort):
        create = bind(
            "broker.dma.create_subaccount",
            params={"subAcct": "name", "label": "label"},
            at="0",
            into=m.SubAccount,
            fields=SUBACCOUNT,
        )

A hand-written method stays possible for the rare operation that needs one
(a vendor quirk, several calls); it calls ``self.client.invoke(name, params,
read=...)`` so the same rule applies, and its docstring says why it is not a
binding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .errors import DecodeError, InvalidRequest
from .paging import Pager

if TYPE_CHECKING:
    from .client import Client
    from .ports import Port

__all__ = [
    "Binding",
    "Ctx",
    "bind",
    "const",
    "dig",
    "epoch_ms",
    "joined",
    "mapped",
    "merge_extra",
    "option",
    "pick",
    "split",
]

#: A parameter source: a request attribute name, or ``f(request, ctx)``.
Source = str | Callable[[Any, "Ctx"], Any]
#: A model field source: a wire key (dotted path), or ``f(item, ctx)``.
FieldSource = str | Callable[[Mapping[str, Any], "Ctx"], Any]


class Ctx:
    """What a source function sees besides the request or item."""

    __slots__ = ("client", "request")

    def __init__(self, client: Client, request: Any) -> None:
        self.client = client
        self.request = request

    def option(self, name: str) -> str | None:
        return self.client.profile.option(name) or None

    @property
    def vendor(self) -> str:
        return self.client.vendor


_MISSING = object()


def dig(data: Any, path: str) -> Any:
    """``data`` at a dotted path: ``"0.details"`` is ``data[0]["details"]``.

    A step that is not there raises (LookupError / TypeError): the caller is
    reading an answer, and a missing part means it cannot be read.
    """
    if not path:
        return data
    for step in path.split("."):
        if isinstance(data, list):
            data = data[int(step)]
        elif isinstance(data, Mapping):
            data = data[step]
        else:
            raise TypeError(f"cannot find {step!r} in {type(data).__name__}")
    return data


def _get(item: Mapping[str, Any], path: str) -> Any:
    """A field of an answer item; absent, null or "" is None."""
    if "." not in path:
        value = item.get(path)
    else:
        try:
            value = dig(item, path)
        except (LookupError, TypeError, ValueError):
            return None
    return None if value is None or value == "" else value


# ------------------------------------------------------------ source helpers


def const(value: Any) -> Callable[[Any, Ctx], Any]:
    """Always ``value``."""
    return lambda _req, _ctx: value


def option(
    field: str | None,
    name: str,
    *,
    extra_keys: Sequence[str] = (),
    required: bool = True,
    upper: bool = False,
    choices: Sequence[str] = (),
) -> Callable[[Any, Ctx], Any]:
    """The request's ``field``, else the first of ``request.extra[extra_keys]``,
    else the profile option ``name``; missing and ``required``: InvalidRequest."""

    def source(request: Any, ctx: Ctx) -> Any:
        value = getattr(request, field, None) if field else None
        if value in (None, ""):
            extra = getattr(request, "extra", None) or {}
            value = next((extra[k] for k in extra_keys if extra.get(k) not in (None, "")), None)
        if value in (None, ""):
            value = ctx.option(name)
        if value in (None, ""):
            if not required:
                return None
            raise InvalidRequest(
                f"{ctx.vendor} needs {field or name}: pass it or set the profile option {name}",
                field=field or name,
                vendor=ctx.vendor,
            )
        text = str(value).upper() if upper else str(value)
        if choices and text not in choices:
            raise InvalidRequest(
                f"{field or name} must be one of {', '.join(choices)}",
                field=field or name,
                vendor=ctx.vendor,
            )
        return text

    return source


def joined(field: str, sep: str = ",") -> Callable[[Any, Ctx], Any]:
    """A sequence field as one ``sep``-joined text (None or empty: not sent); see
    :func:`joined_as` for values translated through a table."""
    return joined_as(field, sep=sep)


def epoch_ms(field: str) -> Callable[[Any, Ctx], Any]:
    """A datetime field as epoch milliseconds text."""

    def source(request: Any, _ctx: Ctx) -> Any:
        value: datetime | None = getattr(request, field)
        return None if value is None else str(int(value.timestamp() * 1000))

    return source


def pick(*keys: str) -> Callable[[Mapping[str, Any], Ctx], Any]:
    """The first of these answer fields that has a value (see :func:`first`)."""
    return first(*keys)


def mapped(key: str, table: Mapping[Any, Any], default: Any = None) -> FieldSource:
    """An answer field translated through ``table`` (unknown values: ``default``;
    ``default=_KEEP`` keeps the vendor's value)."""

    def source(item: Mapping[str, Any], _ctx: Ctx) -> Any:
        value = _get(item, key)
        if value is None:
            return None
        key_text = value if isinstance(value, bool) else str(value)
        if key_text in table:
            return table[key_text]
        return value if default is KEEP else default

    return source


#: ``mapped(..., default=KEEP)``: an unmapped value passes through.
KEEP: Any = object()


def split(key: str, sep: str = ",", table: Mapping[str, str] | None = None) -> FieldSource:
    """A ``sep``-separated answer field as a tuple (each part mapped through ``table``)."""

    def source(item: Mapping[str, Any], _ctx: Ctx) -> Any:
        text = _get(item, key)
        parts = [p.strip() for p in str(text or "").split(sep) if p.strip()]
        return tuple((table or {}).get(p, p) for p in parts)

    return source


def merge_extra(params: dict[str, Any], extra: Mapping[str, Any], vendor: str) -> dict[str, Any]:
    """``request.extra`` (vendor fields) over ``params``; a clash with a named field
    is refused rather than silently overwritten."""
    for key, value in extra.items():
        if key in params and params[key] != value:
            raise InvalidRequest(
                f"extra field {key!r} conflicts with a named field", field=key, vendor=vendor
            )
        params[key] = value
    return params


# ------------------------------------------------------------------ binding


@attrs.frozen(slots=True, kw_only=True, eq=False)
class Binding:
    """One port operation as data (see the module docstring)."""

    endpoint: str
    #: wire name -> source; a None value is not sent
    params: Mapping[str, Source] = attrs.field(factory=dict)
    #: wire name -> source, sent unless the request's ``extra`` sets it
    defaults: Mapping[str, Source] = attrs.field(factory=dict)
    #: merge the request's ``extra`` mapping (vendor fields) into the wire params
    extra: bool = True
    #: where the payload sits in the answer (``"0"``: the first item of a list)
    at: str = ""
    #: the model; None: the payload itself
    into: type[Any] | None = None
    #: model field -> source; a model with ``raw`` gets the item there
    fields: Mapping[str, FieldSource] = attrs.field(factory=dict)
    #: True: a list of items, returned as a tuple of models
    many: bool = False
    #: a Page of items, walked by this pager
    page: Pager | None = None
    #: a whole-result reader ``f(payload, ctx)`` instead of ``at``/``into``/``fields``
    result: Callable[[Any, Ctx], Any] | None = None
    doc: str = ""
    #: compiled model makers by converter (see :func:`_model_maker`), a few at most
    _makers: dict[int, tuple[Any, Callable[[Any, Ctx], Any]]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def wire_params(self, request: Any, ctx: Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for wire, source in self.defaults.items():
            value = _source(source, request, ctx)
            if value is not None:
                out[wire] = value
        named: dict[str, Any] = {}
        for wire, source in self.params.items():
            value = _source(source, request, ctx)
            if value is not None:
                named[wire] = value
        if self.page is not None:
            named.update(self.page.request_params(request))
        if self.extra:
            extra = getattr(request, "extra", None)
            if extra:
                merge_extra(named, extra, ctx.vendor)
        out.update(named)
        return out

    def read(self, payload: Any, ctx: Ctx) -> Any:
        if self.result is not None:
            return self.result(payload, ctx)
        if self.page is not None:
            data = dig(payload, self.at)
            items = [self.model(i, ctx) for i in _objects(self.page.items_of(data))]
            return _page_class()(
                items=tuple(items), next_cursor=self.page.next_cursor(data, items, ctx.request)
            )
        data = dig(payload, self.at)
        if self.many:
            return tuple(self.model(i, ctx) for i in _objects(data))
        return self.model(data, ctx)

    def model(self, item: Any, ctx: Ctx) -> Any:
        if self.into is None:
            return item
        if not isinstance(item, Mapping):
            raise DecodeError(f"expected an object, got {type(item).__name__}", vendor=ctx.vendor)
        values: dict[str, Any]
        if not self.fields:  # the vendor's names are the model's
            values = dict(item)
            if _has_raw(self.into) and "raw" not in values:
                values["raw"] = item
            return ctx.client.converter.structure(values, self.into)
        conv = ctx.client.converter
        found = self._makers.get(id(conv))
        if found is None:
            if len(self._makers) >= 8:  # bounded: clients come and go
                self._makers.clear()
            # the converter is kept with its maker, so its id cannot be reused meanwhile
            found = self._makers[id(conv)] = (conv, _model_maker(self.into, self.fields, conv))
        return found[1](item, ctx)

    async def __call__(self, port: Port, request: Any) -> Any:
        client = port.client
        ctx = Ctx(client, request)
        params = self.wire_params(request, ctx)
        return await client.invoke(self.endpoint, params, read=lambda data: self.read(data, ctx))

    def __get__(self, port: Port | None, owner: type[Any]) -> Any:
        if port is None:
            return self
        binding = self

        async def operation(request: Any) -> Any:
            # __call__'s body, inlined: one coroutine frame less on every resume
            client = port.client
            ctx = Ctx(client, request)
            params = binding.wire_params(request, ctx)
            return await client.invoke(
                binding.endpoint, params, read=lambda data: binding.read(data, ctx)
            )

        operation.__doc__ = self.doc or f"Calls {self.endpoint}."
        return operation


@functools.cache
def _page_class() -> Any:
    from .models import Page  # not at import: brokerport.models is the largest module

    return Page


def _source(source: Source, request: Any, ctx: Ctx) -> Any:
    if isinstance(source, str):
        return getattr(request, source)
    return source(request, ctx)


def _objects(data: Any) -> list[Mapping[str, Any]]:
    # plain dicts (every decoded answer) pass without the slower ABC check
    if type(data) is list and all(type(i) is dict for i in data):
        return data
    if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
        raise DecodeError("expected a list of objects")
    return data


def _model_maker(
    cls: type[Any], fields: Mapping[str, FieldSource], conv: Any
) -> Callable[[Mapping[str, Any], Ctx], Any]:
    """``f(item, ctx)`` building ``cls`` from an answer item as ``fields`` say.

    What ``converter.structure({field: value...}, cls)`` does, resolved once per
    binding and converter instead of on every item: each field's value goes
    through the converter's hook for that field's type (the hook cattrs' own
    generated code would use), absent/null/"" values are left to the model's
    default, a model with ``raw`` gets the item (its converter copies and
    redacts it), and the model's own ``__init__`` validates the result.
    """
    from cattrs.gen._shared import find_structure_handler

    attrs.resolve_types(cls)
    by_name = {a.name: a for a in attrs.fields(cls)}
    plan: list[tuple[str, str | None, Any, Any, Any]] = []
    for name, source in fields.items():
        a = by_name.get(name)
        if a is None or not a.init:
            continue  # as the converter does: a key the model lacks is ignored
        tp: Any = a.type
        hook = find_structure_handler(a, tp, conv)
        inner = getattr(hook, "brokerport_inner", None)
        if inner is not None:  # X | None: never called with None here
            tp, hook = inner, conv.get_structure_hook(inner)
        if isinstance(source, str) and "." not in source:
            plan.append((name, source, None, hook, tp))
        elif isinstance(source, str):
            path = source
            plan.append((name, None, lambda item, _ctx, p=path: _get(item, p), hook, tp))
        else:
            plan.append((name, None, source, hook, tp))
    # generated straight-line code (as attrs and cattrs generate theirs): no loop,
    # no per-field tuple unpacking; text fields skip their hook when already text
    from .convert import _text

    env: dict[str, Any] = {"cls": cls, "_text": _text}
    lines = ["def make(item, ctx):", "    get = item.get", "    values = {}"]
    for n, (name, key, fn, hook, tp) in enumerate(plan):
        env[f"h{n}"], env[f"t{n}"], env[f"f{n}"] = hook, tp, fn
        if key is not None:
            lines += [f"    v = get({key!r})", '    if v is not None and v != "":']
        else:
            lines += [f"    v = f{n}(item, ctx)", "    if v is not None:"]
        if hook is None:
            lines.append(f"        values[{name!r}] = v")
        elif hook is _text:
            lines.append(f"        values[{name!r}] = v if type(v) is str else _text(v, t{n})")
        else:
            lines.append(f"        values[{name!r}] = h{n}(v, t{n})")
    if "raw" in by_name and by_name["raw"].init:
        lines.append('    values["raw"] = item')
    lines.append("    return cls(**values)")
    exec(compile("\n".join(lines), f"<brokerport model maker {cls.__qualname__}>", "exec"), env)
    make: Callable[[Mapping[str, Any], Ctx], Any] = env["make"]
    return make


_RAW: dict[type[Any], bool] = {}


def _has_raw(cls: type[Any]) -> bool:
    found = _RAW.get(cls)
    if found is None:
        found = _RAW[cls] = attrs.has(cls) and any(f.name == "raw" for f in attrs.fields(cls))
    return found


def bind(endpoint: str, **kw: Any) -> Any:
    """A port operation bound to ``endpoint`` (see :class:`Binding`).

    Typed ``Any`` so it can stand where the port declares an async method.
    """
    return Binding(endpoint=endpoint, **kw)


# ------------------------------------------------- refining a binding's answer
#
# For what ``fields`` cannot say on their own: a model field the answer does not
# repeat (it is the request's), a null answer that means "nothing", a filter the
# vendor does not offer, a page's total. Each runs inside the call, like the
# binding's own reading, so the one rule (UnknownOutcome / DecodeError) holds.

#: A reading step: ``f(result, payload, ctx)`` -> the new result.
Step = Callable[[Any, Any, Ctx], Any]


def from_request(source: Source) -> Callable[[Any, Ctx], Any]:
    """A model field taken from the request (an attribute name or a parameter
    source, e.g. an :func:`option`): what was sent, when the answer does not say."""
    return lambda _item, ctx: _source(source, ctx.request, ctx)


def first(*sources: FieldSource) -> Callable[[Mapping[str, Any], Ctx], Any]:
    """The first of these field sources (answer keys or functions) that has a value."""

    def source(item: Mapping[str, Any], ctx: Ctx) -> Any:
        for s in sources:
            value = _get(item, s) if isinstance(s, str) else s(item, ctx)
            if value is not None and value != "":
                return value
        return None

    return source


def refine(binding: Binding, *steps: Step, before: Callable[[Any, Ctx], Any] | None = None) -> Any:
    """``binding`` whose payload first goes through ``before(payload, ctx)``, is read
    as the binding says, then through each ``step(result, payload, ctx)`` in turn.

    Typed ``Any``, like :func:`bind`, so it can stand where a port declares a method.
    """

    def result(payload: Any, ctx: Ctx) -> Any:
        out = binding.read(payload if before is None else before(payload, ctx), ctx)
        for step in steps:
            out = step(out, payload, ctx)
        return out

    return attrs.evolve(binding, result=result)


def keep(**fields: str) -> Step:
    """Keep the items whose model field equals the request field it is named with
    (``keep(currency="currency")``), when the request sets it: a client-side
    filter for what the vendor cannot filter. Works on a Page or a tuple."""

    def step(result: Any, _payload: Any, ctx: Ctx) -> Any:
        wanted = {f: getattr(ctx.request, r, None) for f, r in fields.items()}
        wanted = {f: v for f, v in wanted.items() if v is not None and v != ""}
        if not wanted:
            return result
        items = result.items if hasattr(result, "next_cursor") else result
        kept = tuple(i for i in items if all(getattr(i, f, None) == v for f, v in wanted.items()))
        return attrs.evolve(result, items=kept) if hasattr(result, "next_cursor") else kept

    return step


def counted(path: str = "total") -> Step:
    """A Page's ``total`` read from the answer's field at ``path`` (absent: None)."""

    def step(result: Any, payload: Any, _ctx: Ctx) -> Any:
        try:
            total = dig(payload, path)
        except (LookupError, TypeError, ValueError):
            total = None
        if total is None or total == "":
            return result
        return attrs.evolve(result, total=int(str(total)))

    return step


def as_page(result: Any, _payload: Any, _ctx: Ctx) -> Any:
    """A list answer that the vendor does not page, as one Page (``total``: its length)."""
    from .models import Page

    return Page(items=tuple(result), next_cursor=None, total=len(result))


def joined_as(
    field: str,
    table: Mapping[str, str] | None = None,
    *,
    sep: str = ",",
    keep_empty: bool = False,
) -> Callable[[Any, Ctx], Any]:
    """A sequence field as one ``sep``-joined text, each value translated through
    ``table`` (a value the table lacks is refused with InvalidRequest; repeats are
    dropped). None is not sent; an empty sequence is sent as "" only with
    ``keep_empty`` (a vendor's "clear the list"), else not sent."""

    def source(request: Any, ctx: Ctx) -> Any:
        values = getattr(request, field)
        if values is None or (not values and not keep_empty):
            return None
        out: list[str] = []
        for value in values:
            wire = str(value) if table is None else table.get(str(value))
            if wire is None:
                raise InvalidRequest(
                    f"{field}: unknown value {value!r} (use {', '.join(sorted(table or {}))})",
                    field=field,
                    vendor=ctx.vendor,
                )
            if wire not in out:
                out.append(wire)
        return sep.join(out)

    return source


def refuse(*fields: str) -> Callable[[Any, Ctx], Any]:
    """A check, not a parameter: a request that sets any of ``fields`` (a filter
    or option the vendor cannot honour) is refused with ``InvalidRequest`` before
    any I/O, never silently ignored. It sends nothing, so list it under a key no
    endpoint parameter has: ``params={..., "_": refuse("status", "start")}``."""

    def source(request: Any, ctx: Ctx) -> Any:
        for field in fields:
            if getattr(request, field, None) is not None:
                raise InvalidRequest(
                    f"{ctx.vendor} does not support {field!r} here", field=field, vendor=ctx.vendor
                )
        return None

    return source


def invoke_binding(port: Port, binding: Binding, **fields: Any) -> Any:
    """Run ``binding`` for an operation whose public signature takes keyword
    arguments instead of a request model (e.g. an extension method): the
    arguments become the request's attributes. Returns the awaitable."""
    from types import SimpleNamespace

    return binding(port, SimpleNamespace(extra=None, **fields))


__all__ += [
    "Step",
    "as_page",
    "counted",
    "first",
    "from_request",
    "invoke_binding",
    "joined_as",
    "keep",
    "refine",
    "refuse",
]
