"""The wlink adapter: catalog, two auth modes, the error shape, vendor time zone.

Profile
-------
credentials
    signed mode: ``api_key`` (a UUID), ``api_secret``;
    portal mode: ``email``, ``password`` (and optionally a ``token`` already held).
options
    ``ib_base_url`` (the IB portal; ``base_url`` is the client portal),
    ``auth_mode`` (``signed`` | ``portal``; default: signed when ``api_key`` is
    given), ``language`` (``X-Language``, e.g. ``en``), ``captcha_token`` /
    ``captcha_action`` / ``captcha_randstr`` (login captcha headers),
    ``timezone`` (zone of the vendor's ``YYYY-MM-DD HH:MM:SS`` times, default
    ``+08:00``), ``error_code_field`` / ``error_message_field`` (the error body,
    default ``reason`` / ``message``), ``error_codes`` (``REASON=Class,...``),
    ``page_size`` (20) and the port defaults in the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport import errors as e
from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.errors import InvalidRequest

# the catalog and attrs, the signer, the error table and the envelope load when a
# client is made, not when plugins are listed (bench/startup.py)
if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    import cattrs
    from brokerport.catalog import Catalog, Endpoint
    from brokerport.profile import Profile
    from brokerport.signing import Signer
    from brokerport.transport import RawResponse

__all__ = ["WlinkAdapter", "vendor_timezone"]


def vendor_timezone(text: str | None) -> tzinfo:
    """Profile option ``timezone`` (default +08:00) -> tzinfo."""
    from brokerport.convert import vendor_timezone as zone

    return zone(text, vendor="wlink")


class WlinkAdapter(Adapter):
    """wlink: forex CRM SaaS, client portal and IB portal over MT4/MT5."""

    name = "wlink"
    version = "0.1.0"
    description = "wlink (WikiBroker) forex CRM: client and IB portals, signed or portal auth"
    operations = frozenset(
        f"{port}.{op}"
        for port, ops in {
            "accounts": "list get open_live open_demo update_profile get_leverage set_leverage"
            " set_trade_password",
            "funding": "balances request_deposit confirm_deposit cancel_deposit request_withdrawal"
            " transfer deposit_history withdrawal_history cash_ledger list_payees add_payee"
            " update_payee delete_payee exchange_rate",
            "trading": "open_orders order_history positions",
            "keys": "renew_token revoke_token",
        }.items()
        for op in ops.split()
    )
    ports: ClassVar[Mapping[str, str]] = {
        "accounts": "brokerport_wlink.ports:WlinkAccounts",
        "funding": "brokerport_wlink.ports:WlinkFunding",
        "trading": "brokerport_wlink.ports:WlinkTrading",
        "keys": "brokerport_wlink.ports:WlinkKeys",
    }
    extensions: ClassVar[Mapping[str, str]] = {
        "wlink.ib": "brokerport_wlink.extensions:WlinkIB",
        "wlink.messages": "brokerport_wlink.extensions:WlinkMessages",
        "wlink.kyc": "brokerport_wlink.extensions:WlinkKyc",
        "wlink.reports": "brokerport_wlink.extensions:WlinkReports",
        "wlink.portal": "brokerport_wlink.extensions:WlinkPortal",
        "wlink.auth": "brokerport_wlink.extensions:WlinkAuth",
    }
    sandbox = "wlink"
    samples = "brokerport_wlink:samples.toml"

    @classmethod
    def build_catalog(cls) -> Catalog:
        from brokerport.catalog import Catalog

        return Catalog.load("brokerport_wlink")  # catalog.json, from catalog/overlay.toml

    @classmethod
    def build_error_map(cls) -> ErrorMap:
        from .errors import error_map

        return error_map()

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        from .errors import WlinkEnvelope

        self.envelope = WlinkEnvelope(
            profile.option("error_code_field") or "reason",
            profile.option("error_message_field") or "message",
        )
        self.tz = vendor_timezone(profile.option("timezone"))
        mode = profile.option("auth_mode") or (
            "signed" if "api_key" in profile.credentials else "portal"
        )
        if mode not in ("signed", "portal"):
            raise InvalidRequest("wlink option auth_mode must be signed or portal", vendor="wlink")
        self.mode = mode

    def create_signer(self) -> Signer:
        from .auth import CAPTCHA_HEADERS, WlinkSigner

        creds, opt = self.profile.credentials, self.profile.option
        if self.mode == "signed" and not ("api_key" in creds and "api_secret" in creds):
            raise e.AuthenticationError(
                "wlink signed mode needs credentials api_key and api_secret", vendor="wlink"
            )
        return WlinkSigner(
            mode=self.mode,
            auth_of=lambda name: self.catalog()[name].auth,
            api_key=creds.get("api_key"),
            api_secret=creds.get("api_secret"),
            email=creds.get("email"),
            password=creds.get("password"),
            token=creds.get("token"),
            captcha={k: v for k in CAPTCHA_HEADERS if (v := opt(k))},
            language=opt("language"),
        )

    def create_converter(self) -> cattrs.Converter:
        """The core converter; zone-less ``YYYY-MM-DD HH:MM:SS`` read in option ``timezone``."""
        from brokerport.convert import wall_clock_converter

        return wall_clock_converter(self.tz)

    def wire_time(self, value: datetime | None) -> str | None:
        """An aware datetime as the vendor's ``YYYY-MM-DD HH:MM:SS`` in its zone."""
        return None if value is None else value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """Success: the bare object of the spec. Failure (HTTP >= 400): the error body
        (``brokerport_wlink.errors``, an assumption: see the README)."""
        try:
            doc = parse_json(response, vendor=self.name)
        except e.DecodeError:
            if response.status < 400:
                raise
            doc = None  # an error without a JSON body: the HTTP status decides
        try:
            return self.envelope.unwrap(doc, http_status=response.status, vendor=self.name)
        except VendorFault as fault:
            retry = response.headers.get("Retry-After")
            fault.retry_after = (
                float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
            )
            raise
