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
``rate_limit_margin`` (fraction of each rate-limit window kept free, 0.1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.catalog import Catalog, Endpoint
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    DecodeError,
    InvalidRequest,
    RateLimited,
)
from brokerport.signing import BearerToken, Signer, TokenPair
from brokerport.types import Secret

from . import catalog as okx_catalog
from .errors import CODES, error_class
from .hooks import BrokerCodeTagger, ClientWiring, new_clordid
from .signing import FaultNote, OkxHmacSigner, OkxOAuthSigner

if TYPE_CHECKING:
    from brokerport.client import Client
    from brokerport.pipeline import Call
    from brokerport.profile import Profile
    from brokerport.transport import RawResponse

__all__ = ["OkxAdapter", "OkxErrorMap"]

_TRUE = {"1", "true", "yes", "on"}


class OkxErrorMap(ErrorMap):
    """Exact codes from :data:`brokerport_okx.errors.CODES`, then OKX's code families."""

    def classify(self, code: str | None, http_status: int | None) -> type[BrokerportError]:
        if code is not None and code not in self.codes and code[:2] in ("51", "53", "58"):
            return error_class(code)
        return super().classify(code, http_status)


class OAuthManager:
    """Holds the token pair; refreshes and exchanges codes with the token endpoint.

    The refresh goes straight to the transport (not through the pipeline,
    whose signer is waiting on this very refresh), so it cannot deadlock.
    """

    def __init__(
        self,
        adapter: OkxAdapter,
        client_id: Secret,
        client_secret: Secret | None,
        tokens: TokenPair,
    ) -> None:
        self.adapter = adapter
        self._client_id = client_id
        self._client_secret = client_secret
        self.signer: OkxOAuthSigner | None = None
        self.token = self.new_token(tokens)

    def new_token(self, tokens: TokenPair) -> BearerToken:
        """Put ``tokens`` in use (for this manager and its signer)."""
        self.token = BearerToken(tokens, self.refresher, clock=self.adapter._now)
        if self.signer is not None:
            self.signer.token = self.token
        return self.token

    async def _token_call(self, params: dict[str, Any]) -> TokenPair:
        adapter = self.adapter
        client = adapter.client
        if client is None:
            raise AuthenticationError("the OKX client is not connected", vendor="okx")
        endpoint = adapter.catalog_for_profile()["oauth.token"]
        params["client_id"] = self._client_id
        if self._client_secret is not None:
            params["client_secret"] = self._client_secret
        endpoint.validate(params, vendor="okx")
        request = adapter.build_request(endpoint, params, {})
        if adapter.simulated:
            request.headers["x-simulated-trading"] = "1"
        from brokerport.transport import TransportFailure

        started = adapter._now()
        try:
            raw = await client.transport.send(request)
        except TransportFailure as fail:
            raise AuthenticationError(
                f"OAuth token request failed: {fail.detail}",
                vendor="okx",
                endpoint=endpoint.name,
            ) from None
        try:
            data = adapter.decode(endpoint, raw)
        except VendorFault as fault:
            raise adapter.error_map.error(fault, vendor="okx", endpoint=endpoint.name) from None
        if not isinstance(data, Mapping) or not data.get("access_token"):
            raise DecodeError(
                "the OAuth token answer has no access_token", vendor="okx", endpoint=endpoint.name
            )
        expires_in = data.get("expires_in")
        try:
            expires_at = started + float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            raise DecodeError(
                "the OAuth token answer has a bad expires_in", vendor="okx", endpoint=endpoint.name
            ) from None
        refresh = data.get("refresh_token")
        return TokenPair(
            access_token=Secret(str(data["access_token"])),
            refresh_token=Secret(str(refresh)) if refresh else None,
            expires_at=expires_at,
        )

    async def refresher(self, pair: TokenPair) -> TokenPair:
        if pair.refresh_token is None:
            raise AuthenticationError("no OAuth refresh token", vendor="okx")
        return await self._token_call(
            {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
        )

    async def exchange_code(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> TokenPair:
        params: dict[str, Any] = {"grant_type": "authorization_code", "code": Secret(code)}
        if code_verifier:
            params["code_verifier"] = Secret(code_verifier)
        if redirect_uri:
            params["redirect_uri"] = redirect_uri
        pair = await self._token_call(params)
        self.new_token(pair)
        return pair

    def __repr__(self) -> str:
        return "OAuthManager(...)"


class OkxAdapter(Adapter):
    """OKX V5 broker program: DMA sub-accounts and keys, funding, orders, FD rebates."""

    name = "okx"
    version = "0.1.0"
    description = "OKX V5 broker program (DMA, FD, OAuth) with broker-code tagging"
    operations = frozenset(
        {
            "subaccounts.create",
            "subaccounts.delete",
            "subaccounts.list",
            "subaccounts.set_level",
            "subaccounts.fee_rates",
            "subaccounts.report_ip",
            "subaccounts.set_demo_assets",
            "keys.create",
            "keys.list",
            "keys.update",
            "keys.delete",
            "keys.renew_token",
            "funding.create_deposit_address",
            "funding.update_deposit_address",
            "funding.list_deposit_addresses",
            "funding.deposit_history",
            "funding.withdrawal_history",
            "trading.place_order",
            "trading.amend_order",
            "trading.cancel_order",
            "trading.get_order",
        }
    )
    # by name: the ports module (and the models) load when a client opens
    ports: ClassVar[Mapping[str, str]] = {
        "subaccounts": "brokerport_okx.ports:OkxSubAccounts",
        "keys": "brokerport_okx.ports:OkxKeys",
        "funding": "brokerport_okx.ports:OkxFunding",
        "trading": "brokerport_okx.ports:OkxTrading",
    }
    extensions: ClassVar[Mapping[str, str]] = {
        "okx.rebates": "brokerport_okx.ports:OkxRebates",
        "okx.oauth": "brokerport_okx.ports:OkxOAuth",
    }
    error_map: ClassVar[ErrorMap] = OkxErrorMap(
        {code: entry[0] for code, entry in CODES.items()},
        by_status={429: RateLimited, 401: AuthenticationError, 400: InvalidRequest},
    )
    sandbox = "okx"
    samples = "brokerport_okx.testing:OkxSamples"

    @classmethod
    def build_catalog(cls) -> Catalog:
        return okx_catalog.build_catalog()

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self.note = FaultNote()
        self.client: Client | None = None
        self.oauth: OAuthManager | None = None
        self.simulated = (
            profile.option("simulated") or profile.option("demo") or ""
        ).lower() in _TRUE
        flag = profile.credentials.get("simulated")
        if flag is not None and flag.reveal().lower() in _TRUE:
            self.simulated = True
        self._signer: Signer | None = None
        self._resync_flight: asyncio.Future[bool] | None = None
        path = profile.option("oauth_token_path")
        self._catalog_override = okx_catalog.build_catalog(path) if path else None

    def catalog_for_profile(self) -> Catalog:
        return self._catalog_override or self.catalog()

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

    def _public_endpoints(self) -> frozenset[str]:
        return frozenset(name for name, ep in self.catalog().items() if ep.auth == "public")

    def create_signer(self) -> Signer:
        profile = self.profile
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
            manager = self.oauth = OAuthManager(
                self, profile.credential("client_id"), creds.get("client_secret"), pair
            )
            oauth_signer = OkxOAuthSigner(
                manager.token,
                termid=profile.option("termid"),
                simulated=self.simulated,
                public_endpoints=self._public_endpoints(),
                note=self.note,
            )
            manager.signer = oauth_signer
            signer: Signer = oauth_signer
        else:
            hmac_signer = OkxHmacSigner(
                profile.credential("api_key"),
                profile.credential("secret_key"),
                profile.credential("passphrase"),
                simulated=self.simulated,
                public_endpoints=self._public_endpoints(),
                note=self.note,
            )
            hmac_signer.resync = self.resync_clock
            signer = hmac_signer
        self._signer = signer
        return signer

    def _now(self) -> float:
        client = self.client
        if client is None:
            return time.time()
        return client.clock() + client.clock_offset

    # ----------------------------------------------------- client wiring

    def hook_impls(self) -> list[object]:
        impls: list[object] = [ClientWiring(self)]
        code = self.profile.option("broker_code")
        if code:
            impls.append(BrokerCodeTagger(code))
        return impls

    def attach(self, client: Client) -> None:
        self.client = client
        self._widen_rate_limit_margins(client)

    def _widen_rate_limit_margins(self, client: Client) -> None:
        """Leave room for network jitter: OKX counts a request when it *arrives*.

        The core limiter keeps a 2 % margin; a burst of 40 concurrent requests
        on a busy host can arrive tens of milliseconds apart, so the next
        window's first requests could land inside OKX's window. The profile
        option ``rate_limit_margin`` (fraction of the window, default 0.1,
        at most 0.25 s) widens it for every OKX endpoint of this client.
        """
        try:
            fraction = float(self.profile.option("rate_limit_margin") or "0.1")
        except ValueError:
            raise InvalidRequest(
                "profile option rate_limit_margin must be a number", vendor="okx"
            ) from None
        registry = getattr(client, "limiters", None)
        scope = getattr(client, "limiter_scope", "")
        if registry is None:
            return
        for endpoint in self.catalog().values():
            limit = endpoint.rate_limit
            if limit is None:
                continue
            limiter = registry.for_endpoint(endpoint, scope)
            if limiter is not None:
                window = limiter.window
                window.margin = max(window.margin, min(limit.per * fraction, 0.25))

    def mint_idempotency_key(self, endpoint: Endpoint) -> str:
        return new_clordid()

    # ---------------------------------------------------------- requests

    def build_request(
        self, endpoint: Endpoint, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Any:
        if endpoint.name == "oauth.token":
            endpoint = self.catalog_for_profile()["oauth.token"]
        return super().build_request(endpoint, params, headers)

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """``{code, msg, data}``: data on "0"; VendorFault otherwise, and for any
        ``data[]`` item whose ``sCode`` is not "0" (the per-item error wins)."""
        self.note.code = None
        payload = parse_json(response, vendor=self.name)
        status = response.status
        if isinstance(payload, Mapping) and "code" in payload:
            code = str(payload.get("code"))
            msg = str(payload.get("msg") or "")
            data = payload.get("data")
            item_fault = _item_fault(data)
            if code != "0" or item_fault is not None:
                if item_fault is not None:
                    code, msg = item_fault
                self.note.code = code
                raise VendorFault(code, msg, http_status=status, data=data)
            if status >= 400:
                raise VendorFault(None, f"HTTP {status}", http_status=status, data=data)
            return data
        if endpoint.name == "oauth.token" and isinstance(payload, Mapping) and status < 400:
            return payload
        if status >= 400:
            raise VendorFault(None, f"HTTP {status}", http_status=status)
        raise DecodeError(
            "OKX answered without the {code, msg, data} envelope",
            vendor=self.name,
            http_status=status,
            endpoint=endpoint.name,
        )

    # ---------------------------------------------------------- recovery

    async def resync_clock(self) -> bool:
        """Learn the server clock offset from GET /api/v5/public/time.

        Single flight: calls that hit 50102 together share one time request.
        """
        if self._resync_flight is not None:
            return await asyncio.shield(self._resync_flight)
        flight: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._resync_flight = flight
        try:
            ok = await self._read_server_clock()
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: there may be no other waiter
            raise
        else:
            flight.set_result(ok)
        finally:
            self._resync_flight = None
        return ok

    async def _read_server_clock(self) -> bool:
        client = self.client
        if client is None:
            return False
        t0 = client.clock()
        try:
            data = await client.invoke("public.time", {})
            server = int(str(data[0]["ts"])) / 1000
        except (BrokerportError, LookupError, TypeError, ValueError):
            return False
        t1 = client.clock()
        client.clock_offset = server - (t0 + t1) / 2
        return True

    async def recover(self, error: BrokerportError, call: Call) -> bool:
        # 50102 is an AuthenticationError: OkxHmacSigner.on_auth_failure resyncs
        # the clock (once per call); nothing more to repair here.
        return False


def _item_fault(data: Any) -> tuple[str, str] | None:
    if not isinstance(data, list):
        return None
    for item in data:
        if isinstance(item, Mapping) and "sCode" in item:
            s_code = str(item.get("sCode"))
            if s_code not in ("0", ""):
                return s_code, str(item.get("sMsg") or "")
    return None
