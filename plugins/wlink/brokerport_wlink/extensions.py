"""wlink extension ports: what fits no core port (``client.ext("wlink.ib")`` ...).

Each method is one catalog endpoint; answers are the vendor's objects (dicts,
credentials as Secrets), except where a small model says more (an export's
download URL, the OSS credentials). Every endpoint is also reachable as
``client.call(name, ...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

    @staticmethod
    def _paged(page: int, size: int) -> dict[str, int]:
        return {"page": page, "size": size}


class WlinkIB(_Ext):
    """The IB (introducing broker) portal: clients, their accounts, rebates, dashboard."""

    port_name = "wlink.ib"

    async def user(self) -> Answer:
        return await self._call("ib.user_get")

    async def clients(self, page: int = 1, size: int = 20, **filters: Any) -> Answer:
        """Filters: client_user_id, kyc_status, status, email, client_name."""
        return await self._call("ib.client_user_list", **self._paged(page, size), **filters)

    async def client_detail(self, client_user_id: int) -> Answer:
        return await self._call("ib.client_user_get", client_user_id=client_user_id)

    async def trading_accounts(self, page: int = 1, size: int = 20, **filters: Any) -> Answer:
        """Filters: user_name, account_id, trading_account_type_name."""
        return await self._call("ib.trading_account_list", **self._paged(page, size), **filters)

    async def rebate_accounts(
        self, page: int = 1, size: int = 20, account_id: str | None = None
    ) -> Answer:
        return await self._call(
            "ib.rebate_account_list", **self._paged(page, size), account_id=account_id
        )

    async def set_rebate_account_enabled(self, id: int, enabled: bool) -> Answer:
        return await self._call("ib.rebate_account_update_permission", id=id, enabled=enabled)

    async def rebates(self, page: int = 1, size: int = 20) -> Answer:
        return await self._call("ib.fund_rebate_list", **self._paged(page, size))

    async def commission_report(self, page: int = 1, size: int = 20, **filters: Any) -> Answer:
        """Filters: time_search_type (calculate_at | grant_at), start_time, end_time."""
        return await self._call("report.rebate_list", **self._paged(page, size), **filters)

    async def commission_details(self, page: int = 1, size: int = 20, **filters: Any) -> Answer:
        """Filters: rebate_aggregation_id, time_search_type, start_time, end_time,
        client_user_name."""
        return await self._call("report.rebate_detail_list", **self._paged(page, size), **filters)

    async def dashboard(self, date_type: str | None = None) -> Answer:
        return await self._call("ib.dashboard", date_type=date_type)

    async def dashboard_updated_at(self) -> Answer:
        return await self._call("ib.dashboard_get_last_update_time")

    async def tools(self) -> Answer:
        return await self._call("ib.tool_list")


class WlinkMessages(_Ext):
    """The message centre of either portal."""

    port_name = "wlink.messages"

    async def list(self, page: int = 1, size: int = 20, portal: Portal = "client") -> Answer:
        return await self._call(f"{portal}.message_list", **self._paged(page, size))

    async def get(self, id: int, portal: Portal = "client") -> Answer:
        return await self._call(f"{portal}.message_get", id=id)

    async def unread_count(self, portal: Portal = "client") -> int:
        return int((await self._call(f"{portal}.message_unread_count")).get("count") or 0)

    async def mark_read(self, id: int, portal: Portal = "client") -> Answer:
        return await self._call(f"{portal}.message_mark_read", id=id)

    async def hide(self, id: int, portal: Portal = "client") -> Answer:
        return await self._call(f"{portal}.message_hide", id=id)


class WlinkKyc(_Ext):
    """The client's KYC: profile modules, e-verification, questionnaires, uploads."""

    port_name = "wlink.kyc"

    async def user(self) -> Answer:
        return await self._call("client.user_get")

    async def register_template(self) -> Answer:
        return await self._call("client.user_get_register_template")

    async def save(self, module: str, kyc_data: Mapping[str, Any]) -> Answer:
        return await self._call("client.user_save", current_module=module, kyc_data=dict(kyc_data))

    async def start_e_verification(self, success_url: str, failed_url: str) -> Answer:
        return await self._call(
            "client.e_verify_create_session", success_url=success_url, failed_url=failed_url
        )

    async def e_verification_result(self, session_id: str) -> Answer:
        return await self._call("client.e_verify_get_result", session_id=session_id)

    async def questionnaire(self, id: int) -> Answer:
        return await self._call("client.questionnaire_get_result", id=id)

    async def save_questionnaire(
        self, questionnaire_id: int, answers: Sequence[Mapping[str, Any]]
    ) -> Answer:
        return await self._call(
            "client.questionnaire_save", questionnaire_id=questionnaire_id, answers=list(answers)
        )

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


