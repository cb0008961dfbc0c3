"""Bindings as data: a plugin's port and extension classes declared in TOML.

A plugin's ``ports.py`` calls :func:`load_bindings` on a package-data file
(``brokerport_okx/ports.toml``); it reads the file once and builds each class
it declares, a subclass of a core port (or of ``Extension``) whose operations
are :class:`brokerport.binding.Binding` values. The adapter names the classes
``"brokerport_okx.ports:OkxTrading"`` as before, so the file is read (and the
models imported) when a client opens, never when plugins are listed.

The format is in ``docs/catalog-format.md`` ("Bindings data"). In short::

    sources = "brokerport_x.sources"     # where "@name" is looked up (optional)
    [tables]   # named constant tables ("@name")
    [maps]     # named param / field maps; "<<" merges named maps in
    [ports.XTrading]
    base = "TradingPort"                 # core port, "Extension", "module:Class", "@Name"
    [ports.XTrading.get_order]
    endpoint = "trade.get_order"
    params = {instId = "instrument", ordId = "order_id"}
    at = "0"
    into = "Order"
    fields = {order_id = "ordId", price = ["px", "avgPx"], status = "@status"}

A value ``"@name"`` is the plugin's own Python: a source function, a step, a
pager, a hand-written method (``method = "@name"``). Every mistake in the file
is a ``PluginError`` naming the file and the key.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import tomllib
from collections.abc import Callable, Mapping
from importlib.resources import files
from types import ModuleType, SimpleNamespace
from typing import Any

from . import binding as b
from .errors import PluginError

__all__ = ["STEPS", "load_bindings"]

_TOP = frozenset({"sources", "tables", "maps", "ports"})
_CLASS = frozenset({"base", "name", "doc"})
_BINDING = frozenset(
    {"endpoint", "params", "defaults", "extra", "at", "into", "fields", "many", "page"}
    | {"refine", "before", "result", "doc", "method", "signature"}
)
_PAGERS = {"page_number": "PageNumber", "cursor": "Cursor", "time_cursor": "TimeCursor"}
_LOADED: dict[tuple[str, str], dict[str, type[Any]]] = {}


def _as_tuple(result: Any, _payload: Any, _ctx: b.Ctx) -> Any:
    return (result,)


#: core reading steps a ``refine`` list names: a bare name, or ``{name = ARGS}``
STEPS: Mapping[str, Any] = {
    "as_page": b.as_page,
    "as_tuple": _as_tuple,
    "counted": b.counted,
    "keep": b.keep,
}
_STEP_FACTORIES = frozenset({"counted", "keep"})


def load_bindings(
    package: str,
    resource: str = "ports.toml",
    *,
    sources: ModuleType | Mapping[str, Any] | None = None,
) -> dict[str, type[Any]]:
    """The classes ``package``'s ``resource`` declares, by class name (built once).

    ``sources``: where ``"@name"`` values are found (a module or a mapping such as
    the calling module's ``globals()``); default: the file's ``sources`` module.
    """
    key = (package, resource)
    if key not in _LOADED:
        _LOADED[key] = _Loader(package, resource, sources).classes()
    return _LOADED[key]


class _Loader:
    def __init__(self, package: str, resource: str, sources: Any) -> None:
        self.file = f"{package}:{resource}"
        try:
            text = files(package).joinpath(resource).read_text(encoding="utf-8")
            self.data = tomllib.loads(text)
        except (OSError, ModuleNotFoundError, tomllib.TOMLDecodeError) as exc:
            raise PluginError(f"cannot read bindings {self.file}: {exc}") from exc
        self._unknown(self.data, _TOP, "")
        if sources is None and "sources" in self.data:
            sources = self._import(self.data["sources"], "sources")
        self.sources = vars(sources) if isinstance(sources, ModuleType) else dict(sources or {})
        self.tables = self._table(self.data.get("tables", {}), "tables")
        self.maps = self._table(self.data.get("maps", {}), "maps")

    # ------------------------------------------------------------- helpers

    def error(self, where: str, message: str) -> PluginError:
        return PluginError(
            f"{self.file}: {where}: {message}" if where else f"{self.file}: {message}"
        )

    def _unknown(self, data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        extra = sorted(set(data) - allowed)
        if extra:
            raise self.error(where, f"unknown key(s) {', '.join(extra)}")

    def _table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, "must be a table")
        return dict(value)

    def _import(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise self.error(where, "a module name is text")
        module, _, attr = name.partition(":")
        try:
            found = importlib.import_module(module)
            return getattr(found, attr) if attr else found
        except (ImportError, AttributeError) as exc:
            raise self.error(where, f"cannot import {name!r}: {exc}") from None

    def named(self, ref: str, where: str) -> Any:
        """``"@name"``: a table of the file, else the plugin's sources."""
        name = ref[1:]
        if name in self.tables:
            return _frozen(self.tables[name])
        if name in self.sources:
            return self.sources[name]
        raise self.error(where, f"unknown name {ref!r}")

    def _call(self, spec: Mapping[str, Any], where: str) -> Any | None:
        """``{"@factory" = [ARGS] or {KW}, kw = ...}``: the plugin's factory called."""
        refs = [k for k in spec if k.startswith("@")]
        if not refs:
            return None
        if len(refs) > 1:
            raise self.error(where, f"one factory per table, not {refs}")
        fn = self.named(refs[0], where)
        args, kw = spec[refs[0]], {k: _frozen(v) for k, v in spec.items() if k != refs[0]}
        try:
            if isinstance(args, Mapping):
                return fn(**kw, **{k: _frozen(v) for k, v in args.items()})
            args = args if isinstance(args, list) else [args]
            return fn(*(_frozen(a) for a in args), **kw)
        except TypeError as exc:
            raise self.error(where, f"bad arguments for {refs[0]}: {exc}") from None

    def _value(self, value: Any, where: str) -> Any:
        return self.named(value, where) if isinstance(value, str) and value[:1] == "@" else value

    def map_of(self, spec: Any, where: str) -> dict[str, Any]:
        """A param or field map: a table, or the name of one in ``[maps]``; ``"<<"``
        merges named maps in (the table's own keys win)."""
        if isinstance(spec, str):
            if spec not in self.maps:
                raise self.error(where, f"unknown map {spec!r}")
            return self.map_of(self.maps[spec], f"maps.{spec}")
        if not isinstance(spec, Mapping):
            raise self.error(where, "must be a table or the name of a map")
        out: dict[str, Any] = {}
        base = spec.get("<<", [])
        for name in [base] if isinstance(base, str) else base:
            out.update(self.map_of(name, where))
        out.update({k: v for k, v in spec.items() if k != "<<"})
        return out

    # ------------------------------------------------------------- sources

    def param(self, spec: Any, where: str) -> b.Source:
        """Request side: an attribute (dotted: None-safe), ``"@name"`` or a table."""
        if isinstance(spec, str):
            if spec.startswith("@"):
                return self._callable(self.named(spec, where), where)
            return _path(spec) if "." in spec else spec
        if not isinstance(spec, Mapping):
            raise self.error(where, f"not a parameter source: {spec!r}")
        made = self._call(spec, where)
        if made is not None:
            return self._callable(made, where)
        kind, kw = self._kind(spec, _PARAM_KINDS, where)
        try:
            return _PARAM_KINDS[kind](self, spec[kind], kw, where)  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise self.error(where, f"bad {kind}: {exc}") from None

    def field(self, spec: Any, where: str) -> b.FieldSource:
        """Answer side: a wire key, a list (the first with a value), ``"@name"``, a table."""
        if isinstance(spec, str):
            return self._callable(self.named(spec, where), where) if spec[:1] == "@" else spec
        if isinstance(spec, list):
            return b.first(*(self.field(s, where) for s in spec))
        if not isinstance(spec, Mapping):
            raise self.error(where, f"not a field source: {spec!r}")
        made = self._call(spec, where)
        if made is not None:
            return self._callable(made, where)
        kind, kw = self._kind(spec, _FIELD_KINDS, where)
        try:
            return _FIELD_KINDS[kind](self, spec[kind], kw, where)  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise self.error(where, f"bad {kind}: {exc}") from None

    def _kind(
        self, spec: Mapping[str, Any], kinds: Mapping[str, Any], where: str
    ) -> tuple[str, dict[str, Any]]:
        found = [k for k in spec if k in kinds]
        if len(found) != 1:
            raise self.error(where, f"a source table has one of {', '.join(kinds)}: {spec!r}")
        return found[0], {k: self._value(v, where) for k, v in spec.items() if k != found[0]}

    def _callable(self, value: Any, where: str) -> Callable[..., Any]:
        if not callable(value):
            raise self.error(where, f"{value!r} is not callable")
        fn: Callable[..., Any] = value
        return fn

    # ------------------------------------------------------------- classes

    def classes(self) -> dict[str, type[Any]]:
        ports = self._table(self.data.get("ports", {}), "ports")
        return {name: self.port(name, spec, f"ports.{name}") for name, spec in ports.items()}

    def port(self, name: str, spec: Any, where: str) -> type[Any]:
        spec = self._table(spec, where)
        base = self.base(spec.get("base"), f"{where}.base")
        module = self.sources.get("__name__", "brokerport.binding_data")
        ns: dict[str, Any] = {"__module__": module, "__qualname__": name}
        if "doc" in spec:
            ns["__doc__"] = spec["doc"]
        if "name" in spec:
            ns["port_name"] = spec["name"]
        for op, op_spec in spec.items():
            if op not in _CLASS:
                ns[op] = self.operation(op_spec, f"{where}.{op}")
        return type(name, (base,), ns)

    def base(self, ref: Any, where: str) -> type[Any]:
        from . import ports

        if not isinstance(ref, str):
            raise self.error(where, "name the base class")
        if ref.startswith("@"):
            found = self.named(ref, where)
        elif ":" in ref:
            found = self._import(ref, where)
        else:
            found = getattr(ports, ref, None)
        if not (isinstance(found, type) and issubclass(found, ports.Port)):
            raise self.error(where, f"{ref!r} is not a port class")
        return found

    def operation(self, spec: Any, where: str) -> Any:
        spec = self._table(spec, where)
        self._unknown(spec, _BINDING, where)
        if "method" in spec:
            if len(spec) > 1:
                raise self.error(where, "a hand-written method takes no other key")
            return self._callable(self._value(spec["method"], f"{where}.method"), where)
        binding = self.binding(spec, where)
        if "signature" not in spec:
            return binding
        return _keyword_method(binding, self.signature(spec["signature"], where))

    def binding(self, spec: Mapping[str, Any], where: str) -> b.Binding:
        if not isinstance(spec.get("endpoint"), str):
            raise self.error(where, "endpoint: the catalog endpoint's name is required")
        kw: dict[str, Any] = {"endpoint": spec["endpoint"], "doc": spec.get("doc", "")}
        for key, side in (("params", self.param), ("defaults", self.param)):
            if key in spec:
                named = self.map_of(spec[key], f"{where}.{key}")
                kw[key] = {k: side(v, f"{where}.{key}.{k}") for k, v in named.items()}
        if "fields" in spec:
            named = self.map_of(spec["fields"], f"{where}.fields")
            kw["fields"] = {k: self.field(v, f"{where}.fields.{k}") for k, v in named.items()}
        for key, kind in (("extra", bool), ("many", bool), ("at", str)):
            if key in spec:
                if not isinstance(spec[key], kind):
                    raise self.error(f"{where}.{key}", f"must be {kind.__name__}")
                kw[key] = spec[key]
        if "into" in spec:
            kw["into"] = self.model(spec["into"], f"{where}.into")
        if "page" in spec:
            kw["page"] = self.pager(spec["page"], f"{where}.page")
        if "result" in spec:
            kw["result"] = self._callable(self._value(spec["result"], where), f"{where}.result")
        binding = b.Binding(**kw)
        steps = [self.step(s, f"{where}.refine") for s in spec.get("refine", ())]
        before = spec.get("before")
        if steps or before is not None:
            hook = None if before is None else self._callable(self._value(before, where), where)
            binding = b.refine(binding, *steps, before=hook)
        return binding

    def model(self, ref: Any, where: str) -> type[Any]:
        from . import models

        if not isinstance(ref, str):
            raise self.error(where, "name a model class")
        if ref.startswith("@"):
            found = self.named(ref, where)
        else:
            found = self._import(ref, where) if ":" in ref else getattr(models, ref, None)
        if not isinstance(found, type):
            raise self.error(where, f"{ref!r} is not a model class")
        return found

    def pager(self, spec: Any, where: str) -> Any:
        from . import paging

        if isinstance(spec, str):
            return (
                self._value(spec, where)
                if spec.startswith("@")
                else self.pager({"kind": spec}, where)
            )
        spec = self._table(spec, where)
        made = self._call(spec, where)
        if made is not None:
            return made
        kind = spec.get("kind")
        if kind not in _PAGERS:
            raise self.error(where, f"kind must be one of {', '.join(_PAGERS)}")
        try:
            cls = getattr(paging, _PAGERS[kind])
            return cls(**{k: v for k, v in spec.items() if k != "kind"})
        except TypeError as exc:
            raise self.error(where, f"bad {kind} pager: {exc}") from None

    def step(self, spec: Any, where: str) -> b.Step:
        if isinstance(spec, str):
            if spec.startswith("@"):
                return self._callable(self.named(spec, where), where)
            if spec not in STEPS:
                raise self.error(where, f"unknown step {spec!r}")
            return STEPS[spec]() if spec in _STEP_FACTORIES else STEPS[spec]  # type: ignore[no-any-return]
        made = self._call(spec, where) if isinstance(spec, Mapping) else None
        if made is not None:
            return made  # type: ignore[no-any-return]
        if not (
            isinstance(spec, Mapping) and len(spec) == 1 and next(iter(spec)) in _STEP_FACTORIES
        ):
            raise self.error(
                where, f"a step is a name or {{keep = ...}} / {{counted = ...}}: {spec!r}"
            )
        ((name, args),) = spec.items()
        return STEPS[name](**args) if isinstance(args, Mapping) else STEPS[name](args)  # type: ignore[no-any-return]

    def signature(self, text: Any, where: str) -> inspect.Signature:
        """``"begin, end, broker_type=None"``: an extension method's parameters
        (``*name`` collects a tuple; ``**name`` becomes the request's ``extra``)."""
        try:
            fn = ast.parse(f"def f(self, {text}): pass").body[0]
            assert isinstance(fn, ast.FunctionDef)
            a, kind = fn.args, inspect.Parameter
            pos = [*a.posonlyargs, *a.args][1:]
            defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
            out = [
                kind(p.arg, kind.POSITIONAL_OR_KEYWORD, default=_literal(d))
                for p, d in zip(pos, defaults, strict=True)
            ]
            out += [kind(a.vararg.arg, kind.VAR_POSITIONAL)] if a.vararg else []
            out += [
                kind(p.arg, kind.KEYWORD_ONLY, default=_literal(d))
                for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
            ]
            out += [kind(a.kwarg.arg, kind.VAR_KEYWORD)] if a.kwarg else []
            return inspect.Signature(out)
        except (SyntaxError, ValueError, AssertionError) as exc:
            raise self.error(f"{where}.signature", f"not a parameter list: {exc}") from None


def _literal(node: ast.expr | None) -> Any:
    return inspect.Parameter.empty if node is None else ast.literal_eval(node)


def _frozen(value: Any) -> Any:
    """TOML arrays as tuples (hashable, like the Python the file replaces)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _path(path: str) -> Callable[[Any, b.Ctx], Any]:
    """A dotted request attribute: None as soon as one step is None."""
    steps = path.split(".")

    def source(request: Any, _ctx: b.Ctx) -> Any:
        value = request
        for step in steps:
            value = None if value is None else getattr(value, step)
        return value

    return source


def _keyword_method(binding: b.Binding, signature: inspect.Signature) -> Any:
    """An extension method: its arguments are the binding's request (``**name``: extra)."""
    var_kw = next((p.name for p in signature.parameters.values() if p.kind == p.VAR_KEYWORD), "")

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        fields = dict(bound.arguments)
        extra = fields.pop(var_kw, None) if var_kw else None
        return await binding(self, SimpleNamespace(**fields, extra=extra))

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()]
    )
    method.__doc__ = binding.doc or f"Calls {binding.endpoint}."
    return method


