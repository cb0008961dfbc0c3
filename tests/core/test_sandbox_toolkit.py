"""The catalog-driven sandbox toolkit (``brokerport.sandbox``): routing, parameter parsing
and validation from the catalog, vendor answers through the shared envelope and error
table, fixtures, unknown routes, the raw journal, closing in-flight connections."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, ClassVar
from unittest.mock import ANY

import aiohttp
import pytest
from aiohttp import web
from brokerport import BrokerportError, InvalidRequest, NotFound
from brokerport.adapter import VendorFault
from brokerport.catalog import Catalog, Endpoint, Param, int_range, pattern
from brokerport.errors import DecodeError
from brokerport.paging import Cursor, PageNumber, TimeCursor, serve_page
from brokerport.sandbox import Fixture, Reject, Sandbox, coerce_options, handles
from brokerport.wire import CodeEnvelope, Envelope, ErrorTable
from yarl import URL

CATALOG = Catalog(
    "tinyv",
    [
        Endpoint(
            "item.create",
            "POST",
            "/v1/items",
            params=(
                Param("name", required=True, rules=(pattern("[a-z]{3,8}", "3-8 letters"),)),
                Param("size", rules=(int_range(1, 9),)),
            ),
            check=lambda p: "size needs a name" if p.get("size") and not p.get("name") else None,
        ),
        Endpoint(
            "item.list",
            "GET",
            "/v1/items",
            params=(Param("tag", "query", type="array"), Param("page", "query")),
        ),
        Endpoint("item.get", "GET", "/v1/items/{name}", params=(Param("name", "path"),)),
        Endpoint("item.form", "POST", "/v1/form", body="form", params=(Param("a", required=True),)),
        Endpoint(
            "item.batch",
            "POST",
            "/v1/batch",
            tags=frozenset({"array_body"}),
            params=(Param("items", type="array", required=True),),
        ),
        Endpoint("ref.colours", "GET", "/v1/colours", params=(Param("name", "query"),)),
        Endpoint("slow", "GET", "/v1/slow"),
        Endpoint("nobody", "GET", "/v1/nobody"),
    ],
)
ENVELOPE = CodeEnvelope(code="code", message="msg", data="data", success="0")
ERRORS = ErrorTable(
    {
        "E400": (InvalidRequest, 400, "bad parameter {0}"),
        "E401": (InvalidRequest, 400, "missing parameter {0}"),
        "E404": (NotFound, 404, "no such thing"),
        "E405": (InvalidRequest, 405, "method not allowed on {0}"),
        "E409": (BrokerportError, 409, "exists"),
    }
)


class TinySandbox(Sandbox):
    vendor = "tinyv"
    envelope, errors = ENVELOPE, ERRORS
    codes: ClassVar[dict[str, str]] = {
        "missing": "E401",
        "invalid": "E400",
        "not_json": "E400",
        "empty_body": "E400",
        "content_type": "E400",
        "not_found": "E404",
        "method": "E405",
    }
    fixtures: ClassVar[dict[str, Fixture]] = {"ref.colours": Fixture("colours", ("name",))}

    def __init__(self, **kw: Any) -> None:
        super().__init__(CATALOG, **kw)
        self.items: dict[str, dict[str, Any]] = {}
        self.started = asyncio.Event()

    def fixture_data(self) -> dict[str, Any]:
        return {"colours": [{"name": "red"}, {"name": "green"}, {"name": "blue"}]}

    @handles("item.create")
    def create(self, request: web.Request, p: dict[str, Any]) -> Any:
        Reject.when(p["name"] in self.items, "E409", headers={"X-Why": "dup"})
        self.items[p["name"]] = {"name": p["name"], "size": p.get("size")}
        return self.effect(request, [self.items[p["name"]]])

    @handles("item.list")
    def list_(self, request: web.Request, p: dict[str, Any]) -> Any:
        return {"tags": p.get("tag"), "query": request.rel_url.raw_query_string}

    @handles("item.get")
    def get(self, request: web.Request, p: dict[str, Any]) -> Any:
        return [Reject.absent(self.items.get(p["name"]), "E404")]

    @handles("item.form", "item.batch")
    def echo(self, request: web.Request, p: dict[str, Any]) -> Any:
        return web.json_response({"endpoint": self.endpoint_of(request), "params": p})

    @handles("slow")
    async def slow(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.started.set()
        await asyncio.Event().wait()  # never answers


@pytest.fixture
async def tiny() -> AsyncIterator[TinySandbox]:
    box = TinySandbox(enforce_rate_limits=False)
    await box.start()
    yield box
    await box.stop()


async def call(
    box: Sandbox, method: str, path: str, *, json_body: Any = None, data: Any = None, **kw: Any
) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, f"{box.base_url}{path}", json=json_body, data=data, **kw) as r,
    ):
        return r.status, await r.json(content_type=None), r.headers


def test_testing_sandbox_is_a_re_export() -> None:
    import brokerport.sandbox as new
    import brokerport.testing.sandbox as old

    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name)


def test_import_brokerport_does_not_load_the_toolkit() -> None:
    code = (
        "import sys, brokerport\n"
        "from brokerport.registry import list_plugins\n"
        "list_plugins()\n"
        "print(sorted(m for m in sys.modules if m.startswith('brokerport.sandbox')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_every_endpoint_is_routed_from_the_catalog(tiny: TinySandbox) -> None:
    assert tiny.unrouted() == ["nobody"]
    status, body, _ = await call(tiny, "POST", "/v1/items", json_body={"name": "abc", "size": 3})
    assert status == 200 and body == {"code": "0", "msg": "", "data": [{"name": "abc", "size": 3}]}
    assert len(tiny.journal.effects("item.create")) == 1
    status, body, headers = await call(tiny, "POST", "/v1/items", json_body={"name": "abc"})
    assert (status, body["code"], body["msg"], headers["X-Why"]) == (409, "E409", "exists", "dup")
    status, body, _ = await call(tiny, "GET", "/v1/items/zzz")
    assert (status, body["code"]) == (404, "E404")


@pytest.mark.parametrize(
    ("body", "code", "msg"),
    [
        ({"size": 3}, "E401", "missing parameter name"),
        ({"name": "AB"}, "E400", "bad parameter name"),
        ({"name": "abc", "size": 10}, "E400", "bad parameter size"),
        ({"name": "abc", "unknown": 1}, "0", ""),  # most vendors ignore what they do not know
    ],
)
async def test_parameters_are_checked_with_the_clients_rules(
    tiny: TinySandbox, body: Any, code: str, msg: str
) -> None:
    _, answer, _ = await call(tiny, "POST", "/v1/items", json_body=body)
    assert (answer["code"], answer["msg"]) == (code, msg)


async def test_bodies_and_queries(tiny: TinySandbox) -> None:
    status, body, _ = await call(
        tiny, "POST", "/v1/items", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert (status, body["code"]) == (400, "E400")
    status, body, _ = await call(
        tiny, "POST", "/v1/items", data=b"", headers={"Content-Type": "application/json"}
    )
    assert body["code"] == "E400"  # an empty POST body
    status, body, _ = await call(
        tiny, "POST", "/v1/items", data=b"name=abc", headers={"Content-Type": "text/plain"}
    )
    assert body["code"] == "E400"  # wrong content type
    _, body, _ = await call(tiny, "POST", "/v1/form", data={"a": "1 2"})
    assert body == {"endpoint": "item.form", "params": {"a": "1 2"}}
    _, body, _ = await call(tiny, "POST", "/v1/batch", json_body=[{"x": Decimal(1).__int__()}])
    assert body["params"] == {"items": [{"x": 1}]}  # array_body: the list is the one parameter
    raw = "tag=a%2Fb&tag=c+d&page=%7E1"
    url = f"{tiny.base_url}/v1/items?{raw}"
    async with aiohttp.ClientSession() as s, s.get(URL(url, encoded=True)) as r:
        body = await r.json()
    assert body["data"]["tags"] == ["a/b", "c d"]
    assert tiny.journal.last().query == raw  # exactly as received, never re-encoded


async def test_unknown_routes_are_answered_in_the_vendors_envelope(tiny: TinySandbox) -> None:
    status, body, _ = await call(tiny, "GET", "/v1/nowhere")
    assert (status, body) == (404, {"code": "E404", "msg": "no such thing", "data": []})
    status, body, _ = await call(tiny, "DELETE", "/v1/items")
    assert (status, body["code"], body["msg"]) == (405, "E405", "method not allowed on /v1/items")
    assert [(e.endpoint, e.status) for e in tiny.journal][-2:] == [(None, 404), (None, 405)]


async def test_fixtures_answer_reference_data(tiny: TinySandbox) -> None:
    _, body, _ = await call(tiny, "GET", "/v1/colours?name=red,blue")
    assert body["data"] == [{"name": "red"}, {"name": "blue"}]
    _, body, _ = await call(tiny, "GET", "/v1/colours")
    assert len(body["data"]) == 3


async def test_stop_closes_connections_in_flight() -> None:
    box = TinySandbox()
    await box.start()
    async with aiohttp.ClientSession() as s:
        request = asyncio.ensure_future(s.get(f"{box.base_url}/v1/slow"))
        await asyncio.wait_for(box.started.wait(), 10)
        transports = list(box._inflight)
        assert len(transports) == 1
        await box.stop()
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(request, 10)
    assert not box._inflight and all(t.is_closing() for t in transports)


def test_envelope_and_error_table_are_shared() -> None:
    assert ERRORS.status("E404") == 404 and ERRORS.message("E400", "x") == "bad parameter x"
    assert ERRORS.status("nope") == 200 and ERRORS.message("nope") == ""
    emap = ERRORS.error_map()
    assert emap.classify("E404", 200) is NotFound
    doc = ENVELOPE.fail("E404", "gone")
    with pytest.raises(VendorFault) as info:
        ENVELOPE.unwrap(doc, http_status=404, vendor="tinyv")
    assert (info.value.code, info.value.message) == ("E404", "gone")
    assert ENVELOPE.unwrap(ENVELOPE.wrap([1]), http_status=200, vendor="tinyv") == [1]
    with pytest.raises(DecodeError):
        ENVELOPE.unwrap({"x": 1}, http_status=200, vendor="tinyv")


def test_paging_objects_serve_pages_too() -> None:
    items = [{"id": i, "ts": 100 + i} for i in range(5)]
    pages = PageNumber(total_pages="pages", current="page", items="list", total="total")
    first = serve_page(pages, items, {"limit": "2"})
    assert first == {"list": items[:2], "page": "1", "pages": "3", "total": "5"}
    assert (
        pages.next_cursor(first, first["list"], type("R", (), {"cursor": None, "limit": 2})())
        == "2"
    )
    cursor = Cursor(items="items")
    page = serve_page(cursor, items, {"limit": "3"})
    assert page["items"] == items[:3] and page["next_cursor"]
    rest = serve_page(cursor, items, {"limit": "3", "cursor": page["next_cursor"]})
    assert rest == {"items": items[3:], "next_cursor": None}
    with pytest.raises(ValueError):
        serve_page(cursor, items, {"cursor": "not-ours"})
    older = serve_page(TimeCursor(param="after", key="ts"), items, {"after": "103", "limit": "2"})
    assert [i["ts"] for i in older] == [102, 101]


def test_options_are_typed_from_the_sandbox_keywords() -> None:
    from brokerport_acme.sandbox import create_sandbox as acme
    from brokerport_okx.sandbox import create_sandbox as okx

    typed = coerce_options(okx, {"demo": "true", "broker_types": "api,oauth", "seed": "3"})
    assert typed == {"demo": True, "broker_types": ("api", "oauth"), "seed": 3}
    assert coerce_options(okx, {"rebate_delay": "5"}) == {"rebate_delay": 5.0}
    assert coerce_options(acme, {"read_only": "0"}) == {"read_only": False}
    with pytest.raises(ValueError):
        coerce_options(okx, {"demo": "maybe"})
    with pytest.raises(BrokerportError, match="bad acme sandbox option"):
        acme(demo=True)


def test_a_seed_repeats_generated_values() -> None:
    assert TinySandbox(seed=5).token_hex(8) == TinySandbox(seed=5).token_hex(8)
    assert TinySandbox().token_hex(8) != TinySandbox().token_hex(8)


def test_cli_refuses_bad_options() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "brokerport", "sandbox", *args, "--seconds", "0"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)

    out = run("acme", "--option", "nokey")
    assert out.returncode == 1 and "key=value" in out.stderr
    out = run("acme", "--demo")
    assert out.returncode == 1 and "bad acme sandbox option" in out.stderr
    out = run("acme", "-o", "read_only=true", "--no-rate-limits", "--json")
    info = json.loads(out.stdout.splitlines()[0])
    assert info["sandbox_options"] == {"read_only": True, "enforce_rate_limits": False}


class _Picky(TinySandbox):
    """Serves item.* only on paths under /v1/items (as a second portal would), and
    has a handler with a bug."""

    codes: ClassVar[dict[str, str]] = {**TinySandbox.codes, "server_error": "E500"}
    errors = ErrorTable({**{c: ERRORS[c] for c in ERRORS}, "E500": (BrokerportError, 500, "boom")})

    def serves(self, request: web.Request, endpoint: Endpoint) -> bool:
        return endpoint.name != "ref.colours"

    @handles("item.form", "item.batch")
    def echo(self, request: web.Request, p: dict[str, Any]) -> Any:
        raise KeyError("a sandbox bug")


async def test_serves_hides_another_services_endpoints_and_handler_bugs_answer_in_shape() -> None:
    box = _Picky(enforce_rate_limits=False)
    await box.start()
    try:
        status, body, _ = await call(box, "GET", "/v1/colours")
        assert status == 404 and body["code"] == "E404"  # as an unknown path
        assert box.journal.entries[-1].endpoint is None
        status, body, _ = await call(box, "POST", "/v1/form", data={"a": "1"})
        assert status == 500 and (body["code"], body["msg"]) == ("E500", "boom")
        assert box.journal.entries[-1].rejected == "server_error"
    finally:
        await box.stop()


class _Steps:
    """A mixin with options of its own (as a push mixin has)."""

    def __init__(self, *, steps: int = 2, **kw: Any) -> None:
        self.steps = steps
        super().__init__(**kw)


TOUCH = Endpoint(  # served outside the catalog (a call the vendor's spec does not list)
    "item.touch",
    "POST",
    "/v1/touch/{name}",
    params=(Param("name", "path"), Param("X-Who", "header")),
    strict=False,
)
V2 = CodeEnvelope(code="status", message="message", data="result", success="ok")


class _Versioned(_Steps, TinySandbox):
    """``item.get`` at two path versions and in its own envelope; forms unchecked."""

    codes: ClassVar[dict[str, str]] = {
        k: v for k, v in TinySandbox.codes.items() if k != "content_type"
    }

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.serve(TOUCH, lambda request, p: p)

    def routes(self, endpoint: Endpoint) -> tuple[str, ...]:
        extra = (endpoint.route.replace("/v1/", "/v2/"),) if endpoint.name == "item.get" else ()
        return (endpoint.route, *extra)

    def envelope_of(self, endpoint: Endpoint | None) -> Envelope | None:
        return V2 if endpoint is not None and endpoint.name == "item.get" else self.envelope


async def test_routes_envelopes_and_endpoints_outside_the_catalog() -> None:
    box = _Versioned(enforce_rate_limits=False, steps=3)
    await box.start()
    try:
        await call(box, "POST", "/v1/items", json_body={"name": "abc"})
        for version in ("v1", "v2"):
            status, body, _ = await call(box, "GET", f"/{version}/items/abc")
            assert status == 200 and body == {"status": "ok", "message": "", "result": [ANY]}
        status, body, _ = await call(box, "GET", "/v2/items/zzz")
        assert (status, body["status"], body["message"]) == (404, "E404", "no such thing")
        assert [e.endpoint for e in box.journal][-3:] == ["item.get"] * 3
        status, body, _ = await call(box, "GET", "/v2/items")  # not served at v2
        assert (status, body["code"]) == (404, "E404")
        # a path or header parameter is read from there, whatever the body says
        _, body, _ = await call(
            box, "POST", "/v1/touch/abc", json_body={"name": "zzz", "X-Who": "b", "n": 1},
            headers={"X-Who": "a"},
        )  # fmt: skip
        assert body["data"] == {"name": "abc", "X-Who": "a", "n": 1}
        assert box.journal.last().endpoint == "item.touch"  # type: ignore[union-attr]
        # no content_type code: a form is read whatever its Content-Type says
        _, body, _ = await call(
            box, "POST", "/v1/form", data=b"a=1", headers={"Content-Type": "text/plain"}
        )
        assert body["params"] == {"a": "1"}
    finally:
        await box.stop()
    assert coerce_options(_Versioned.factory, {"steps": "3", "seed": "4"}) == {
        "steps": 3,
        "seed": 4,
    }