class WlinkReports(_Ext):
    """Report lists and exports (an export answers a download URL)."""

    port_name = "wlink.reports"

    @staticmethod
    def _kind(kind: str) -> tuple[str, str]:
        if kind not in REPORTS:
            raise InvalidRequest(
                f"unknown wlink report {kind!r} (one of {', '.join(REPORTS)})", field="kind"
            )
        return REPORTS[kind]

    async def list(self, kind: str, page: int = 1, size: int = 20, **filters: Any) -> Answer:
        return await self._call(self._kind(kind)[0], **self._paged(page, size), **filters)

    async def export(self, kind: str, **filters: Any) -> str:
        """The download URL of the exported report (filters as the list's, in the body)."""
        url: str = await self.client.invoke(
            self._kind(kind)[1],
            {k: v for k, v in filters.items() if v is not None},
            read=lambda d: str(d["download_url"]),
        )
        return url

    async def servers(self, order_type: str) -> Answer:
        return await self._call("report.server_list", order_type=order_type)

    async def symbols(self, order_type: str, server_id: int | None = None) -> Answer:
        return await self._call("report.symbol_list", order_type=order_type, server_id=server_id)


#: public setting name -> endpoint
_LISTS = ("country", "currency", "global_leverage", "language")
SETTINGS = {
    name: f"public.setting_{name}_{'list' if name in _LISTS else 'get'}"
    for name in (
        "app_key",
        "appearance",
        "company",
        "country",
        "currency",
        "global_leverage",
        "language",
        "security",
        "version",
    )
}


class WlinkPortal(_Ext):
    """Portal furniture: public settings, popups, delivery, permissions, tools and options."""

    port_name = "wlink.portal"

    async def setting(self, name: str, **params: Any) -> Answer:
        """One public setting: app_key, appearance, company, country, currency,
        global_leverage, language, security, version."""
        if name not in SETTINGS:
            raise InvalidRequest(f"unknown wlink setting {name!r}", field="name")
        return await self._call(SETTINGS[name], **params)

    async def popups(self, language: str | None = None) -> Answer:
        return await self._call("operation.popup_list", **{"X-Language": language})

    async def block_popups(self, ids: Sequence[int]) -> Answer:
        return await self._call("operation.popup_block", ids=list(ids))

    async def deliveries(self, language: str | None = None) -> Answer:
        return await self._call("operation.delivery_list", **{"X-Language": language})

    async def menu_permissions(self) -> Answer:
        return await self._call("user.menu_permissions")

    async def button_permissions(self) -> Answer:
        return await self._call("auth.menu_action_get")

    async def all_menus(self) -> Answer:
        return await self._call("menu.action_list")

    async def tools(self) -> Answer:
        return await self._call("client.tool_list")

    async def trading_tool_column(self, column_id: int) -> Answer:
        return await self._call("client.trading_tool_column_i18n_get", column_id=column_id)

    async def popup_read(self, column_id: int) -> bool:
        answer = await self._call("client.trading_tool_popup_check_read", column_id=column_id)
        return bool(answer.get("is_read"))

    async def mark_popup_read(self, column_id: int) -> Answer:
        return await self._call("client.trading_tool_popup_mark_read", column_id=column_id)

    async def options(self, name: str, **params: Any) -> Answer:
        """A listing the portal's forms use, by catalog name (``trading.account_list_options``,
        ``client.trading_deposit_channel_list``, ...); paged ones default to page 1 of 20."""
        endpoint = self.client.catalog[name]
        if "page" in endpoint.param_names:
            params = {**self._paged(1, 20), **params}
        return await self._call(name, **params)


class WlinkAuth(_Ext):
    """Account security without a session: email codes, captcha, registration, password reset."""

    port_name = "wlink.auth"

    async def send_email_code(
        self, scene: str, email: str | None = None, received_at: int | None = None
    ) -> Answer:
        """``scene``: register, withdrawal, transfer, password_change. ``received_at``
        (unix seconds) defaults to now."""
        if received_at is None:
            received_at = int(self.client.clock() + self.client.clock_offset)
        return await self._call(
            "public.email_verification_send", scene=scene, email=email, received_at=received_at
        )

    async def verify_captcha(self, app_id: int, ticket: str, rand_str: str, user_ip: str) -> bool:
        answer = await self._call(
            "public.captcha_verify",
            app_id=app_id,
            ticket=ticket,
            rand_str=rand_str,
            user_ip=user_ip,
        )
        return bool(answer.get("is_valid"))

    async def email_registered(self, email: str) -> bool:
        return bool(
            (await self._call("public.email_check_registered", email=email)).get("is_registered")
        )

    async def register(
        self,
        email: str,
        password: Secret | str,
        email_code: str | None = None,
        invite_code: str | None = None,
    ) -> Answer:
        return await self._call(
            "client.user_register",
            email=email,
            password=_secret(password),
            email_code=email_code,
            invite_code=invite_code,
        )

    async def request_password_reset(self, email: str) -> Answer:
        return await self._call("auth.account_reset_password_email", email=email)

    async def reset_token_expired(self, token: Secret | str) -> bool:
        answer = await self._call("auth.account_reset_password_expired", token=_secret(token))
        return bool(answer.get("expired"))

    async def reset_password(self, token: Secret | str, password: Secret | str) -> Answer:
        return await self._call(
            "auth.account_reset_password", token=_secret(token), password=_secret(password)
        )

    async def change_password(
        self, old_password: Secret | str, new_password: Secret | str, email_code: str | None = None
    ) -> Answer:
        """The portal user's password (a bearer call: the profile's login session)."""
        return await self._call(
            "auth.account_change_password",
            old_password=_secret(old_password),
            new_password=_secret(new_password),
            email_code=email_code,
        )

    async def security_setting(self) -> Answer:
        return await self._call("auth.account_security_setting")
