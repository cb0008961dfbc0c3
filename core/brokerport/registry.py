"""Plugin discovery with stevedore over ``brokerport.adapters`` / ``brokerport.sandboxes``.

* Lazy: nothing is imported until asked; loading one adapter imports only its
  entry point's module.
* A plugin that fails to import is reported with its error
  (``on_load_failure_callback``); the others keep working.
* Two distributions claiming one name is an error, never a silent override
  (stevedore's ``DriverManager`` raises ``MultipleMatches``).
* Listing is cheap: one scan of the installed distributions (both groups at
  once), each plugin's ``Name``/``Version`` read from its metadata header, and
  the adapter modules imported by stevedore. Port and extension classes are
  not imported unless asked for (``resolve=True``: ``brokerport plugins --strict``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import PluginError

if TYPE_CHECKING:
    from .adapter import Adapter
    from .sandbox import Sandbox

ADAPTERS = "brokerport.adapters"
SANDBOXES = "brokerport.sandboxes"

__all__ = ["ADAPTERS", "SANDBOXES", "PluginInfo", "list_plugins", "load_adapter", "load_sandbox"]


class PluginInfo:
    """One adapter entry point: loaded, or with its error. Immutable; equal when every
    field is. (A plain class, not an attrs one: listing plugins imports no attrs.)"""

    __slots__ = ("adapter", "distribution", "error", "has_sandbox", "name", "version")
    __match_args__ = ("name", "distribution", "version", "adapter", "error", "has_sandbox")

    name: str
    distribution: str | None
    version: str | None
    adapter: type[Adapter] | None
    error: str | None
    has_sandbox: bool

    def __init__(
        self,
        name: str,
        distribution: str | None,
        version: str | None,
        adapter: type[Adapter] | None = None,
        error: str | None = None,
        has_sandbox: bool = False,
    ) -> None:
        values = (name, distribution, version, adapter, error, has_sandbox)
        for field, value in zip(self.__match_args__, values, strict=True):
            object.__setattr__(self, field, value)

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, field) for field in self.__match_args__)

    @property
    def ok(self) -> bool:
        return self.error is None

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"PluginInfo is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"PluginInfo is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PluginInfo) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((PluginInfo, *self._fields()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__match_args__)
        return f"PluginInfo({fields})"

    def __reduce__(self) -> tuple[type[PluginInfo], tuple[object, ...]]:  # copy, pickle
        return PluginInfo, self._fields()


def _entry_points(*groups: str) -> list[list[Any]]:
    """The entry points of each group, from one scan of the installed distributions."""
    from importlib.metadata import entry_points

    found = entry_points()
    return [list(found.select(group=group)) for group in groups]


def _dist(ep: Any, seen: dict[int, tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    """The distribution's name and version, from its metadata header (once per distribution)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    known = seen.get(id(dist))
    if known is None:
        known = seen[id(dist)] = _name_and_version(dist)
    return known


def _name_and_version(dist: Any) -> tuple[str | None, str | None]:
    # Name and Version are single-line fields at the top of the header: read
    # them without the email parser that ``dist.metadata`` builds the whole
    # message with (and imports on first use)
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            break  # the end of the header
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version"):
            fields.setdefault(key, value.strip())
            if len(fields) == 2:
                break
    if len(fields) < 2:
        return dist.metadata["Name"], dist.version
    return fields["Name"], fields["Version"]


def _describe_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:297] + "..."


def list_plugins(*, load: bool = True, resolve: bool = False) -> list[PluginInfo]:
    """Every adapter entry point, loaded (unless ``load=False``) or with its error.

    ``resolve=True`` also imports and checks each loaded adapter's port and
    extension classes (:meth:`~brokerport.adapter.Adapter.resolve`) and its
    catalog: a failure is that plugin's error.
    """
    eps, sandboxes = _entry_points(ADAPTERS, SANDBOXES)
    sandbox_names = {ep.name for ep in sandboxes}
    counts = Counter(ep.name for ep in eps)
    failures: dict[str, str] = {}
    loaded: dict[str, Any] = {}
    if load:
        from stevedore import ExtensionManager

        def failed(manager: Any, ep: Any, exc: BaseException) -> None:
            failures[ep.name] = _describe_error(exc)

        mgr = ExtensionManager(
            ADAPTERS,
            invoke_on_load=False,
            on_load_failure_callback=failed,
        )
        for ext in mgr.extensions:
            loaded.setdefault(ext.name, ext.plugin)
    out = []
    dists: dict[int, tuple[str | None, str | None]] = {}
    for ep in sorted(eps, key=lambda e: e.name):
        dist, version = _dist(ep, dists)
        error = failures.get(ep.name)
        adapter = loaded.get(ep.name)
        if counts[ep.name] > 1:
            error = f"conflict: {counts[ep.name]} distributions register adapter {ep.name!r}"
            adapter = None
        elif adapter is not None and error is None:
            error = _check_adapter(ep.name, adapter)
            if error is None and resolve:
                error = _resolve_adapter(adapter)
            if error:
                adapter = None
        sandbox = (adapter.sandbox if adapter is not None else None) or ep.name
        out.append(PluginInfo(ep.name, dist, version, adapter, error, sandbox in sandbox_names))
    return out


def _check_adapter(name: str, obj: Any) -> str | None:
    from .adapter import Adapter

    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        return f"entry point {name!r} is not a brokerport Adapter subclass"
    if obj.name != name:
        return f"entry point {name!r} loads adapter named {obj.name!r}"
    return None


def _resolve_adapter(adapter: type[Adapter]) -> str | None:
    """Import and check the adapter's port/extension classes, build its catalog and
    its error map."""
    try:
        adapter.resolve()
        adapter.catalog()
        adapter.error_map  # noqa: B018 (built on first read: a bad error table fails here)
    except PluginError as exc:
        return str(exc)
    except Exception as exc:
        return f"{adapter.name}: its catalog does not build: {_describe_error(exc)}"
    return None


def _driver(group: str, name: str, what: str) -> Any:
    from stevedore import DriverManager
    from stevedore.exception import MultipleMatches, NoMatches

    errors: list[str] = []

    def failed(manager: Any, ep: Any, exc: BaseException) -> None:
        errors.append(_describe_error(exc))

    try:
        mgr = DriverManager(
            group,
            name,
            invoke_on_load=False,
            on_load_failure_callback=failed,
        )
    except MultipleMatches:
        raise PluginError(
            f"conflict: more than one installed distribution registers {what} {name!r}",
            vendor=name,
        ) from None
    except NoMatches:
        if errors:
            raise PluginError(f"{what} {name!r} failed to load: {errors[0]}", vendor=name) from None
        raise PluginError(f"no {what} named {name!r} is installed", vendor=name) from None
    return mgr.driver


def load_adapter(name: str) -> type[Adapter]:
    adapter = _driver(ADAPTERS, name, "adapter")
    problem = _check_adapter(name, adapter)
    if problem:
        raise PluginError(problem, vendor=name)
    return adapter  # type: ignore[no-any-return]


def load_sandbox(name: str) -> Callable[..., Sandbox]:
    factory = _driver(SANDBOXES, name, "sandbox")
    if not callable(factory):
        raise PluginError(f"sandbox entry point {name!r} is not callable", vendor=name)
    return factory  # type: ignore[no-any-return]
