"""Every error the domain can raise, with a stable code and a message template.

Why one registry: each API dialect renders the same failure in its own envelope and language,
so the failure itself must be data (a code, a family, parameters), not an HTTP status or a
finished English sentence. Dialects map `ErrorFamily` to a status and translate `spec.message`
with gettext; the msgids are the English templates below, marked with `N_` so Babel extracts them.

Codes follow eGain's `<status>-<number>` convention (api-notes §1.4). Codes eGain published are
used with their published template; where eGain published nothing (the email rules, marked [U]
in api-notes) we assign codes in the `-2xxx` range and document them in docs/errors.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a string for extraction without translating it here (the domain knows no locale)."""
    return message


class ErrorFamily(Enum):
    """What the caller can do about an error; each edge maps a family to its status code."""

    INVALID = "invalid"  # fix the request
    UNAUTHENTICATED = "unauthenticated"  # log in (again)
    FORBIDDEN = "forbidden"  # ask for permission
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # re-read and retry
    NOT_ACCEPTABLE = "not_acceptable"  # change Accept / Accept-Language
    UNSUPPORTED_MEDIA = "unsupported_media"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"  # wait
    UNAVAILABLE = "unavailable"  # transient: retry later
    INTERNAL = "internal"


@dataclass(frozen=True)
class ErrorSpec:
    """A kind of failure: its wire code, its family and its English message template."""

    code: str
    family: ErrorFamily
    message: str

    def __call__(self, details: Mapping[str, str] | None = None, **params: object) -> DomainError:
        """Build the exception: `raise SUBJECT_TOO_LONG(attribute="subject", limit=255)`."""
        return DomainError(self, {k: str(v) for k, v in params.items()}, dict(details or {}))


@dataclass
class DomainError(Exception):
    """A rule said no. Carries parameters for the message template and optional details."""

    spec: ErrorSpec
    params: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.english())

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def family(self) -> ErrorFamily:
        return self.spec.family

    def english(self) -> str:
        """The message in the source language (logs, CLI); edges translate `spec.message`."""
        return render(self.spec.message, self.params)

    def __str__(self) -> str:
        return f"{self.spec.code}: {self.english()}"


