"""Bindings, the one pager, auth flows and the endpoint facts the core honours.

A small in-test vendor ("bindx") declares its ports only with ``bind(...)``;
every test runs a real client over MockTransport, so what is asserted is what
went on the wire and what the host got back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import brokerport
import pytest
from brokerport import models as m
from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.binding import (
    KEEP,
    Ctx,
    bind,
    const,
    dig,
    epoch_ms,
    joined,
    mapped,
    option,
    pick,
    split,
)
from brokerport.catalog import Catalog, Endpoint, Param, RateLimit
from brokerport.client import Client, paginate
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    DecodeError,
    InvalidRequest,
    UnknownOutcome,
)
from brokerport.paging import Cursor, PageNumber, TimeCursor
from brokerport.pipeline import RetryPolicy
from brokerport.ports import FundingPort, KeyMgmtPort, Port, SubAccountPort
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest, Signer
from brokerport.transport import MockTransport, RawResponse
from brokerport.types import Secret

CATALOG = Catalog(
    "bindx",
    [
        Endpoint(
            "sub.create",
            "POST",
            "/sub",
            (Param("subName", required=True), Param("note"), Param("region"), Param("kind")),
            reconcile="list sub-accounts by subName",
        ),
        Endpoint(
            "sub.list",
            "GET",
            "/sub",
            (Param("page", "query"), Param("size", "query"), Param("owner", "query")),
        ),
        Endpoint("sub.feed", "GET", "/feed", (Param("cursor", "query"), Param("n", "query"))),
        Endpoint(
            "hist",
            "GET",
            "/hist",
            (Param("after", "query"), Param("limit", "query"), Param("ccy", "query")),
        ),
        Endpoint(
            "key.list",
            "GET",
            "/keys",
            (Param("ids", "query"), Param("owner", "query")),
        ),
        Endpoint("key.delete", "DELETE", "/keys/{id}", (Param("id", "path"), Param("why"))),
        Endpoint("key.drop", "DELETE", "/drop/{id}", (Param("id", "path"),)),
        Endpoint("time", "GET", "/time", auth="public"),
        Endpoint("bal", "GET", "/bal", (Param("acct", "query"), Param("server", "query"))),
        Endpoint(
            "report.get",
            "GET",
            "/{version}/report",
            version="v1",
            service="reports",
        ),
        Endpoint("limited", "GET", "/limited", rate_limit=RateLimit(5, 1, group="all")),
    ],
    services={"default": "", "reports": "reports_url"},
)


def _subaccount_status(item: Mapping[str, Any], ctx: Ctx) -> Any:
    return "enabled" if item.get("on") in (True, "true") else "frozen"


SUB_FIELDS: Mapping[str, Any] = {
    "name": "subName",
    "label": pick("label", "note"),
    "account_id": "uid",
    "status": _subaccount_status,
    "created_at": "ts",
}


class BindxSubs(SubAccountPort):
    create = bind(
        "sub.create",
        params={"subName": "name", "note": "label"},
        defaults={"region": const("eu")},
        at="0",
        into=m.SubAccount,
        fields=SUB_FIELDS,
    )
    list = bind(
        "sub.list",
        params={"owner": option(None, "owner", required=False)},
        at="data",
        page=PageNumber(size="size", items="items", total_pages="pages"),
        into=m.SubAccount,
        fields=SUB_FIELDS,
    )


class BindxKeys(KeyMgmtPort):
    list = bind(
        "key.list",
        params={"ids": "api_key", "owner": "owner"},
        many=True,
        into=m.ApiKey,
        fields={
            "api_key": "id",
            "permissions": split("perm", table={"read_only": "read"}),
            "label": mapped("lbl", {"x": "ex"}, default=KEEP),
        },
    )
    delete = bind(
        "key.delete",
        params={"id": "api_key", "why": const("rotated")},
        into=m.Ack,
        fields={"reference": "id"},
    )


class BindxFunding(FundingPort):
    balances = bind(
        "bal",
        params={"acct": "account_id", "server": option("server_id", "server_id")},
        many=True,
        into=m.Balance,
        fields={"currency": "ccy", "total": "amt"},
    )
    deposit_history = bind(
        "hist",
        params={"after": epoch_ms("end"), "ccy": "currency"},
        page=TimeCursor(),
        into=m.FundingRecord,
        fields={"record_id": "id", "amount": "amt", "kind": lambda i, c: "deposit"},
    )


class Feed(Port):
    port_name = "bindx.feed"
    walk = bind(
        "sub.feed",
        page=Cursor(param="cursor", next="next", size="n", items="items"),
        into=m.SubAccount,
        fields={"name": "n"},
    )


class BindxSigner(Signer):
    def __init__(self) -> None:
        self.prepared = 0
        self.failures: list[str | None] = []
        self.client: Client | None = None
        self.token = "t1"

    def attach(self, client: Client) -> None:
        self.client = client

    async def prepare(self) -> None:
        self.prepared += 1

    def sign(self, request: PreparedRequest, now: float) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"

    def sign_public(self, request: PreparedRequest) -> None:
        request.headers["X-Env"] = "demo"

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        self.failures.append(error.vendor_code)
        assert self.client is not None
        # a sub-request through the same pipeline: public, so not signed and no prepare()
        data = await self.client.invoke("time", {})
        token = data["token"]
        assert isinstance(token, Secret)  # a credential in an answer arrives as a Secret
        self.token = token.reveal()
        return True


class Bindx(Adapter):
    name = "bindx"
    operations = frozenset(
        {
            "subaccounts.create",
            "subaccounts.list",
            "keys.list",
            "keys.delete",
            "funding.deposit_history",
            "funding.balances",
        }
    )
    ports: ClassVar[Mapping[str, type[Port]]] = {
        "subaccounts": BindxSubs,
        "keys": BindxKeys,
        "funding": BindxFunding,
    }
    error_map = ErrorMap({"401": AuthenticationError})

    @classmethod
    def build_catalog(cls) -> Catalog:
        return CATALOG

    def create_signer(self) -> Signer:
        return BindxSigner()

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        doc = parse_json(response, vendor=self.name)
        if isinstance(doc, Mapping) and doc.get("err"):
            raise VendorFault(str(doc["err"]), "failed")
        return doc


Handler = Callable[[PreparedRequest], Any]


def _answer(doc: Any, status: int = 200) -> RawResponse:
    return RawResponse(status, {}, json.dumps(doc).encode())


def _client(handler: Handler, **options: str) -> tuple[Client, MockTransport]:
    transport = MockTransport(handler)
    profile = Profile(vendor="bindx", base_url="http://127.0.0.1:9/", options=options)
    client = Client(
        Bindx, profile, transport=transport, retry=RetryPolicy(base_delay=0, max_delay=0)
    )
    return client, transport


def _query(request: PreparedRequest) -> str:
    return request.query


# ------------------------------------------------------------------- writes


async def test_binding_builds_params_defaults_extra_and_reads_the_model() -> None:
    def handler(request: PreparedRequest) -> RawResponse:
        body = json.loads(request.body or b"{}")
        return _answer(
            [
                {
                    "subName": body["subName"],
                    "note": "n1",
                    "uid": "7",
                    "on": "true",
                    "ts": "1700000000000",
                }
            ]
        )

    client, transport = _client(handler)
    async with client:
        sub = await client.subaccounts.create(
            m.CreateSubAccount(name="desk01", label="n1", extra={"kind": "x"})
        )
    assert json.loads(transport.requests[0].body or b"") == {
        "region": "eu",
        "subName": "desk01",
        "note": "n1",
        "kind": "x",
    }
    assert sub.name == "desk01" and sub.label == "n1" and sub.account_id == "7"
    assert sub.status == "enabled"
    assert sub.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert sub.raw["uid"] == "7"


async def test_extra_overrides_a_default_but_never_a_named_field() -> None:
    client, transport = _client(lambda r: _answer([{"subName": "desk01"}]))
    async with client:
        await client.subaccounts.create(m.CreateSubAccount(name="desk01", extra={"region": "us"}))
        assert json.loads(transport.requests[0].body or b"")["region"] == "us"
        with pytest.raises(InvalidRequest, match="conflicts") as info:
            await client.subaccounts.create(
                m.CreateSubAccount(name="desk01", extra={"subName": "other"})
            )
    assert info.value.field == "subName"
    assert len(transport.requests) == 1  # refused before any I/O


@pytest.mark.parametrize(
    "answer",
    [[], {"unexpected": 1}, [{"note": "no name"}], [{"subName": "a", "ts": "yesterday"}], "text"],
)
async def test_an_unreadable_answer_to_a_write_is_unknown_outcome(answer: Any) -> None:
    client, transport = _client(lambda r: _answer(answer))
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.subaccounts.create(m.CreateSubAccount(name="desk01"))
    err = info.value
    assert err.how_to_reconcile == "list sub-accounts by subName"
    assert err.reconcile_with["subName"] == "desk01"
    assert len(transport.requests) == 1  # never re-sent


@pytest.mark.parametrize("answer", [{"items": "x"}, {"data": {"items": [1]}}, [], {"data": 3}])
async def test_an_unreadable_answer_to_a_read_is_decode_error(answer: Any) -> None:
    client, _ = _client(lambda r: _answer(answer))
    async with client:
        with pytest.raises(DecodeError):
            await client.subaccounts.list(m.ListSubAccounts())


async def test_option_source_from_request_extra_or_profile_else_invalid_before_io() -> None:
    client, transport = _client(lambda r: _answer([{"ccy": "USD", "amt": "1.5"}]))
    async with client:
        with pytest.raises(InvalidRequest, match="profile option server_id") as info:
            await client.funding.balances(m.GetBalances(account_id="a1"))
        assert info.value.field == "server_id" and transport.requests == []
        got = await client.funding.balances(m.GetBalances(account_id="a1", server_id="s1"))
    assert _query(transport.requests[0]) == "acct=a1&server=s1"
    assert got[0].total == Decimal("1.5") and got[0].currency == "USD"

    client, transport = _client(lambda r: _answer([]), server_id="s9")
    async with client:
        assert await client.funding.balances(m.GetBalances(account_id="a1")) == ()
    assert _query(transport.requests[0]) == "acct=a1&server=s9"


async def test_field_maps_split_and_map_values() -> None:
    answer = [{"id": "k1", "perm": "read_only,trade", "lbl": "x"}, {"id": "k2", "lbl": "y"}]
    client, transport = _client(lambda r: _answer(answer))
    async with client:
        keys = await client.keys.list(m.ListApiKeys(owner="alice", api_key="k1"))
    assert _query(transport.requests[0]) == "ids=k1&owner=alice"
    assert keys[0].api_key == "k1" and keys[0].permissions == ("read", "trade")
    assert [k.label for k in keys] == ["ex", "y"] and keys[1].permissions == ()


# ------------------------------------------------------------------- pager


def _numbered(pages: dict[str, list[str]]) -> Handler:
    def handler(request: PreparedRequest) -> RawResponse:
        q = dict(p.split("=") for p in request.query.split("&") if p)
        page = q.get("page", "1")
        names = pages[page]
        return _answer({"data": {"items": [{"subName": n} for n in names], "pages": len(pages)}})

    return handler


async def test_page_number_pager_walks_every_page_once() -> None:
    client, transport = _client(_numbered({"1": ["a", "b"], "2": ["c", "d"], "3": ["e"]}))
    async with client:
        names = [
            s.name async for s in paginate(client.subaccounts.list, m.ListSubAccounts(limit=2))
        ]
    assert names == ["a", "b", "c", "d", "e"]
    assert [r.query for r in transport.requests] == ["size=2", "page=2&size=2", "page=3&size=2"]


@pytest.mark.parametrize(
    ("meta", "items", "asked", "expected"),
    [
        ({"hasMore": True}, 2, None, "2"),
        ({"hasMore": "false"}, 2, None, None),
        ({"total": "5"}, 2, "2", "3"),
        ({"total": "4"}, 2, "2", None),
        ({}, 2, None, "2"),  # a full page: there may be more
        ({}, 1, None, None),
        ({"hasMore": True}, 0, None, None),  # an empty page ends the walk
    ],
)
def test_page_number_strategies(
    meta: dict[str, Any], items: int, asked: str | None, expected: str | None
) -> None:
    pager = PageNumber(size="size", has_more="hasMore", total="total")
    request = m.ListSubAccounts(limit=2, cursor=asked)
    assert pager.next_cursor(meta, ["x"] * items, request) == expected


async def test_cursor_pager_and_repeated_cursor_is_refused() -> None:
    answers = {
        "": {"items": [{"n": "a"}], "next": "c1"},
        "c1": {"items": [{"n": "b"}], "next": "c2"},
        "c2": {"items": [{"n": "c"}], "next": ""},
    }

    def handler(request: PreparedRequest) -> RawResponse:
        q = dict(p.split("=") for p in request.query.split("&") if p)
        return _answer(answers[q.get("cursor", "")])

    client, transport = _client(handler)
    async with client:
        feed = Feed(client)
        got = [s.name async for s in paginate(feed.walk, m.ListSubAccounts(limit=1))]
        assert got == ["a", "b", "c"]
        assert transport.requests[1].query == "cursor=c1&n=1"
        answers["c2"]["next"] = "c2"
        with pytest.raises(BrokerportError, match="repeated a page cursor"):
            [s async for s in paginate(feed.walk, m.ListSubAccounts(limit=1))]


async def test_time_cursor_pages_older_than_the_last_item() -> None:
    rows = [{"id": str(i), "amt": "1.10", "ts": str(1000 - i)} for i in range(5)]

    def handler(request: PreparedRequest) -> RawResponse:
        q = dict(p.split("=") for p in request.query.split("&") if p)
        after = int(q.get("after", "10000"))
        older = [r for r in rows if int(r["ts"]) < after]
        return _answer(older[: int(q["limit"])])

    client, transport = _client(handler)
    async with client:
        query = m.FundingHistoryQuery(limit=2, end=datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC))
        records = [r async for r in paginate(client.funding.deposit_history, query)]
    assert [r.record_id for r in records] == ["0", "1", "2", "3", "4"]
    assert records[0].amount == Decimal("1.10") and records[0].kind == "deposit"
    # the first page starts at the request's end; the next ones at the last item's time
    assert [r.query for r in transport.requests] == [
        "after=10000&limit=2",
        "after=999&limit=2",
        "after=997&limit=2",
    ]


def test_dig_paths() -> None:
    assert dig([{"a": {"b": [1, 2]}}], "0.a.b.1") == 2
    assert dig({"x": 1}, "") == {"x": 1}
    for bad in ("1", "0.z", "0.a.b.9"):
        with pytest.raises((LookupError, TypeError)):
            dig([{"a": {"b": [1, 2]}}], bad)


# --------------------------------------------------------- endpoint facts


async def test_public_endpoint_is_not_signed_and_never_waits_for_credentials() -> None:
    client, transport = _client(lambda r: _answer({"token": "x"}))
    async with client:
        await client.call("time")
        signer: Any = client.signer
        assert signer.prepared == 0
    sent = transport.requests[0]
    assert "Authorization" not in sent.headers and sent.headers["X-Env"] == "demo"


async def test_auth_failure_gets_the_typed_error_and_may_run_a_sub_request() -> None:
    def handler(request: PreparedRequest) -> RawResponse:
        if request.path == "/time":
            return _answer({"token": "t2"})
        if request.headers.get("Authorization") != "Bearer t2":
            return _answer({"err": "401"}, 401)
        return _answer([{"id": "k"}])

    client, transport = _client(handler, owner="o")
    async with client:
        keys = await client.keys.list(m.ListApiKeys(owner="o"))
        signer: Any = client.signer
    assert keys[0].api_key == "k"
    assert signer.failures == ["401"]
    assert [r.path for r in transport.requests] == ["/keys", "/time", "/keys"]


async def test_array_query_params_are_repeated_keys_and_the_exact_text_is_sent() -> None:
    client, transport = _client(lambda r: _answer([]))
    async with client:
        await client.call("key.list", ids=["a b", "c/d", "é"], owner="o")
    assert transport.requests[0].query == "ids=a%20b&ids=c%2Fd&ids=%C3%A9&owner=o"


async def test_delete_sends_a_body_only_when_it_has_body_params() -> None:
    client, transport = _client(lambda r: _answer({"id": "k9"}))
    async with client:
        ack = await client.keys.delete(m.ApiKeyRef(owner="o", api_key="k9"))
        await client.call("key.drop", id="k9")
    with_body, without = transport.requests
    assert with_body.method == "DELETE" and with_body.path == "/keys/k9"
    assert json.loads(with_body.body or b"") == {"why": "rotated"}
    assert with_body.headers["Content-Type"] == "application/json"
    assert without.body is None
    assert ack.reference == "k9"


async def test_services_and_path_versions_come_from_the_profile() -> None:
    client, transport = _client(lambda r: _answer({}), reports_url="http://127.0.0.1:8/r/")
    async with client:
        await client.call("report.get")
        await client.call("time")
    report, time = transport.requests
    assert report.url == "http://127.0.0.1:8/r/v1/report"
    assert time.url == "http://127.0.0.1:9/time"

    client, transport = _client(lambda r: _answer({}), path_versions="report.get=v2")
    async with client:
        await client.call("report.get")
    assert transport.requests[0].url == "http://127.0.0.1:9/v2/report"  # no reports_url: base


@pytest.mark.parametrize("bad", ["report.get", "report.get=", "=v2"])
async def test_bad_path_versions_option_is_invalid_request(bad: str) -> None:
    client, _ = _client(lambda r: _answer({}), path_versions=bad)
    with pytest.raises(InvalidRequest, match="path_versions"):
        await client.open()


def test_version_and_service_are_checked() -> None:
    with pytest.raises(brokerport.PluginError, match="no version"):
        Endpoint("x", "GET", "/{version}/x")
    with pytest.raises(brokerport.PluginError, match="unknown service"):
        Catalog("v", [Endpoint("x", "GET", "/x", service="nope")])
    ep = Endpoint("x", "GET", "/{version}/x/{id}", (Param("id", "path"),), version="v3")
    assert ep.render_path({"id": "a b"}) == "/v3/x/a%20b"
    assert attrs.evolve(ep, version="v4").route == "/v4/x/{id}"


def test_bindings_count_as_implemented_operations() -> None:
    # a binding stands where the port declares an async method: the adapter check sees it
    assert BindxSubs.create is not SubAccountPort.create
    Bindx.check_definition()
    request = m.CreateApiKey(owner="o", label="l", ips=("1.1.1.1", "2.2.2.2"))
    assert joined("ips")(request, None) == "1.1.1.1,2.2.2.2"  # type: ignore[arg-type]
    assert joined("ips")(m.CreateApiKey(owner="o", label="l"), None) is None  # type: ignore[arg-type]


def test_declare_lists_operations_port_by_port() -> None:
    from brokerport.adapter import declare

    ops = declare(keys="create  list", trading="place_order")
    assert ops == frozenset({"keys.create", "keys.list", "trading.place_order"})
    assert declare() == frozenset()


@pytest.mark.parametrize("bad", ["X=Nope", "X", "=Conflict", "X=Secret"])
async def test_error_codes_option_is_read_once_in_the_core(bad: str) -> None:
    client, _ = _client(lambda r: _answer({"err": "E9"}), error_codes="E9=Conflict, E8=NotFound")
    async with client:
        with pytest.raises(brokerport.Conflict) as info:
            await client.call("time")
        assert info.value.vendor_code == "E9"
    assert Bindx.error_map.classify("E9", 200) is BrokerportError  # the class map is untouched
    with pytest.raises(InvalidRequest, match="error_codes"):
        Bindx(Profile(vendor="bindx", base_url="http://127.0.0.1:9", options={"error_codes": bad}))
