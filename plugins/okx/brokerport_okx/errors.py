"""OKX error codes: one table, read by the adapter's error map and the sandbox.

Each code maps to the brokerport error class a host branches on, the HTTP
status OKX answers it with, and OKX's message. Codes come from the OKX broker
document (53000–53017) and the vendor-docs README (50011, 50101–50114,
51000, 58xxx funding errors); the rest are OKX V5 public error codes the
sandbox emits for the broker endpoints (sub-account and key management 59xxx,
order errors 51xxx). ``{0}`` is filled with a parameter name.
"""

from __future__ import annotations

from typing import Final

from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    Conflict,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UnknownOutcome,
    VendorUnavailable,
)
from brokerport.wire import CodeEnvelope, ErrorTable

__all__ = [
    "CODES",
    "ENVELOPE",
    "ERRORS",
    "TIMESTAMP_EXPIRED",
    "TOKEN_REFRESHABLE",
    "error_class",
    "message_for",
]

E = type[BrokerportError]

#: code -> (error class, HTTP status, message)
CODES: Final[dict[str, tuple[E, int, str]]] = {
    # -------------------------------------------------------------- general
    "1": (BrokerportError, 200, "Operation failed."),
    "2": (BrokerportError, 200, "Bulk operation partially succeeded."),
    # ASSUMPTION: an unknown path is answered HTTP 404 in the envelope, code "404"
    "404": (NotFound, 404, "Not Found"),
    "50000": (InvalidRequest, 400, "Body for POST request cannot be empty."),
    "50001": (VendorUnavailable, 503, "Service temporarily unavailable. Try again later"),
    "50002": (InvalidRequest, 400, "JSON syntax error"),
    # the request reached OKX, which cannot say whether it took effect: for a
    # write an UnknownOutcome (reconciled), for a read the pipeline retries it
    "50004": (
        UnknownOutcome,
        400,
        "API endpoint request timeout (does not mean that the request was "
        "successful or failed, please check the request result).",
    ),
    "50005": (VendorUnavailable, 410, "API is offline or unavailable."),
    "50006": (InvalidRequest, 400, 'Invalid Content-Type. Please use "application/JSON".'),
    "50007": (PermissionDenied, 200, "Account blocked."),
    "50008": (NotFound, 200, "User does not exist."),
    "50009": (PermissionDenied, 200, "Account is suspended due to ongoing liquidation."),
    "50010": (InvalidRequest, 200, "User ID cannot be empty."),
    "50011": (RateLimited, 429, "Too Many Requests"),
    "50012": (PermissionDenied, 200, "Account status invalid. Check account status"),
    "50013": (VendorUnavailable, 429, "Systems are busy. Please try again later."),
    "50014": (InvalidRequest, 400, "Parameter {0} cannot be empty."),
    "50015": (InvalidRequest, 400, "Either parameter {0} or {1} is required."),
    "50016": (InvalidRequest, 400, "Parameter {0} and {1} is an invalid pair."),
    "50024": (InvalidRequest, 200, "Parameter {0} and {1} cannot exist at the same time."),
    "50025": (InvalidRequest, 200, "Parameter {0} count exceeds the limit {1}."),
    "50026": (VendorUnavailable, 500, "System error. Try again later"),
    "50027": (PermissionDenied, 200, "The account is restricted from trading."),
    "50044": (InvalidRequest, 200, "Must select one broker type"),
    "50061": (RateLimited, 429, "Sub-account rate limit exceeded"),
    # ------------------------------------------------------- authentication
    "50100": (PermissionDenied, 401, "API frozen, please contact customer service."),
    "50101": (AuthenticationError, 401, "APIKey does not match current environment."),
    "50102": (AuthenticationError, 401, "Timestamp request expired."),
    "50103": (AuthenticationError, 401, 'Request header "OK-ACCESS-KEY" cannot be empty.'),
    "50104": (AuthenticationError, 401, 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.'),
    "50105": (AuthenticationError, 401, 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
    "50106": (AuthenticationError, 401, 'Request header "OK-ACCESS-SIGN" cannot be empty.'),
    "50107": (AuthenticationError, 401, 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.'),
    "50110": (PermissionDenied, 401, "Your IP {0} is not included in your API key's IP whitelist."),
    "50111": (AuthenticationError, 401, "Invalid OK-ACCESS-KEY."),
    "50112": (AuthenticationError, 401, "Invalid OK-ACCESS-TIMESTAMP."),
    "50113": (AuthenticationError, 401, "Invalid Sign."),
    "50114": (AuthenticationError, 401, "Invalid authorization."),
    "50115": (InvalidRequest, 405, "Invalid request method."),
    "50119": (AuthenticationError, 401, "API key doesn't exist."),
    "50120": (PermissionDenied, 401, "API key doesn't have permission."),
    # --------------------------------------------------------------- trade
    "51000": (InvalidRequest, 200, "Parameter {0} error"),
    "51001": (NotFound, 200, "Instrument ID does not exist"),
    "51008": (InsufficientFunds, 200, "Order failed. Insufficient balance."),
    "51016": (Conflict, 200, "Duplicated clOrdId"),
    "51400": (
        Conflict,
        200,
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    ),
    "51503": (
        Conflict,
        200,
        "Order modification failed as the order has been filled, canceled or does not exist.",
    ),
    "51020": (InvalidRequest, 200, "Your order should meet or exceed the minimum order amount."),
    "51121": (InvalidRequest, 200, "Order count should be the integer multiples of the lot size."),
    "51603": (NotFound, 200, "Order does not exist"),
    # ---------------------------------------------------------- OAuth (doc)
    "53000": (AuthenticationError, 400, "Invalid token"),
    "53001": (AuthenticationError, 400, "Invalid authorization: the user cancelled it"),
    "53002": (AuthenticationError, 400, "Token expired"),
    "53003": (AuthenticationError, 400, "Token revoked"),
    "53004": (PermissionDenied, 400, "User is frozen"),
    "53005": (AuthenticationError, 400, "Refresh token incorrect"),
    "53006": (AuthenticationError, 401, "Invalid device"),
    "53009": (AuthenticationError, 400, "Authorization failed"),
    "53010": (InvalidRequest, 400, "Parameter {0} error"),
    "53011": (InvalidRequest, 400, "Required parameter {0} cannot be empty"),
    "53012": (AuthenticationError, 400, "Authorization code expired"),
    "53013": (PermissionDenied, 400, "Insufficient interface permissions"),
    "53014": (PermissionDenied, 401, "Invalid IP"),
    "53015": (InvalidRequest, 400, "Parameter {0} exceeds the maximum length"),
    "53016": (InvalidRequest, 400, "Invalid redirect_uri"),
    "53017": (PermissionDenied, 400, "Fast API permission is not enabled"),
    # ---------------------------------------------------------- funding 58xxx
    "58000": (
        InvalidRequest,
        200,
        "Account type {0} does not supported when getting the sub-account balance",
    ),
    "58001": (AuthenticationError, 200, "Incorrect trade password"),
    "58002": (PermissionDenied, 200, "Please activate Savings Account first."),
    "58003": (InvalidRequest, 200, "Currency type is not supported by Savings Account"),
    "58004": (PermissionDenied, 200, "Account blocked"),
    "58005": (InvalidRequest, 200, "The redeemed amount must be no greater than {0}"),
    "58006": (VendorUnavailable, 200, "Service unavailable for token {0}."),
    "58007": (VendorUnavailable, 200, "Abnormal Assets interface. Please try again later."),
    "58100": (
        PermissionDenied,
        200,
        "The trading product triggers risk control, and the "
        "platform has suspended the fund transfer-out function",
    ),
    "58101": (PermissionDenied, 200, "Transfer suspended"),
    "58102": (RateLimited, 429, "Too frequent transfer (transfer too frequently)."),
    "58104": (
        PermissionDenied,
        200,
        "Since your P2P transaction is abnormal, you are restricted from making fund transfers.",
    ),
    "58105": (
        PermissionDenied,
        200,
        "Since your P2P transaction is abnormal, you are restricted from making fund transfers.",
    ),
    "58106": (PermissionDenied, 200, "Please enable the account for spot contract."),
    "58107": (PermissionDenied, 200, "Please enable the account for futures contract."),
    "58110": (
        PermissionDenied,
        200,
        "Transfers are suspended due to market risk control triggered by your {0}.",
    ),
    "58112": (InvalidRequest, 200, "Your fund transfer failed. Please try again later"),
    "58114": (InvalidRequest, 200, "Transfer amount must be more than 0"),
    "58115": (NotFound, 200, "Sub-account does not exist."),
    "58116": (InvalidRequest, 200, "Transfer amount exceeds the limit."),
    "58117": (
        Conflict,
        200,
        "Account assets are abnormal, please deal with negative assets before transferring",
    ),
    "58200": (
        PermissionDenied,
        200,
        "Withdrawal from {0} to {1} is currently not supported for this currency.",
    ),
    "58201": (InvalidRequest, 200, "Withdrawal amount exceeds daily withdrawal limit."),
    "58202": (
        InvalidRequest,
        200,
        "The minimum withdrawal amount for NEO is 1, and the amount must be an integer.",
    ),
    "58203": (InvalidRequest, 200, "Please add a withdrawal address."),
    "58204": (
        PermissionDenied,
        200,
        "Withdrawal suspended due to your account activity triggering risk control.",
    ),
    "58205": (InvalidRequest, 200, "Withdrawal amount exceeds the upper limit."),
    "58206": (InvalidRequest, 200, "Withdrawal amount is less than the lower limit."),
    "58207": (
        InvalidRequest,
        200,
        "Withdrawal address is not whitelisted for verification exemption.",
    ),
    "58208": (InvalidRequest, 200, "Withdrawal failed. Please link your email."),
    "58209": (
        PermissionDenied,
        200,
        "Sub-accounts don't support withdrawals or deposits. Please use your main account instead",
    ),
    "58210": (InvalidRequest, 200, "Withdrawal fee exceeds the upper limit."),
    "58211": (
        InvalidRequest,
        200,
        "Withdrawal fee is lower than the lower limit (withdrawal endpoint: incorrect fee).",
    ),
    "58212": (InvalidRequest, 200, "Withdrawal fee must be {0}% of the withdrawal amount"),
    "58213": (
        PermissionDenied,
        200,
        "The internal transfer address is illegal. It must be an "
        "email, phone number, or account name",
    ),
    "58221": (
        InvalidRequest,
        200,
        "The toAddr parameter format is incorrect, withdrawal address needs labels. "
        "The format should be 'address:label'.",
    ),
    "58300": (Conflict, 200, "Deposit-address count exceeds the limit."),
    "58350": (InsufficientFunds, 200, "Insufficient balance."),
    "58351": (Conflict, 200, "Invoice expired."),
    "58352": (InvalidRequest, 200, "Invalid invoice."),
    "58353": (InvalidRequest, 200, "Deposit amount must be within limits."),
    "58354": (Conflict, 200, "You have reached the limit of 10,000 invoices per day."),
    "58355": (PermissionDenied, 200, "Permission denied. Please contact your account manager."),
    "58356": (
        InvalidRequest,
        200,
        "The accounts of the same node do not support the Lightning network deposit or withdrawal.",
    ),
    "58357": (InvalidRequest, 200, "{0} is not allowed to create a deposit address"),
    "58358": (InvalidRequest, 200, "fromCcy should not be the same as toCcy"),
    # ------------------------------------------------- sub-accounts & keys 59xxx
    "59501": (Conflict, 200, "Only 50 APIKeys can be created per account"),
    "59502": (
        Conflict,
        200,
        "Note name cannot be duplicate with the currently created APIKey note name",
    ),
    "59503": (InvalidRequest, 200, "Each APIKey can bind up to 20 IP addresses"),
    "59504": (PermissionDenied, 200, "The sub account does not support the withdrawal function"),
    "59505": (InvalidRequest, 200, "The passphrase format is incorrect."),
    "59506": (NotFound, 200, "APIKey does not exist"),
    "59507": (
        InvalidRequest,
        200,
        "The two accounts involved in a transfer must be two "
        "different sub accounts under the same parent account",
    ),
    "59508": (PermissionDenied, 200, "The sub account of {0} is suspended"),
    "59510": (NotFound, 200, "Sub-account does not exist"),
    "59601": (Conflict, 200, "This sub-account name already exists, try another name"),
    "59602": (Conflict, 200, "Number of API keys exceeds the limit"),
    "59603": (Conflict, 200, "Number of sub-accounts exceeds the limit"),
    "59604": (PermissionDenied, 200, "Only the API key of the main account has permission"),
    "59605": (
        NotFound,
        200,
        "This API key does not exist in your sub-account, try another API key",
    ),
    "59606": (
        Conflict,
        200,
        "Transfer funds to your main account before deleting your sub-account",
    ),
    "59608": (
        PermissionDenied,
        200,
        "Only Broker accounts have permission to access this endpoint",
    ),
    "59612": (InvalidRequest, 200, "Cannot convert time format"),
    "59615": (
        InvalidRequest,
        200,
        "The time interval between the Begin Date and End Date cannot be greater than 180 days.",
    ),
    "59616": (InvalidRequest, 200, "The Begin Date cannot be later than The End Date."),
}

#: Codes after which a fresh OAuth access token may succeed.
TOKEN_REFRESHABLE: Final = frozenset({"53000", "53002"})
TIMESTAMP_EXPIRED: Final = "50102"


def error_class(code: str) -> E:
    entry = CODES.get(code)
    if entry is not None:
        return entry[0]
    if code.startswith("58"):
        return InvalidRequest
    if code.startswith("51"):
        return InvalidRequest
    if code.startswith("53"):
        return AuthenticationError
    return BrokerportError


#: The same table as the object the sandbox answers from (brokerport.wire).
ERRORS: Final = ErrorTable(CODES)
#: OKX's ``{code, msg, data}`` envelope: read by the adapter, written by the sandbox.
ENVELOPE: Final = CodeEnvelope()


def message_for(code: str, *args: str) -> str:
    return ERRORS.message(code, *args)