def render(template: str, params: Mapping[str, str]) -> str:
    """Fill a template; a missing parameter shows as its placeholder rather than failing."""

    class _Keep(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(_Keep(params))


_I, _A, _F, _N = (
    ErrorFamily.INVALID,
    ErrorFamily.UNAUTHENTICATED,
    ErrorFamily.FORBIDDEN,
    ErrorFamily.NOT_FOUND,
)

# --- Request-level errors published by eGain (api-notes §1.4) -------------------------------
UNSUPPORTED_QUERY_PARAMETER = ErrorSpec(
    "400-101", _I, N_("Unsupported query parameter(s) supplied: '{parameters}'.")
)
UNSUPPORTED_QUERY_VALUE = ErrorSpec(
    "400-102",
    _I,
    N_(
        "Unsupported value for query parameter '{parameter}'. "
        "Only the following values are supported: '{values}'."
    ),
)
POSITIVE_INTEGER_EXPECTED = ErrorSpec(
    "400-105", _I, N_("Invalid query parameter value: '{value}'. A positive integer is expected.")
)
INVALID_PATH_PARAMETER = ErrorSpec(
    "400-108",
    _I,
    N_("Invalid path parameter value: '{value}'. A numeric or a readable ID is expected."),
)
MISSING_QUERY_PARAMETER = ErrorSpec(
    "400-112",
    _I,
    N_(
        "Required query parameter(s) is missing. "
        "The following parameters are required: '{parameters}'."
    ),
)
INVALID_ATTRIBUTE = ErrorSpec(
    "400-152",
    _I,
    N_("Invalid value is provided in the request body for the following attribute:'{attribute}'."),
)
INVALID_ENUM_VALUE = ErrorSpec(
    "400-196", _I, N_("Invalid value of attribute {attribute}, expected values are: [{values}].")
)
LIMIT_EXCEEDED = ErrorSpec(
    "400-10424", _I, N_("Limit exceeded. The allowed limit for '{limit}' is '{value}'.")
)
INVALID_SESSION = ErrorSpec(
    "401-101", _A, N_("Invalid or expired '{header}' header provided. New login is required.")
)
INVALID_AUTHORIZATION = ErrorSpec(
    "401-104", _A, N_("Invalid or missing 'authorization' header value.")
)
ACTOR_NOT_ALLOWED = ErrorSpec(
    "403-112", _F, N_("Unauthorized URL access: {actor} are not allowed to access this URL.")
)
ACTION_NOT_ALLOWED = ErrorSpec(
    "403-178", _F, N_("User is not allowed to perform the following action: {action}.")
)
SCOPE_REQUIRED = ErrorSpec(
    "403-197",
    _F,
    N_("Unauthorized URL access: Logged in actor must have '{scopes}' scope to access this URL."),
)
IDS_NOT_FOUND = ErrorSpec(
    "404-101", _N, N_("The following IDs supplied in the URI path were not found: '{ids}'.")
)
INVALID_ACCEPT_LANGUAGE = ErrorSpec(
    "406-100", ErrorFamily.NOT_ACCEPTABLE, N_("Invalid 'Accept-Language' header value provided.")
)
LAST_MODIFIED_MISMATCH = ErrorSpec(
    "409-100",
    ErrorFamily.CONFLICT,
    N_(
        "Last modified date provided in the request body for the following do not match : "
        "{attribute}."
    ),
)
PRECONDITION_FAILED = ErrorSpec(
    "412-100", ErrorFamily.CONFLICT, N_("Precondition failed: {requirement}.")
)
TOO_MANY_REQUESTS = ErrorSpec("429-001", ErrorFamily.RATE_LIMITED, N_("Too many requests."))
INTERNAL_ERROR = ErrorSpec(
    "500-100",
    ErrorFamily.INTERNAL,
    N_("System is unable to process this request. Please contact your administrator."),
)

# --- emaildesk codes where eGain published none ([U] in api-notes) --------------------------
UNSUPPORTED_ACCEPT = ErrorSpec(
    "406-101",
    ErrorFamily.NOT_ACCEPTABLE,
    N_("Invalid 'Accept' header value provided. Supported values are: '{values}'."),
)
UNSUPPORTED_CONTENT_TYPE = ErrorSpec(
    "415-100",
    ErrorFamily.UNSUPPORTED_MEDIA,
    N_("Unsupported 'Content-Type' header value: '{value}'. Supported values are: '{values}'."),
)
SERVICE_UNAVAILABLE = ErrorSpec(
    "503-100",
    ErrorFamily.UNAVAILABLE,
    N_("The service is temporarily unavailable. Please retry later."),
)
MALFORMED_BODY = ErrorSpec("400-2000", _I, N_("The request body could not be read as '{format}'."))
REQUIRED_ATTRIBUTE = ErrorSpec(
    "400-2001", _I, N_("The following attribute is required: '{attribute}'.")
)
ONE_OF_REQUIRED = ErrorSpec(
    "400-2002", _I, N_("At least one of the following attributes must be provided: '{attributes}'.")
)
TOO_LONG = ErrorSpec(
    "400-2003", _I, N_("The value of attribute '{attribute}' must not exceed {limit} characters.")
)
INVALID_EMAIL_ADDRESS = ErrorSpec(
    "400-2004", _I, N_("Invalid email address provided for attribute '{attribute}'.")
)
SINGLE_ADDRESS_REQUIRED = ErrorSpec(
    "400-2005", _I, N_("Attribute '{attribute}' must contain a single email address.")
)
ALIAS_NOT_ACTIVE = ErrorSpec(
    "400-2006",
    _I,
    N_("'{address}' is not an active email alias of department '{department}'."),
)
CASE_NOT_FOUND = ErrorSpec("400-2007", _I, N_("Case '{case_id}' does not exist."))
SECURE_MESSAGING_DISABLED = ErrorSpec(
    "400-2008",
    _I,
    N_("A secure email cannot be created because secure messaging is disabled."),
)
ISSUE_TYPE_NEEDS_MESSAGE_CENTER = ErrorSpec(
    "400-2009",
    _I,
    N_("'issueType.id' can be provided only together with 'payload.email.messageCenter.id'."),
)
ISSUE_TYPE_NOT_IN_MESSAGE_CENTER = ErrorSpec(
    "400-2010",
    _I,
    N_("Issue type '{issue_type}' is not associated with message center '{message_center}'."),
)
MESSAGE_CENTER_NOT_ACTIVE = ErrorSpec(
    "400-2011", _I, N_("Message center '{message_center}' does not exist or is not active.")
)
UNKNOWN_CUSTOM_ATTRIBUTE = ErrorSpec(
    "400-2012", _I, N_("'{name}' is not a configured custom attribute.")
)
CUSTOM_ATTRIBUTE_NOT_IN_ENUM = ErrorSpec(
    "400-2013",
    _I,
    N_("The value of custom attribute '{name}' must be one of: [{values}]."),
)
CUSTOM_ATTRIBUTE_CHARACTERS = ErrorSpec(
    "400-2014",
    _I,
    N_("The value of custom attribute '{name}' contains characters that are not allowed."),
)
FROM_WITH_CUSTOMER = ErrorSpec(
    "400-2015",
    _I,
    N_(
        "'payload.email.emailAddresses.from' must not be provided together with the 'customer' "
        "query parameter."
    ),
)
ADDRESS_OF_ANOTHER_CONTACT = ErrorSpec(
    "400-2016",
    _I,
    N_("The email address in '{attribute}' belongs to another contact."),
)
NO_GRANT = ErrorSpec(
    "400-2017",
    _I,
    N_("The logged in customer is not authorized to act on behalf of customer '{customer_id}'."),
)
ONE_CONTACT_POINT_PER_KIND = ErrorSpec(
    "400-2018", _I, N_("Only one contact point of type '{kind}' can be provided.")
)
DUE_DATE_NOT_FUTURE = ErrorSpec("400-2019", _I, N_("'dueDate' must be a date in the future."))
EMAIL_TOO_LARGE = ErrorSpec(
    "400-2020", _I, N_("The email size exceeds the allowed maximum of {limit} MB.")
)
BODY_TOO_LARGE = ErrorSpec(
    "400-2021", _I, N_("The email content size exceeds the allowed maximum of {limit} KB.")
)
BLOCKED_FILE_TYPE = ErrorSpec(
    "400-2022", _I, N_("Attachments of file type '{extension}' are not allowed.")
)
DEPARTMENT_NOT_FOUND = ErrorSpec("400-2023", _I, N_("Department '{department}' does not exist."))
CUSTOMER_NOT_FOUND = ErrorSpec(
    "400-2024",
    _I,
    N_("No customer was found for '{attribute}' and 'createCustomer' was not requested."),
)
GRANT_LIMIT = ErrorSpec(
    "400-2025", _I, N_("A customer can have at most {limit} grants in each direction.")
)
TARGET_USER_AMBIGUOUS = ErrorSpec(
    "400-2026",
    _I,
    N_(
        "Exactly one of 'status.assigned.user.id', 'loginId', 'externalId' or 'customAttributes' "
        "must identify the target user."
    ),
)
TARGET_USER_REQUIRED = ErrorSpec(
    "400-2027", _I, N_("A client application must name the user the activity is assigned to.")
)
TARGET_USER_NOT_FOUND = ErrorSpec(
    "400-2028", _I, N_("The target user could not be found or is not active.")
)
CUSTOMER_HAS_NO_EMAIL = ErrorSpec(
    "400-2029", _I, N_("Customer '{customer_id}' has no email address.")
)
INVALID_DATE = ErrorSpec(
    "400-2030",
    _I,
    N_("Invalid date in attribute '{attribute}'. Expected format: 'yyyy-MM-ddTHH:mm:ss.SSSZ'."),
)
DEPARTMENT_MISMATCH = ErrorSpec(
    "400-2031",
    _I,
    N_("'{attribute}' must belong to the same department as the customer."),
)
ATTACHMENTS_IN_MULTIPART_DATA = ErrorSpec(
    "400-2032",
    _I,
    N_("The 'attachments' element is not allowed in the 'data' part of a multipart request."),
)
ATTACHMENT_NOT_FOUND = ErrorSpec(
    "400-2033", _I, N_("Attachment '{alt_id}' does not exist or was already used.")
)
DUPLICATE_NAME = ErrorSpec("400-2034", _I, N_("A {entity} named '{name}' already exists."))
OPERATION_NOT_ALLOWED_IN_STATE = ErrorSpec(
    "409-2001",
    ErrorFamily.CONFLICT,
    N_("Operation '{operation}' is not allowed in state '{state}'."),
)
WRONG_CREDENTIALS = ErrorSpec("401-2001", _A, N_("Invalid user name or password."))
SESSION_LIMIT_REACHED = ErrorSpec(
    "403-2001",
    _F,
    N_(
        "The maximum of {limit} sessions is reached. "
        "Use 'forceLogin=yes' to end the oldest session."
    ),
)
LICENSE_REQUIRED = ErrorSpec(
    "403-2002", _F, N_("User '{user}' does not have any of the user licenses.")
)
TRANSFER_NOT_ALLOWED = ErrorSpec(
    "403-2003",
    _F,
    N_("The logged in user does not have transfer permission on user '{user}'."),
)
DEPARTMENT_NOT_ALLOWED = ErrorSpec(
    "403-2004",
    _F,
    N_("The logged in user is not a member of department '{department}'."),
)
INVALID_CLIENT = ErrorSpec("401-2002", _A, N_("Client authentication failed."))
INVALID_GRANT = ErrorSpec(
    "400-2035", _I, N_("The subject '{subject}' of the grant does not exist or is not active.")
)
UNSUPPORTED_GRANT_TYPE = ErrorSpec(
    "400-2036",
    _I,
    N_("Unsupported grant type '{grant_type}'. Supported grant types are: '{values}'."),
)
INVALID_SCOPE = ErrorSpec(
    "400-2037",
    _I,
    N_("The requested scope '{scope}' is not allowed. Allowed scopes are: '{values}'."),
)
PAYLOAD_TOO_LARGE = ErrorSpec(
    "413-100",
    ErrorFamily.TOO_LARGE,
    N_("The request body exceeds the allowed maximum of {limit} bytes."),
)


def all_specs() -> list[ErrorSpec]:
    """Every registered spec, for catalog checks and the generated error reference."""
    return [v for v in globals().values() if isinstance(v, ErrorSpec)]