# ----------------------------------------------------------- source kinds


def _option(ld: _Loader, name: str, kw: dict[str, Any], where: str) -> Any:
    default = kw.pop("default", None)
    for key in ("extra_keys", "choices"):
        if key in kw:
            kw[key] = _frozen(kw[key])
    source = b.option(kw.pop("field", None), name, **kw)
    if default is None:
        return source
    return lambda r, c: source(r, c) or default


def _join(ld: _Loader, field: str, kw: dict[str, Any], where: str) -> Any:
    return b.joined_as(field, kw.pop("table", None), **kw)


def _text(ld: _Loader, field: str, kw: dict[str, Any], where: str) -> Any:
    lower = kw.pop("lower", False)
    if kw:
        raise TypeError(f"unknown option(s) {sorted(kw)}")
    get = _path(field)

    def source(request: Any, ctx: b.Ctx) -> Any:
        value = get(request, ctx)
        return None if value is None else str(value).lower() if lower else str(value)

    return source


def _extra(ld: _Loader, key: str, kw: dict[str, Any], where: str) -> Any:
    return lambda r, _c: (getattr(r, "extra", None) or {}).get(key)


def _const(ld: _Loader, value: Any, kw: dict[str, Any], where: str) -> Any:
    if kw:
        raise TypeError(f"unknown option(s) {sorted(kw)}")
    return b.const(_frozen(value))


def _map(ld: _Loader, key: str, kw: dict[str, Any], where: str) -> Any:
    table: dict[Any, Any] = dict(kw.pop("table"))
    for text, flag in (("true", True), ("false", False)):  # a JSON boolean matches too
        if text in table:
            table[flag] = table[text]
    keep = kw.pop("keep", False)
    return b.mapped(key, table, default=b.KEEP if keep else kw.pop("default", None), **kw)


def _split(ld: _Loader, key: str, kw: dict[str, Any], where: str) -> Any:
    return b.split(key, **kw)


_PARAM_KINDS: Mapping[str, Callable[..., Any]] = {
    "const": _const,
    "option": _option,
    "join": _join,
    "epoch_ms": lambda ld, f, kw, w: b.epoch_ms(f),
    "refuse": lambda ld, fs, kw, w: b.refuse(*fs),
    "text": _text,
    "extra": _extra,
}
_FIELD_KINDS: Mapping[str, Callable[..., Any]] = {
    "const": _const,
    "request": lambda ld, src, kw, w: b.from_request(ld.param(src, w)),
    "map": _map,
    "split": _split,
}
