"""The lwork adapter: catalog, tenant-header signer, RSA body signatures, envelope.

Profile
-------
credentials
    ``tenant_id``, ``token`` (the Support Center tenant headers);
    ``private_key`` (PEM text, PKCS#1 or PKCS#8) and ``private_key_passphrase``
    (when the PEM is encrypted).
options
    ``private_key_file`` / ``private_key_env``: where to read the PEM when it is
    not a credential; ``user_id``, ``server_id``, ``platform`` (MT4/MT5),
    ``pay_currency``, ``payment_platform``, ``demo_account_type``: defaults for
    port requests that do not name them; ``page_size`` (default 50),
    ``history_days`` (default 90), ``timezone`` (default ``+08:00``),
    ``error_codes`` (``CODE=Class,...``). See the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport.adapter import Adapter, ErrorMap, declare, encode_value, parse_json
from brokerport.errors import AuthenticationError, Conflict
from brokerport.types import Secret

from .catalog import SIGNED_ENDPOINTS, format_amounts

# the catalog and attrs, the signer (brokerport.signing), the error table and the
# envelope load when a client is made, not when plugins are listed (bench/startup.py)
if TYPE_CHECKING:
    import cattrs
    from brokerport.catalog import Catalog, Endpoint
    from brokerport.profile import Profile
    from brokerport.signing import PreparedRequest, Signer
    from brokerport.transport import RawResponse

    from .errors import LworkEnvelope

__all__ = ["LworkAdapter"]


class LworkAdapter(Adapter):
    """lwork (twapi): MT4/MT5 CRM — accounts, signed money movement, read-only trading."""

    name = "lwork"
    version = "0.1.0"
    description = "lwork (twapi) MT4/MT5 CRM API"
    operations = declare(
        accounts="list get open_live open_demo update_profile",
        funding="balances request_deposit confirm_deposit request_withdrawal transfer"
        " deposit_history withdrawal_history cash_ledger",
        trading="order_history open_orders positions",
    )
    # by name: the ports module (and the models) load when a client opens
    ports: ClassVar[Mapping[str, str]] = {
        "accounts": "brokerport_lwork.ports:LworkAccounts",
        "funding": "brokerport_lwork.ports:LworkFunding",
        "trading": "brokerport_lwork.ports:LworkTrading",
    }
    sandbox = "lwork"
    samples = "brokerport_lwork:samples.toml"
    #: cash-flow lookups that settle an UnknownOutcome (client.reconcile)
    reconcilers: ClassVar[Mapping[str, str]] = {
        "account.deposit": "brokerport_lwork.reconcile:deposit",
        "account.withdraw": "brokerport_lwork.reconcile:withdrawal",
        "account.transfer": "brokerport_lwork.reconcile:transfer",
    }

    @classmethod
    def build_catalog(cls) -> Catalog:
        from brokerport.catalog import Catalog

        return Catalog.load("brokerport_lwork")  # catalog.json, built from catalog/overlay.toml

    @classmethod
    def build_error_map(cls) -> ErrorMap:
        from .errors import error_map

        return error_map()

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        from .auth import RsaKeyHolder
        from .errors import ENVELOPE

        #: ``{result, mcode, data, errorMessage}`` (:data:`brokerport_lwork.errors.ENVELOPE`)
        self.envelope: LworkEnvelope = ENVELOPE
        creds: Mapping[str, Secret] = profile.credentials
        opts: Mapping[str, str] = profile.options
        # loaded once per client; errors never carry key material
        self.rsa_key = RsaKeyHolder(
            pem=_pem(creds.get("private_key")),
            path=opts.get("private_key_file"),
            env=opts.get("private_key_env"),
            passphrase=creds.get("private_key_passphrase"),
        )

    def create_signer(self) -> Signer:
        from .auth import LworkSigner

        creds = self.profile.credentials
        tenant = creds.get("tenant_id")
        token = creds.get("token")
        if not tenant or not token:
            raise AuthenticationError(
                "lwork needs credentials tenant_id and token (x-api-tenantId, x-api-token)",
                vendor=self.name,
            )
        return LworkSigner(tenant, token, self.rsa_key, self.endpoint)

    def create_converter(self) -> cattrs.Converter:
        """The core converter; zone-less wire times are read in option ``timezone``."""
        from .convert import create_converter

        return create_converter(self.profile.option("timezone"))

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        doc = parse_json(response, vendor=self.name)
        data = self.envelope.unwrap(doc, http_status=response.status, vendor=self.name)
        if endpoint.name == "account.deposit_callback" and str(data).strip() != "1":
            # 3.3 answers data "1" when it recorded the payment: anything else is a refusal
            raise Conflict(
                f"lwork did not record the payment (callback answered data={str(data)[:20]!r})",
                vendor=self.name,
                endpoint=endpoint.name,
            )
        return data

    def build_request(
        self, endpoint: Endpoint, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> PreparedRequest:
        """Amounts to exactly two decimals and the signed fields as their wire strings;
        the signer then signs those very strings (:class:`LworkSigner`)."""
        out = format_amounts(endpoint.name, params, vendor=self.name)
        for f in SIGNED_ENDPOINTS.get(endpoint.name, ()):
            if out.get(f) is not None:
                out[f] = encode_value(out[f])
        return super().build_request(endpoint, out, headers)

    def __repr__(self) -> str:
        return f"LworkAdapter(profile={self.profile.name!r}, key={self.rsa_key!r})"


def _pem(value: Secret | None) -> Secret | None:
    """A PEM credential; ``\\n`` escapes (one-line env values) become newlines."""
    if value is None or not value:
        return None
    text = value.reveal()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    if "-----BEGIN" not in text:
        raise AuthenticationError("cannot load RSA private key: not a PEM key", vendor="lwork")
    return Secret(text)
