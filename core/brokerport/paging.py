"""One pager for every vendor (botocore's ``paginate.py`` is the model).

A list operation returns :class:`brokerport.models.Page` — the items and an
opaque ``next_cursor`` — and :func:`brokerport.paginate` walks pages by
passing that cursor back in the request's ``cursor`` field. How a vendor
pages is data: one of these strategies, configured per binding.

* :class:`PageNumber` — ``page``/``size`` parameters; more pages when the
  answer's total-pages, has-more or total-count field says so, or (with none
  of those) when a page came back full.
* :class:`Cursor` — an opaque token in the answer, sent back as a parameter.
* :class:`TimeCursor` — "older than" a timestamp: the next page starts at the
  last item's time; a full page means there may be more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

__all__ = ["Cursor", "PageNumber", "Pager", "TimeCursor", "serve_page"]


def _at(data: Any, path: str) -> Any:
    global _dig
    if _dig is None:
        from .binding import dig  # binding imports paging: bound on first use

        _dig = dig
    return _dig(data, path)


_dig: Callable[[Any, str], Any] | None = None


def _meta(data: Any, path: str | None) -> Any:
    """A paging field of the answer; absent or empty is None."""
    if not path:
        return None
    try:
        value = _at(data, path)
    except (LookupError, TypeError, ValueError):
        return None
    return None if value is None or value == "" else value


def _size(request: Any) -> int | None:
    limit = getattr(request, "limit", None)
    return None if limit is None else int(limit)


def _cursor_and_size(
    request: Any, cursor_param: str, size_param: str | None, as_text: bool
) -> dict[str, Any]:
    """The request's ``cursor`` and ``limit`` as the vendor's parameters."""
    out: dict[str, Any] = {}
    cursor = getattr(request, "cursor", None)
    if cursor is not None:
        out[cursor_param] = cursor
    size = _size(request)
    if size is not None and size_param:
        out[size_param] = str(size) if as_text else size
    return out


def _raw(item: Any) -> Mapping[str, Any]:
    raw = getattr(item, "raw", item)
    return raw if isinstance(raw, Mapping) else {}


class Pager(Protocol):
    """How one operation pages: request parameters, items, the next cursor."""

    def request_params(self, request: Any) -> dict[str, Any]: ...

    def items_of(self, data: Any) -> Any: ...

    def next_cursor(self, data: Any, items: Sequence[Any], request: Any) -> str | None: ...


@attrs.frozen(slots=True, kw_only=True)
class PageNumber:
    """Numbered pages: ``page`` (the cursor) and ``size`` (the request's limit)."""

    page: str = "page"
    size: str | None = "limit"
    #: where the items are, inside the payload part the binding points at
    items: str = ""
    #: answer fields telling whether there is more (first one present wins)
    total_pages: str | None = None
    has_more: str | None = None
    total: str | None = None
    #: the answer's current page number (else: the page asked for)
    current: str | None = None
    first: int = 1
    #: size used to judge "full page" when the request gives none
    default_size: int | None = None
    #: send the size as text (some vendors want strings)
    as_text: bool = True

    def request_params(self, request: Any) -> dict[str, Any]:
        return _cursor_and_size(request, self.page, self.size, self.as_text)

    def items_of(self, data: Any) -> Any:
        return _at(data, self.items)

    def next_cursor(self, data: Any, items: Sequence[Any], request: Any) -> str | None:
        asked = getattr(request, "cursor", None)
        current = _meta(data, self.current)
        page = int(str(current if current is not None else (asked or self.first)))
        if not items:
            return None
        total_pages = _meta(data, self.total_pages)
        if total_pages is not None:
            return str(page + 1) if page < int(str(total_pages)) else None
        has_more = _meta(data, self.has_more)
        if has_more is not None:
            more = has_more is True or str(has_more).lower() in ("1", "true", "yes")
            return str(page + 1) if more else None
        size = _size(request) or self.default_size
        total = _meta(data, self.total)
        if total is not None and size:
            return str(page + 1) if (page - self.first + 1) * size < int(str(total)) else None
        if size and len(items) >= size:
            return str(page + 1)
        return None


@attrs.frozen(slots=True, kw_only=True)
class _TokenPager:
    """A cursor sent back as ``param``, the page size as ``size``."""

    param: str = "cursor"
    size: str | None = "limit"
    items: str = ""
    as_text: bool = True

    def request_params(self, request: Any) -> dict[str, Any]:
        return _cursor_and_size(request, self.param, self.size, self.as_text)

    def items_of(self, data: Any) -> Any:
        return _at(data, self.items)


@attrs.frozen(slots=True, kw_only=True)
class Cursor(_TokenPager):
    """An opaque token: the answer's ``next`` field, sent back as ``param``."""

    next: str = "next_cursor"

    def next_cursor(self, data: Any, items: Sequence[Any], request: Any) -> str | None:
        token = _meta(data, self.next)
        # a repeated token is left to paginate(), which refuses it loudly
        if token is None or not items:
            return None
        return str(token)


@attrs.frozen(slots=True, kw_only=True)
class TimeCursor(_TokenPager):
    """Older-than paging: the cursor is the last item's ``key`` (e.g. ``ts``)."""

    param: str = "after"
    key: str = "ts"
    #: the vendor's page size when the request gives none
    default_size: int = 100

    def next_cursor(self, data: Any, items: Sequence[Any], request: Any) -> str | None:
        if len(items) < (_size(request) or self.default_size):
            return None
        last = _raw(items[-1]).get(self.key)
        return None if last in (None, "") else str(last)


# ------------------------------------------------------------ the server side
# The sandbox answers listings with the same pager objects the bindings read them
# with, so what a sandbox sends and what a client expects cannot drift apart.


def _text(pager: Any, value: int) -> Any:
    return str(value) if pager.as_text else value


def _put(out: dict[str, Any], path: str | None, value: Any) -> None:
    if path:
        out[path] = value


def serve_page(
    pager: PageNumber | Cursor | TimeCursor,
    items: Sequence[Any],
    params: Mapping[str, Any],
    *,
    default_size: int = 20,
) -> Any:
    """One page of ``items`` as the vendor answers it, for the request ``params``.

    ``PageNumber``: the page asked for, with whichever of current page, total
    pages, has-more and total count the pager reads. ``Cursor``: an opaque token
    (an encoded offset; a token the sandbox did not issue raises ValueError).
    ``TimeCursor``: items whose ``key`` is older than the cursor, newest first.
    """
    import base64

    size_text = params.get(pager.size) if pager.size else None
    if isinstance(pager, TimeCursor):
        size = int(size_text or pager.default_size)
        after = params.get(pager.param)
        rows = [i for i in items if after in (None, "") or int(i[pager.key]) < int(after)]
        rows.sort(key=lambda i: int(i[pager.key]), reverse=True)
        return rows[:size] if not pager.items else {pager.items: rows[:size]}
    size = int(size_text or getattr(pager, "default_size", None) or default_size)
    if isinstance(pager, Cursor):
        token = params.get(pager.param)
        start = int(base64.urlsafe_b64decode(str(token)).decode()) if token else 0
        end = start + size
        more = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
        return {pager.items: list(items[start:end]), pager.next: more}
    page = int(params.get(pager.page) or pager.first)
    start = (page - pager.first) * size
    out: dict[str, Any] = {pager.items: list(items[start : start + size])}
    _put(out, pager.current, _text(pager, page))
    _put(out, pager.total_pages, _text(pager, max(1, -(-len(items) // size))))
    _put(out, pager.has_more, start + size < len(items))
    _put(out, pager.total, _text(pager, len(items)))
    return out
