"""Endpoint catalogs as data: definition checks, request validation before any I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from brokerport import InvalidRequest, PluginError
from brokerport.catalog import (
    Catalog,
    Endpoint,
    Param,
    RateLimit,
    int_range,
    max_len,
    one_of,
    pattern,
)
from fakex_vendor import CATALOG, mock_client, never_called

# ------------------------------------------------------------ definitions


def test_path_placeholder_needs_a_param() -> None:
    with pytest.raises(PluginError, match="placeholder"):
        Endpoint("x.get", "GET", "/x/{x_id}")
    with pytest.raises(PluginError, match="placeholder"):
        Endpoint("x.get", "GET", "/x/{x_id}/y/{y_id}", (Param("x_id", "path"),))
    ep = Endpoint("x.get", "GET", "/x/{x_id}", (Param("x_id", "path"),))
    assert ep.render_path({"x_id": "a/b c"}) == "/x/a%2Fb%20c"


def test_duplicate_param_names() -> None:
    with pytest.raises(PluginError, match="duplicate"):
        Endpoint("x", "POST", "/x", (Param("a"), Param("a", "query")))


def test_duplicate_endpoint_names_and_routes() -> None:
    a = Endpoint("a", "GET", "/a")
    with pytest.raises(PluginError, match="defined twice"):
        Catalog("v", [a, Endpoint("a", "POST", "/other")])
    with pytest.raises(PluginError, match="route GET /a"):
        Catalog("v", [a, Endpoint("b", "get", "/a")])  # method is normalized first
    # same path, different method is fine
    cat = Catalog("v", [a, Endpoint("a.create", "POST", "/a")])
    assert len(cat) == 2 and "a" in cat and "zzz" not in cat
    assert list(cat) == ["a", "a.create"]
    assert repr(cat) == "Catalog('v', 2 endpoints)"


def test_unknown_endpoint_name_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="no endpoint named 'nope'") as info:
        CATALOG["nope"]
    assert info.value.vendor == "fakex"


def test_bad_rate_limits() -> None:
    for count, per in [(0, 1), (-1, 1), (1, 0), (5, -1)]:
        with pytest.raises(PluginError):
            RateLimit(count, per)
    assert RateLimit(20, 2).describe() == "20/2s"
    assert RateLimit(5, 1).describe() == "5/s"
    assert RateLimit(100, 60).describe() == "100/min"
    assert RateLimit(1000, 3600).describe() == "1000/h"


def test_idempotency_defaults() -> None:
    assert Endpoint("a", "get", "/a").is_idempotent
    assert Endpoint("a", "get", "/a").method == "GET"
    assert Endpoint("a", "HEAD", "/a").is_idempotent
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert not Endpoint("a", method, "/a").is_idempotent
    assert Endpoint("a", "PUT", "/a", idempotent=True).is_idempotent
    assert not Endpoint("a", "GET", "/a", idempotent=False).is_idempotent
    ep = CATALOG["sub.create"]
    assert ep.sensitive_names == frozenset({"trade_password"})
    assert ep.param("name") is not None and ep.param("nope") is None


# ------------------------------------------------------------- validation


def _fail(ep: Endpoint, params: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        ep.validate(params, vendor="v")
    assert info.value.endpoint == ep.name and info.value.vendor == "v"
    return info.value


def test_required_and_unknown_params() -> None:
    ep = CATALOG["order.place"]
    ok = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}
    ep.validate(ok)
    for missing in ("symbol", "side", "qty"):
        err = _fail(ep, {k: v for k, v in ok.items() if k != missing})
        assert err.field == missing and "required" in err.message
    # None and "" count as missing
    assert _fail(ep, {**ok, "qty": None}).field == "qty"
    assert _fail(ep, {**ok, "qty": ""}).field == "qty"
    err = _fail(ep, {**ok, "colour": "red", "bogus": 1})
    assert err.field == "bogus" and "bogus" in err.message and "colour" in err.message
    # path params are required even when not marked required
    assert _fail(CATALOG["account.get"], {}).field == "account_id"
    # a non-strict endpoint lets unknown parameters through
    loose = Endpoint("l", "POST", "/l", (Param("a"),), strict=False)
    loose.validate({"a": 1, "extra": 2})


def test_floats_are_refused() -> None:
    ep = CATALOG["order.place"]
    err = _fail(ep, {"symbol": "BTC-USD", "side": "buy", "qty": 0.1})
    assert err.field == "qty" and "float" in err.message
    ep.validate({"symbol": "BTC-USD", "side": "buy", "qty": Decimal("0.1")})
    ep.validate({"symbol": "BTC-USD", "side": "buy", "qty": 3})


def test_rules() -> None:
    ep = CATALOG["order.place"]
    base = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}
    assert "BASE-QUOTE" in _fail(ep, {**base, "symbol": "btc_usd"}).message
    assert "one of buy, sell" in _fail(ep, {**base, "side": "hold"}).message
    assert "at most 32" in _fail(ep, {**base, "client_id": "x" * 33}).message
    # the whole-request check
    assert "needs a price" in _fail(ep, {**base, "type": "limit"}).message
    ep.validate({**base, "type": "limit", "price": "10"})
    lim = CATALOG["account.list"]
    lim.validate({"limit": 100})
    lim.validate({"limit": "5"})
    assert "between 1 and 100" in _fail(lim, {"limit": 101}).message
    assert "integer" in _fail(lim, {"limit": "ten"}).message
    assert "integer" in _fail(lim, {"limit": "5.0"}).message


def test_rule_helpers_directly() -> None:
    assert pattern(r"\d+", "digits")("123") is None
    assert pattern(r"\d+", "digits")(123) == "digits"  # not a str
    assert pattern(r"\d+", "digits")("12a") == "digits"  # full match
    assert one_of(1, 2)("2") is None and one_of(1, 2)(3) is not None
    assert max_len(3)("abc") is None and max_len(3)("abcd") is not None
    r = int_range(0, 10)
    assert r(0) is None and r("10") is None and r(11) is not None and r(" 5 ") is None


# ----------------------------------------- invalid input never reaches the wire


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("order.place", {"side": "buy", "qty": "1"}, "symbol"),
        ("order.place", {"symbol": "BTC-USD", "side": "buy", "qty": 1.5}, "qty"),
        ("order.place", {"symbol": "BTC-USD", "side": "buy", "qty": "1", "x": 1}, "x"),
        ("order.place", {"symbol": "BTC-USD", "side": "sideways", "qty": "1"}, "side"),
        ("order.place", {"symbol": "BTC-USD", "side": "buy", "qty": "1", "type": "limit"}, None),
        ("sub.create", {"name": "AB"}, "name"),
        ("account.get", {}, "account_id"),
        ("account.list", {"limit": 0}, "limit"),
    ],
)
async def test_invalid_input_raises_before_io(
    endpoint: str, params: dict[str, Any], field: str | None
) -> None:
    client, transport = mock_client(never_called)
    async with client:
        with pytest.raises(InvalidRequest) as info:
            await client.call(endpoint, **params)
    assert transport.requests == []
    assert info.value.field == field
    assert info.value.endpoint == endpoint and info.value.vendor == "fakex"


async def test_unencodable_value_is_invalid_request_before_io() -> None:
    client, transport = mock_client(never_called)
    async with client:
        with pytest.raises(InvalidRequest):
            # passes the catalog rules (no rule on price) but cannot be JSON-encoded
            await client.call("order.place", symbol="BTC-USD", side="buy", qty="1", price=object())
        with pytest.raises(InvalidRequest):
            await client.call("account.list", limit=1, cursor=1.5)  # a float in the query
    assert transport.requests == []


def test_cost_must_fit_the_rate_limit() -> None:
    Endpoint("ok", "GET", "/ok", rate_limit=RateLimit(5, 1), cost=5)
    with pytest.raises(PluginError, match="cost 6"):
        Endpoint("big", "GET", "/big", rate_limit=RateLimit(5, 1), cost=6)
    with pytest.raises(PluginError, match="cost 0"):
        Endpoint("free", "GET", "/free", cost=0)


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")]
)
async def test_non_finite_decimals_are_refused_before_io(value: Decimal) -> None:
    ep = CATALOG["order.place"]
    err = _fail(ep, {"symbol": "BTC-USD", "side": "buy", "qty": value})
    assert err.field == "qty" and "finite" in err.message
    client, transport = mock_client(never_called)
    async with client:
        with pytest.raises(InvalidRequest):
            await client.call("order.place", symbol="BTC-USD", side="buy", qty="1", price=value)
    assert transport.requests == []


def test_idempotency_param_must_be_declared() -> None:
    with pytest.raises(PluginError, match="idempotency_param 'cid'"):
        Endpoint("x", "POST", "/x", (Param("a"),), idempotency_param="cid")
    Endpoint("x", "POST", "/x", (Param("a"), Param("cid")), idempotency_param="cid")
    # a loose endpoint passes undeclared parameters through, so it may omit it
    Endpoint("x", "POST", "/x", (Param("a"),), idempotency_param="cid", strict=False)


# DELETE may carry a body (WhaleAPI has three such endpoints): see test_delete_body
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_body_params_on_bodiless_methods_are_refused(method: str) -> None:
    # Param's default location is "body": on a GET it would be silently dropped
    with pytest.raises(PluginError, match="no body for a"):
        Endpoint("x", method, "/x", (Param("a"),))
    Endpoint("x", method, "/x", (Param("a", "query"),))


@pytest.mark.parametrize("value", [".", "..", "../x", "a/../../b", "..\\x", "./a"])
async def test_dot_segments_in_path_params_are_refused(value: str) -> None:
    # /accounts/.. would be resolved by a server or proxy to another endpoint
    err = _fail(CATALOG["account.get"], {"account_id": value})
    assert err.field == "account_id"
    client, transport = mock_client(never_called)
    async with client:
        with pytest.raises(InvalidRequest):
            await client.call("order.replace", order_id=value, qty="1")
    assert transport.requests == []
    # other values with dots or slashes are escaped and harmless
    for fine in ("a.b", "...", "a/b", "..a", "%2e%2e"):
        CATALOG["account.get"].validate({"account_id": fine})
    assert CATALOG["account.get"].render_path({"account_id": "a/b"}) == "/api/v1/accounts/a%2Fb"


def test_header_params_refuse_control_characters() -> None:
    ep = Endpoint("h", "GET", "/h", (Param("X-Tenant", "header"),))
    ep.validate({"X-Tenant": "t1\tok"})  # a tab is legal in a header value
    for bad in ("t1\r\nX-Evil: 1", "t1\n", "t\x00"):
        assert _fail(ep, {"X-Tenant": bad}).field == "X-Tenant"


async def test_a_rule_that_raises_still_means_invalid_request() -> None:
    from decimal import Decimal as D

    def positive(value: Any) -> str | None:
        return None if D(str(value)) > 0 else "must be positive"  # raises on "abc"

    def needs_side(params: Any) -> str | None:
        return None if params["side"] else "side"  # KeyError without a side

    ep = Endpoint(
        "r", "POST", "/r", (Param("qty", rules=(positive,)), Param("side")), check=needs_side
    )
    assert "InvalidOperation" in _fail(ep, {"qty": "abc", "side": "buy"}).message
    assert "must be positive" in _fail(ep, {"qty": "-1", "side": "buy"}).message
    assert "KeyError" in _fail(ep, {"qty": "1"}).message
    ep.validate({"qty": "1", "side": "buy"})


# ------------------------------------------------------------ request building


def _build(endpoint: Endpoint, params: dict[str, Any]) -> Any:
    from brokerport.adapter import Adapter
    from brokerport.profile import Profile

    return Adapter(Profile(vendor="x", base_url="http://127.0.0.1:1/")).build_request(
        endpoint, params, {}
    )


QUERY_VALUES: list[Any] = [
    "BTC",
    "BTC-USDT",
    "a_b.c~d",
    "a b",
    "a+b",
    "a&b=c",
    "50%",
    "é€",
    "/x/../y",
    "",
    Decimal("1.50"),
    Decimal("1E+2"),
    True,
    7,
]


@pytest.mark.parametrize("value", QUERY_VALUES, ids=repr)
def test_query_is_percent_encoded_exactly_once(value: Any) -> None:
    from urllib.parse import parse_qsl, quote

    from brokerport.adapter import encode_value

    ep = Endpoint("q", "GET", "/q", (Param("k y", "query"), Param("n", "query")))
    request = _build(ep, {"k y": value, "n": "1"})
    text = encode_value(value)
    assert request.query == f"k%20y={quote(text, safe='')}&n=1"
    assert dict(parse_qsl(request.query, keep_blank_values=True)) == {"k y": text, "n": "1"}
    assert request.url == f"http://127.0.0.1:1/q?{request.query}"


def test_query_of_a_non_strict_endpoint_keeps_extra_params_in_order() -> None:
    ep = Endpoint("q", "GET", "/q", (Param("a", "query"),), strict=False)
    request = _build(ep, {"z z": "1/2", "a": "x", "b": None, "c": Decimal("2.0")})
    assert request.query == "a=x&z%20z=1%2F2&c=2.0"


def test_no_query_no_question_mark() -> None:
    ep = Endpoint("q", "GET", "/q", (Param("a", "query"),))
    request = _build(ep, {"a": None})
    assert request.query == "" and request.url == "http://127.0.0.1:1/q"


def test_an_array_body_endpoint_sends_its_one_array_as_the_body() -> None:
    items = Param("orders", type="array", required=True)
    ep = Endpoint("b", "POST", "/b", (items,), tags=frozenset({"array_body"}))
    request = _build(ep, {"orders": [{"px": Decimal("1.50")}, {"px": "2"}]})
    assert request.body == b'[{"px":"1.50"},{"px":"2"}]'
    assert request.headers["Content-Type"] == "application/json"
