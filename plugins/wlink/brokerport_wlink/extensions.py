"""wlink extension ports: what fits no core port (``client.ext("wlink.ib")`` ...).

Each method is one catalog endpoint; answers are the vendor's objects (dicts,
credentials as Secrets), except where a small model says more (an export's
download URL, the OSS credentials). Every endpoint is also reachable as
``client.call(name, ...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
from brokerport.errors import InvalidRequest
from brokerport.ports import Extension
from brokerport.types import Secret

__all__ = [
    "OssCredentials",
    "WlinkAuth",
    "WlinkIB",
    "WlinkKyc",
    "WlinkMessages",
    "WlinkPortal",
    "WlinkReports",
]

Portal = Literal["client", "ib"]
Answer = Mapping[str, Any]


def _secret(value: Any) -> Secret:
    return value if isinstance(value, Secret) else Secret(str(value or ""))


@attrs.frozen(kw_only=True)
class OssCredentials:
    """Temporary Aliyun OSS credentials for uploads (KYC documents): all three are secrets."""

    access_key_id: Secret = attrs.field(converter=_secret)
    access_key_secret: Secret = attrs.field(converter=_secret)
    security_token: Secret = attrs.field(converter=_secret)
    bucket_name: str | None = None
    bucket_region: str | None = None
    bucket_dir: str | None = None
    expiration: str | None = None


class _Ext(Extension):
    async def _call(self, endpoint: str, **params: Any) -> Answer:
        sent = {k: v for k, v in params.items() if v is not None}
        answer: Answer = await self.client.invoke(endpoint, sent)
        return answer


def endpoint(name: str, doc: str = "", *, paged: bool = False, portal: bool = False) -> Any:
    """A method calling one catalog endpoint with keyword arguments named as on the
    wire (``paged``: ``page=1, size=20`` by default; ``portal``: ``portal="client"``
    or ``"ib"`` picks the endpoint ``{portal}.{name}``)."""

    async def method(self: _Ext, **params: Any) -> Answer:
        if paged:
            params = {"page": 1, "size": 20, **params}
        target = f"{params.pop('portal', 'client')}.{name}" if portal else name
        return await self._call(target, **params)

    method.__doc__ = doc or f"Calls ``{name}``."
    return method


class WlinkIB(_Ext):
    """The IB (introducing broker) portal: clients, their accounts, rebates, dashboard."""

    port_name = "wlink.ib"
    user = endpoint("ib.user_get")
    clients = endpoint(
        "ib.client_user_list", "client_user_id, kyc_status, status, email, client_name", paged=True
    )
    client_detail = endpoint("ib.client_user_get", "client_user_id")
    trading_accounts = endpoint(
        "ib.trading_account_list", "user_name, account_id, trading_account_type_name", paged=True
    )
    rebate_accounts = endpoint("ib.rebate_account_list", "account_id", paged=True)
    set_rebate_account_enabled = endpoint("ib.rebate_account_update_permission", "id, enabled")
    rebates = endpoint("ib.fund_rebate_list", paged=True)
    commission_report = endpoint(
        "report.rebate_list", "time_search_type, start_time, end_time", paged=True
    )
    commission_details = endpoint(
        "report.rebate_detail_list",
        "rebate_aggregation_id, time_search_type, start_time, end_time, client_user_name",
        paged=True,
    )
    dashboard = endpoint("ib.dashboard", "date_type")
    dashboard_updated_at = endpoint("ib.dashboard_get_last_update_time")
    tools = endpoint("ib.tool_list")


class WlinkMessages(_Ext):
    """The message centre of either portal (``portal="client"`` or ``"ib"``)."""

    port_name = "wlink.messages"
    list = endpoint("message_list", paged=True, portal=True)
    get = endpoint("message_get", "id", portal=True)
    mark_read = endpoint("message_mark_read", "id", portal=True)
    hide = endpoint("message_hide", "id", portal=True)

    async def unread_count(self, portal: Portal = "client") -> int:
        return int((await self._call(f"{portal}.message_unread_count")).get("count") or 0)


class WlinkKyc(_Ext):
    """The client's KYC: profile modules, e-verification, questionnaires, uploads."""

    port_name = "wlink.kyc"
    user = endpoint("client.user_get")
    register_template = endpoint("client.user_get_register_template")
    save = endpoint("client.user_save", "current_module, kyc_data")
    start_e_verification = endpoint("client.e_verify_create_session", "success_url, failed_url")
    e_verification_result = endpoint("client.e_verify_get_result", "session_id")
    questionnaire = endpoint("client.questionnaire_get_result", "id")
    save_questionnaire = endpoint("client.questionnaire_save", "questionnaire_id, answers")

    async def upload_credentials(self) -> OssCredentials:
        """Temporary OSS credentials (``public.osstoken_get``), every key a Secret."""
        creds: OssCredentials = await self.client.invoke(
            "public.osstoken_get",
            {},
            read=lambda d: OssCredentials(
                **{f.name: d.get(f.name) for f in attrs.fields(OssCredentials)}
            ),
        )
        return creds


