"""Plugin discovery with stevedore over ``brokerport.adapters`` / ``brokerport.sandboxes``.

* Lazy: nothing is imported until asked; loading one adapter imports only its
  entry point's module.
* A plugin that fails to import is reported with its error
  (``on_load_failure_callback``); the others keep working.
* Two distributions claiming one name is an error, never a silent override
  (stevedore's ``DriverManager`` raises ``MultipleMatches``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .errors import PluginError

if TYPE_CHECKING:
    from .adapter import Adapter
    from .testing.sandbox import Sandbox

ADAPTERS = "brokerport.adapters"
SANDBOXES = "brokerport.sandboxes"

__all__ = ["ADAPTERS", "SANDBOXES", "PluginInfo", "list_plugins", "load_adapter", "load_sandbox"]


@attrs.frozen(slots=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    adapter: type[Adapter] | None = None
    error: str | None = None
    has_sandbox: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _entry_points(group: str) -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def _dist(ep: Any) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _describe_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:297] + "..."


def list_plugins(*, load: bool = True) -> list[PluginInfo]:
    """Every adapter entry point, loaded (unless ``load=False``) or with its error."""
    eps = _entry_points(ADAPTERS)
    sandbox_names = {ep.name for ep in _entry_points(SANDBOXES)}
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
    for ep in sorted(eps, key=lambda e: e.name):
        dist, version = _dist(ep)
        error = failures.get(ep.name)
        adapter = loaded.get(ep.name)
        if counts[ep.name] > 1:
            error = f"conflict: {counts[ep.name]} distributions register adapter {ep.name!r}"
            adapter = None
        elif adapter is not None and error is None:
            error = _check_adapter(ep.name, adapter)
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
