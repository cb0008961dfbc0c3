"""lwork ports: the bindings are data (``ports.toml``, read by
:func:`brokerport.binding_data.load_bindings` when a client opens), their
sources are :mod:`brokerport_lwork.sources`; here are the three hand-written
methods, each docstring says why.
"""

from __future__ import annotations

from typing import Any

import attrs
from brokerport import models as m
from brokerport.binding import Ctx
from brokerport.binding_data import load_bindings
from brokerport.errors import InvalidRequest
from brokerport.ports import AccountPort, FundingPort

from . import sources
from .convert import vendor_timezone
from .sources import PLATFORM, RECEIPT_SERVER, RECEIPT_VENDOR, SERVER, SOURCE_SERVER, USER

__all__ = ["LworkAccounts", "LworkFunding", "LworkTrading", "vendor_timezone"]

_OPEN = {"v1": "account.open", "sc": "account.open_sc", "task": "account.open_task"}
_ID_KEYS = ("user_id", "userId", "server_id", "serverId", "platform", "vendor")
_SECTIONS = {
    "account.update_base": ("base", "baseinfo"),
    "account.update_finance": ("finance", "financial", "financeinfo"),
    "account.update_certificate": ("certificate", "certificates", "certificateinfo"),
}
_PROFILE_SECTIONS = {alias: name for name, aliases in _SECTIONS.items() for alias in aliases}


async def open_live(self: AccountPort, request: m.OpenAccount) -> m.AccountApplication:
    """3.5, or 3.15/3.16 with ``extra['via']`` = ``"sc"``/``"task"``: hand-written
    because ``via`` picks the endpoint and the body's shape (``accountInfo`` built
    from the request, ``phone`` from ``countryCode``, other ``extra`` passed on).
    The answer is read like :attr:`open_demo`'s."""
    ctx = Ctx(self.client, request)
    extra = dict(request.extra)
    name = _OPEN.get(str(extra.pop("via", "v1")).lower())
    if name is None:
        message = "extra['via'] must be 'v1', 'sc' or 'task'"
        raise InvalidRequest(message, field="via", vendor="lwork")
    ids = {"userId": USER, "serverId": SERVER, "vendor": PLATFORM}
    params: dict[str, Any] = {k: source(request, ctx) for k, source in ids.items()}
    for k in _ID_KEYS:
        extra.pop(k, None)
    group = request.group or extra.pop("group", None) or ctx.option("group")
    leverage = request.leverage or extra.pop("leverage", None) or ctx.option("leverage")
    if name == "account.open":
        phone, country = extra.pop("phone", None), extra.pop("countryCode", None)
        if isinstance(phone, str) and country is not None:
            phone = {"countryCode": str(country), "phone": phone}
        params["group"], params["phone"], params["password"] = group, phone, request.password
        params["leverage"] = None if leverage is None else int(leverage)
        params["accountName"] = extra.pop("accountName", None) or extra.pop("name", None)
        params["email"] = extra.pop("email", None)
    else:
        info = dict(extra.pop("accountInfo", None) or {})
        for key, value in (("group", group), ("leverage", leverage)):
            if value is not None:
                info.setdefault(key, str(value))
        if request.password is not None:
            info.setdefault("password", request.password)
        params["accountInfo"] = {"enable": 1, "readOnly": 0, **info}
        for part in ("baseInfo", "financialInfo", "certificatesInfo"):
            params[part] = extra.pop(part, {}) or {}
    read = LworkAccounts.open_demo.read
    return await self.client.invoke(  # type: ignore[no-any-return]
        name, {**params, **extra}, read=lambda data: read(data, ctx)
    )


async def update_profile(self: AccountPort, request: m.UpdateProfile) -> m.Ack:
    """3.12-3.14: hand-written because ``section`` picks the endpoint and the body
    is the request's open-ended ``fields`` (named as the vendor names them)."""
    name = _PROFILE_SECTIONS.get(request.section.strip().lower())
    if name is None:
        message = "section must be base, finance or certificate"
        raise InvalidRequest(message, field="section", vendor="lwork")
    if not request.fields:
        raise InvalidRequest("no fields to update", field="fields", vendor="lwork")
    if "pubUserId" in request.fields:
        message = "pubUserId is the user_id, not a profile field"
        raise InvalidRequest(message, field="pubUserId", vendor="lwork")
    params = {"pubUserId": request.user_id, **request.fields}
    return await self.client.invoke(  # type: ignore[no-any-return]
        name, params, read=lambda data: m.Ack(reference=request.user_id, raw={"data": data})
    )


async def transfer(self: FundingPort, request: m.TransferRequest) -> m.TransferResult:
    """3.11 (signed): hand-written because a missing receipt account name or
    currency is first read with 3.1 (up to three calls); the transfer itself is a
    binding (``_transfer``). ``extra``: ``receiptAccountName``, ``receiptServerId``,
    ``receiptVendor``, ``receiptUserId`` and the source's ``serverId``."""
    ctx = Ctx(self.client, request)
    platform = RECEIPT_VENDOR(request, ctx)
    extra = dict(request.extra)
    if extra.get("receiptAccountName") in (None, ""):
        server = RECEIPT_SERVER(request, ctx)
        extra["receiptAccountName"] = await _info(self, request.to_account, server, platform)
    currency = request.currency
    if not currency:
        server = SOURCE_SERVER(request, ctx)
        currency = await _info(self, request.from_account, server, platform, "currency")
    request = attrs.evolve(request, currency=currency, extra=extra)
    return await self._transfer(request)  # type: ignore[attr-defined,no-any-return]


async def _info(port: FundingPort, account: str, server: str, platform: str, key: str = "") -> str:
    """One field of 3.1 account info (default: the account name), read inside the call."""
    params = {"account": account, "x-api-vendor": platform, "x-api-serverid": server}
    return await port.client.invoke(  # type: ignore[no-any-return]
        "account.info", params, read=lambda data: str(data[key or "accountName"])
    )


_BUILT = load_bindings("brokerport_lwork", sources={**vars(sources), **globals()})
LworkAccounts, LworkFunding, LworkTrading = map(_BUILT.__getitem__, __all__[:3])
