"""WhaleAPI extension ports: what no core port covers, one method per catalog endpoint.

``client.ext("whale.ipo").subscribe(symbol=..., sub_qty="100", method=2, ...)``:
keyword arguments are the endpoint's wire parameters (checked against the
catalog before any I/O), the result is the answer's payload (numbers as
Decimal). Every endpoint is also reachable by name with ``client.call``. The
methods are a table (:func:`op`), not code; three need a few lines
(``rewards.send_cash``, ``files.upload_url``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs
from brokerport.errors import InvalidRequest
from brokerport.ports import Extension

__all__ = [
    "Fees",
    "Files",
    "Ipo",
    "Ledger",
    "Members",
    "Messages",
    "Rewards",
    "Search",
    "Transfers",
    "UploadTarget",
    "op",
]


def op(endpoint: str) -> Callable[..., Awaitable[Any]]:
    """An extension method calling ``endpoint`` with its keyword arguments."""

    async def method(self: Extension, **params: Any) -> Any:
        return await self.client.invoke(endpoint, params)

    method.__doc__ = f"Calls {endpoint} (wire parameters as keyword arguments)."
    method.__name__ = endpoint.replace(".", "_")
    return method


class Ipo(Extension):
    """IPO subscriptions: list, detail, limits, subscribe, amend, withdraw, orders."""

    port_name = "whale.ipo"
    list = op("ipo.list")
    detail = op("ipo.detail")
    payable_list = op("ipo.payable_list")
    margin_list = op("ipo.margin_list")
    buy_limit = op("ipo.buylimit")
    subscribe = op("ipo.submit")
    amend = op("ipo.amend")
    withdraw = op("ipo.withdraw")
    order = op("ipo.order")
    orders = op("ipo.order_list")


class Members(Extension):
    """Member Core (login by open_id, phone / email), account information, agreements."""

    port_name = "whale.members"
    login = op("auth.open_id_login")
    logout = op("auth.session_logout")
    by_phone = op("member.get_member_by_phone")
    by_email = op("member.get_member_by_email")
    change_mobile = op("member.change_mobile")
    change_email = op("member.change_email")
    update_pi_status = op("member.update_pi_status")
    contact_info = op("account.contact_info")
    applications = op("account_requests.index")
    application = op("account.get_application")
    update_application_v1 = op("account.update_application")
    open_info = op("account.open_info")
    bcan_info = op("account.bcan_info")
    risk_and_pi_info = op("account.account_risk_and_pi_info")
    record_agreement = op("account.record_agreement")
    check_login_password = op("account.auth_login_pwd")
    check_trade_password = op("account.trade_auth_pwd")
    bind_invite_code = op("bind_invite_code.index")


class Ledger(Extension):
    """Cash and stock ledgers: adjustments, freezes, temporary adjustments, risk limits.
    Writes taking ``request_id`` get one minted once per call (retries reuse it)."""

    port_name = "whale.ledger"
    adjust_cash = op("asset.adjust_cash")
    adjust_stock = op("asset.adjust_stock")
    freeze_cash = op("asset.frozen_cash")
    unfreeze_cash = op("asset.unfrozen_cash")
    unfreeze_debit = op("asset.unfrozen_debit")
    cash_freezes = op("asset.financial_frozen_flows")
    stock_freezes = op("asset.stock_frozen_flows")
    stock_flows = op("asset.stock_flows")
    temp_adjust = op("asset.temp_adjust")
    risk_temp_adjust = op("risk_event.temp_adjust")
    risk_temp_adjust_expire = op("risk_event.temp_adjust_expire")
    limit_info = op("asset.risk_limit_info")
    risk_limits = op("asset.query_account_risk_limit_config")
    create_risk_limit = op("asset.create_account_risk_limit_config")
    update_risk_limit = op("asset.update_account_risk_limit_config")
    short_sellable = op("asset.risk_available_short_position")
    total_asset = op("asset.detail_info")
    overview = op("asset.overview")
    ob_cash = op("asset.ob_cash_info")
    all_cash = op("asset.all_cash")
    total_cash = op("asset.query_total_cash")
    total_holdings = op("asset.query_total_holdings")
    hashkey_cash = op("asset.hashkey_cash_list")


class Transfers(Extension):
    """Stock transfers in and out, currency conversions, deposit configuration, banks."""

    port_name = "whale.transfers"
    out_detail = op("transfer.transfer_out_detail")
    out_records = op("transfer.transfer_out_records")
    in_detail = op("portfolio.rollover_detail")
    in_records = op("portfolio.rollover_record")
    conversions = op("portfolio.converts")
    currencies = op("portfolio.currency_list")
    deposit_config = op("portfolio.deposit_config")
    deposit_detail = op("portfolio.deposit_detail")
    withdrawal_detail = op("portfolio.withdraw_detail")
    withdrawal_preview = op("portfolio.withdraw_pre")
    banks = op("portfolio.withdraw_banks")
    card_detail = op("portfolio.withdraw_card_detail")
    submit_card_files = op("portfolio.withdraw_audit_card")
    cancel_all_orders = op("trade.withdraw_user_orders")


class Messages(Extension):
    """Push templates and device logout."""

    port_name = "whale.messages"
    push_templates = op("message.whale_global_push_templates")
    device_logout = op("message.devices_delete")


class Search(Extension):
    port_name = "whale.search"
    stock = op("search.stock")


class Fees(Extension):
    port_name = "whale.fees"
    estimate = op("fee.estimate")


class Rewards(Extension):
    """Reward Center. Cash rewards travel in integer cents; ``send_cash`` takes a
    Decimal amount and refuses one that is not a whole number of cents."""

    port_name = "whale.rewards"
    send = op("reward.send_reward")
    status = op("reward.reward_info")

    async def send_cash(
        self, *, amount: Decimal, currency: str, campaign_code: str, member_id: int, **more: Any
    ) -> Any:
        """A cash reward of ``amount`` (e.g. ``Decimal("75.00")`` -> 7500 cents)."""
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise InvalidRequest("amount: a Decimal", field="amount", vendor="whale")
        cents = amount * 100
        if cents != cents.to_integral_value() or cents < 1:
            raise InvalidRequest(
                "amount: a whole number of cents >= 0.01 (never rounded)",
                field="amount",
                vendor="whale",
            )
        params = {"x-member-id": member_id, "type": "cash", "campaign_code": campaign_code,
                  "cash_value": {"currency": currency, "amount": int(cents)}, **more}  # fmt: skip
        return await self.client.invoke("reward.send_reward", params)


@attrs.frozen
class UploadTarget:
    """Where to upload a file out of band (``url``), and the ``key`` to pass on
    (deposit ``vouchers``, bank-card ``urls``, account-opening ``*_assets_id``)."""

    url: str
    key: str


class Files(Extension):
    port_name = "whale.files"

    async def upload_url(self, module: str) -> UploadTarget:
        """Get Tenant File Upload URL: the host PUTs the file to ``url`` itself."""
        target: UploadTarget = await self.client.invoke(
            "upload_url.index",
            {"module": module},
            read=lambda d: UploadTarget(url=str(d["url"]), key=str(d["key"])),
        )
        return target
