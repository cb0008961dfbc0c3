"""The OKX adapter: catalog, signer (API key or OAuth), envelope decoder, error map.

Profile
-------
credentials, API-key mode: ``api_key``, ``secret_key``, ``passphrase``.
credentials, OAuth mode: ``access_token`` and/or ``refresh_token``, ``client_id``,
``client_secret`` (absent for PKCE apps).
options: ``broker_code`` (goes in ``tag`` of every order), ``simulated``
(``1``/``true``: demo trading, header ``x-simulated-trading: 1``), ``auth``
(``api_key`` | ``oauth``; default from the credentials), ``termid`` (OAuth
TERMID header), ``access_token_expires_at`` (epoch seconds of the given access
token), ``oauth_token_path``, ``default_td_mode`` (``cash``),
``rate_limit_margin`` (fraction of each rate-limit window kept free, default 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport.adapter import Adapter, ErrorMap, VendorFault, declare, parse_json
from brokerport.errors import AuthenticationError, InvalidRequest, RateLimited
from brokerport.types import Secret

# the catalog and attrs, the signers, the error table (errors.toml) and its envelope,
# and the hooks (pluggy) load when a client is made, not when plugins are listed:
# see bench/startup.py
if TYPE_CHECKING:
    from brokerport.catalog import Catalog, Endpoint
    from brokerport.client import Client
    from brokerport.profile import Profile
    from brokerport.signing import Signer
    from brokerport.transport import RawResponse
    from brokerport.wire import CodeEnvelope

    from .signing import OkxOAuthSigner

__all__ = ["OkxAdapter"]

_TRUE = {"1", "true", "yes", "on"}


class OkxAdapter(Adapter):
    """OKX V5 broker program: DMA sub-accounts and keys, funding, orders, FD rebates."""

    name = "okx"
    version = "0.1.0"
    description = "OKX V5 broker program (DMA, FD, OAuth) with broker-code tagging"
    operations = declare(
        subaccounts="create delete list set_level fee_rates report_ip set_demo_assets",
        keys="create list update delete renew_token",
        funding="create_deposit_address update_deposit_address list_deposit_addresses"
        " deposit_history withdrawal_history request_withdrawal",
        trading="place_order amend_order cancel_order get_order",
        streams="orders",
    )
    # by name: the ports module (and the models) load when a client opens
    ports: ClassVar[Mapping[str, str]] = {
        "subaccounts": "brokerport_okx.ports:OkxSubAccounts",
        "keys": "brokerport_okx.ports:OkxKeys",
        "funding": "brokerport_okx.ports:OkxFunding",
        "trading": "brokerport_okx.ports:OkxTrading",
        "streams": "brokerport_okx.streams:OkxStreams",
    }
    extensions: ClassVar[Mapping[str, str]] = {
        "okx.rebates": "brokerport_okx.ports:OkxRebates",
        "okx.oauth": "brokerport_okx.ports:OkxOAuth",
        "okx.trading": "brokerport_okx.ports:OkxTradingExtras",
    }
    sandbox = "okx"
    samples = "brokerport_okx:samples.toml"
    #: lookups that settle an UnknownOutcome (client.reconcile); by name: imported on use
    reconcilers: ClassVar[Mapping[str, str]] = {
        "trade.place_order": "brokerport_okx.reconcile:order",
        "broker.dma.create_subaccount": "brokerport_okx.reconcile:subaccount",
        "broker.dma.delete_subaccount": "brokerport_okx.reconcile:subaccount_deleted",
        "broker.dma.create_apikey": "brokerport_okx.reconcile:api_key",
        "broker.dma.delete_apikey": "brokerport_okx.reconcile:api_key_deleted",
    }
    #: OKX refuses a clOrdId already in use by a live order with 51016: an order
    #: whose answer was lost is looked up, then re-sent with the same clOrdId
    deduplicates: ClassVar[Mapping[str, str]] = {"trade.place_order": "51016"}

    @classmethod
    def build_catalog(cls) -> Catalog:
        from brokerport.catalog import Catalog

        return Catalog.load("brokerport_okx")  # catalog.json, built from catalog/overlay.toml

    @classmethod
    def build_error_map(cls) -> ErrorMap:
        """Exact codes, then OKX's code families (errors.toml), then the HTTP status."""
        from .errors import ERRORS

        return ERRORS.error_map(
            by_status={429: RateLimited, 401: AuthenticationError, 400: InvalidRequest}
        )

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        from .errors import ENVELOPE

        #: OKX's ``{code, msg, data}`` (:data:`brokerport_okx.errors.ENVELOPE`)
        self.envelope: CodeEnvelope = ENVELOPE
        self.simulated = (
            profile.option("simulated") or profile.option("demo") or ""
        ).lower() in _TRUE
        flag = profile.credentials.get("simulated")
        if flag is not None and flag.reveal().lower() in _TRUE:
            self.simulated = True
        try:
            self._margin = float(profile.option("rate_limit_margin") or "0")
        except ValueError:
            raise InvalidRequest(
                "profile option rate_limit_margin must be a number", vendor="okx"
            ) from None
        self._signer: Signer | None = None

    # ------------------------------------------------------------- mode

    @property
    def mode(self) -> str:
        opt = self.profile.option("auth")
        if opt:
            if opt not in ("api_key", "oauth"):
                raise InvalidRequest("profile option auth must be api_key or oauth", vendor="okx")
            return opt
        creds = self.profile.credentials
        return "oauth" if ("access_token" in creds or "refresh_token" in creds) else "api_key"

    @property
    def oauth(self) -> OkxOAuthSigner | None:
        """The OAuth flow (the signer: token pair, code exchange, rotation); None with API keys."""
        from .signing import OkxOAuthSigner

        return self._signer if isinstance(self._signer, OkxOAuthSigner) else None

    def create_signer(self) -> Signer:
        from brokerport.signing import TokenPair

        from .signing import OkxHmacSigner, OkxOAuthSigner

        profile = self.profile
        signer: Signer
        if self.mode == "oauth":
            creds = profile.credentials
            access = creds.get("access_token") or Secret("")
            expires_opt = profile.option("access_token_expires_at")
            if not access:
                expires_at: float | None = 0.0  # refresh before the first call
            elif expires_opt:
                try:
                    expires_at = float(expires_opt)
                except ValueError:
                    raise InvalidRequest(
                        "profile option access_token_expires_at must be epoch seconds", vendor="okx"
                    ) from None
            else:
                expires_at = None
            pair = TokenPair(
                access_token=access, refresh_token=creds.get("refresh_token"), expires_at=expires_at
            )
            signer = OkxOAuthSigner(
                pair,
                client_id=profile.credential("client_id"),
                client_secret=creds.get("client_secret"),
                termid=profile.option("termid"),
                simulated=self.simulated,
            )
        else:
            signer = OkxHmacSigner(
                profile.credential("api_key"),
                profile.credential("secret_key"),
                profile.credential("passphrase"),
                simulated=self.simulated,
            )
        self._signer = signer
        return signer

    # ----------------------------------------------------- client wiring

    def hook_impls(self) -> list[object]:
        code = self.profile.option("broker_code")
        if not code:
            return []
        from .hooks import BrokerCodeTagger

        return [BrokerCodeTagger(code, self.catalog())]

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint as this profile uses it: the ``oauth_token_path`` option, and a
        rate limit widened by the profile option ``rate_limit_margin`` (fraction of the
        window, at most 0.25 s; default 0: the core limiter holds each slot until its
        answer is in, the latest time OKX, which counts arrivals, can have counted it)."""
        import attrs

        endpoint = super().endpoint(name)
        changes: dict[str, Any] = {}
        limit = endpoint.rate_limit
        if limit is not None and self._margin > 0:
            base = limit.margin or 0.0
            changes["rate_limit"] = attrs.evolve(
                limit, margin=max(base, min(limit.per * self._margin, 0.25))
            )
        path = self.profile.option("oauth_token_path")
        if name == "oauth.token" and path:
            changes["path"] = path
        return attrs.evolve(endpoint, **changes) if changes else endpoint

    def attach(self, client: Client) -> None:
        """Open every rate-limited endpoint's limiter with its widened margin now, so a
        registry shared with other clients holds this credential's windows from the start."""
        for name in self.catalog():
            client.limiters.for_endpoint(self.endpoint(name), client.limiter_scope)

    # ---------------------------------------------------------- requests

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """``{code, msg, data}`` (:data:`~brokerport_okx.errors.ENVELOPE`, which the
        sandbox writes): data on "0"; VendorFault otherwise, and for any ``data[]``
        item whose ``sCode`` is not "0" (the per-item error wins). A batch endpoint
        (tag ``batch``) answers every item, failed or not, unless the whole call
        failed without items."""
        payload = parse_json(response, vendor=self.name)
        status = response.status
        oauth = endpoint.name == "oauth.token" and isinstance(payload, Mapping)
        if oauth and status < 400 and "code" not in payload:
            return payload
        data = payload.get("data") if isinstance(payload, Mapping) else None
        item_fault = _item_fault(data)
        if item_fault is not None:
            if "batch" in endpoint.tags and str(payload.get("code")) in ("0", "1", "2"):
                return data  # per-item outcomes: the caller reads each sCode
            raise VendorFault(*item_fault, http_status=status, data=data)
        return self.envelope.unwrap(payload, http_status=status, vendor=self.name)


def _item_fault(data: Any) -> tuple[str, str] | None:
    if not isinstance(data, list):
        return None
    for item in data:
        if isinstance(item, Mapping) and "sCode" in item:
            s_code = str(item.get("sCode"))
            if s_code not in ("0", ""):
                return s_code, str(item.get("sMsg") or "")
    return None