#: export kind -> (list endpoint, export endpoint)
REPORTS = {
    kind: (f"report.{kind}_list", f"report.{kind}_export")
    for kind in (
        "deposit",
        "withdrawal",
        "transfer",
        "history",
        "holding",
        "pending",
        "rebate",
        "rebate_detail",
    )
}


#: public setting name -> endpoint
SETTINGS = {n: f"public.setting_{n}_get" for n in ("app_key", "appearance", "company")} | {
    n: f"public.setting_{n}_{'get' if n in ('security', 'version') else 'list'}"
    for n in ("country", "currency", "global_leverage", "language", "security", "version")
}


class WlinkReports(_Ext):
    """Report lists and exports (an export answers a download URL)."""

    port_name = "wlink.reports"
    servers = endpoint("report.server_list", "order_type")
    symbols = endpoint("report.symbol_list", "order_type, server_id")

    async def list(self, kind: str, **filters: Any) -> Answer:
        """``kind``: deposit, withdrawal, transfer, history, holding, pending, rebate,
        rebate_detail; filters as the vendor names them (page 1 of 20 by default)."""
        return await self._call(_report(kind)[0], **{"page": 1, "size": 20, **filters})

    async def export(self, kind: str, **filters: Any) -> str:
        """The download URL of the exported report (filters as the list's, in the body)."""
        sent = {k: v for k, v in filters.items() if v is not None}
        url: str = await self.client.invoke(
            _report(kind)[1], sent, read=lambda d: str(d["download_url"])
        )
        return url


def _report(kind: str) -> tuple[str, str]:
    if kind not in REPORTS:
        raise InvalidRequest(f"unknown wlink report {kind!r} ({', '.join(REPORTS)})", field="kind")
    return REPORTS[kind]


class WlinkPortal(_Ext):
    """Portal furniture: public settings, popups, delivery, permissions, tools and options."""

    port_name = "wlink.portal"
    popups = endpoint("operation.popup_list", '**{"X-Language": "en"}')
    block_popups = endpoint("operation.popup_block", "ids")
    deliveries = endpoint("operation.delivery_list", '**{"X-Language": "en"}')
    menu_permissions = endpoint("user.menu_permissions")
    button_permissions = endpoint("auth.menu_action_get")
    all_menus = endpoint("menu.action_list")
    tools = endpoint("client.tool_list")
    trading_tool_column = endpoint("client.trading_tool_column_i18n_get", "column_id")
    popup_read = endpoint("client.trading_tool_popup_check_read", "column_id")
    mark_popup_read = endpoint("client.trading_tool_popup_mark_read", "column_id")

    async def setting(self, name: str, **params: Any) -> Answer:
        """One public setting: app_key, appearance, company, country, currency,
        global_leverage, language, security, version."""
        if name not in SETTINGS:
            raise InvalidRequest(f"unknown wlink setting {name!r}", field="name")
        return await self._call(SETTINGS[name], **params)

    async def options(self, name: str, **params: Any) -> Answer:
        """A listing the portal's forms use, by catalog name (``trading.account_list_options``,
        ``client.trading_deposit_channel_list``, ...); paged ones default to page 1 of 20."""
        if "page" in self.client.catalog[name].param_names:
            params = {"page": 1, "size": 20, **params}
        return await self._call(name, **params)


class WlinkAuth(_Ext):
    """Account security without a session: email codes, captcha, registration, password
    reset; and the portal user's password change (a bearer call)."""

    port_name = "wlink.auth"
    verify_captcha = endpoint("public.captcha_verify", "app_id, ticket, rand_str, user_ip")
    email_registered = endpoint("public.email_check_registered", "email")
    register = endpoint("client.user_register", "email, password, email_code, invite_code")
    request_password_reset = endpoint("auth.account_reset_password_email", "email")
    reset_token_expired = endpoint("auth.account_reset_password_expired", "token")
    reset_password = endpoint("auth.account_reset_password", "token, password")
    change_password = endpoint(
        "auth.account_change_password", "old_password, new_password, email_code"
    )
    security_setting = endpoint("auth.account_security_setting")

    async def send_email_code(self, scene: str, email: str | None = None) -> Answer:
        """``scene``: register, withdrawal, transfer, password_change."""
        now = int(self.client.clock() + self.client.clock_offset)
        return await self._call(
            "public.email_verification_send", scene=scene, email=email, received_at=now
        )
