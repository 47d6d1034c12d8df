"""Errors of the LMS connector, grouped by what the caller does next.

Moodle answers almost every failure with HTTP 200 and a JSON body
``{"exception", "errorcode", "message"[, "debuginfo"]}``. :func:`error_from_payload`
is the one place where such a body becomes an exception; :func:`raise_for_payload`
applies it to a decoded response.

The tree::

    LmsError                         root of everything the connector raises
    ├── LmsRetryableError            try again later, same request (the client's retry policy does)
    │   ├── LmsTransportError        connection refused/reset, DNS, TLS, HTTP 5xx
    │   ├── LmsTimeout               no answer within the timeout
    │   └── LmsOverloaded            HTTP 429/503 or the site is in maintenance
    ├── LmsOutcomeUnknown            a *write* was sent but its answer was lost: read back, re-plan;
    │                                never re-send it blindly (a second create may duplicate)
    ├── LmsWsError                   Moodle refused the call (errorcode, message, debuginfo)
    │   ├── LmsConfigError           the Moodle side must be fixed by an administrator; stop the run
    │   │   ├── LmsInvalidToken      token unknown, expired, or not allowed from this address
    │   │   ├── LmsFunctionNotAvailable   function unknown or not in the token's service
    │   │   └── LmsMissingCapability      the service user lacks a capability or access
    │   ├── LmsWriteConflict         "dmlwriteexception": Moodle's database rolled the write back
    │   │                            (a concurrent write deadlocked on the same rows); nothing of it
    │   │                            was applied: read back, then send what is still missing
    │   ├── LmsDataError             this request's data is wrong: fix the row; others can proceed
    │   │   ├── LmsInvalidParameter  "invalidparameter" (atomic creates fail the whole batch)
    │   │   ├── LmsNotFound          a referenced record does not exist
    │   │   └── LmsAlreadyExists     a unique key (shortname, idnumber, username...) is taken
    │   └── (LmsWsError itself)      any other refusal: report it with the item
    ├── LmsProtocolError             the answer breaks the protocol (not JSON, wrong shape)
    └── LmsTruncationError           rows were silently dropped and could not be recovered

No exception ever holds the token or the request body: the client passes every error
through :func:`redact_error` (a server may echo the request into its answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class LmsError(Exception):
    """Root of every error raised by the connector."""

    def __init__(self, message: str, *, wsfunction: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.wsfunction = wsfunction

    def __str__(self) -> str:
        where = f"{self.wsfunction}: " if self.wsfunction else ""
        return f"{where}{self.message}"


class LmsRetryableError(LmsError):
    """A failure that may pass: the same request can be sent again later."""


class LmsTransportError(LmsRetryableError):
    """The request did not get an HTTP answer (connection, DNS, TLS) or got HTTP 5xx."""

    def __init__(
        self,
        message: str,
        *,
        wsfunction: str | None = None,
        status_code: int | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, wsfunction=wsfunction)
        self.status_code = status_code
        # False only when we know the server never received the request (connect failure),
        # which makes even a write safe to re-send.
        self.request_sent = request_sent


class LmsTimeout(LmsTransportError):
    """No answer within the configured timeout."""


class LmsOverloaded(LmsRetryableError):
    """The LMS asks us to slow down or is briefly unavailable (HTTP 429/503, maintenance)."""

    def __init__(
        self, message: str, *, wsfunction: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, wsfunction=wsfunction)
        self.retry_after = retry_after


class LmsOutcomeUnknown(LmsError):
    """A write was sent but its outcome is unknown. Read the state back before deciding."""

    def __init__(self, message: str, *, wsfunction: str | None = None, cause: LmsError) -> None:
        super().__init__(message, wsfunction=wsfunction)
        self.cause = cause


class LmsWsError(LmsError):
    """Moodle refused the call with an error body."""

    def __init__(
        self,
        message: str,
        *,
        wsfunction: str | None = None,
        errorcode: str = "",
        exception: str = "",
        debuginfo: str | None = None,
    ) -> None:
        super().__init__(message, wsfunction=wsfunction)
        self.errorcode = errorcode
        self.exception = exception
        self.debuginfo = debuginfo

    def __str__(self) -> str:
        text = super().__str__()
        if self.errorcode and self.errorcode not in text:
            text = f"{text} [{self.errorcode}]"
        if self.debuginfo:
            text = f"{text} ({self.debuginfo.strip()})"
        return text


class LmsConfigError(LmsWsError):
    """The Moodle site or the service user must be fixed; no retry helps."""


class LmsInvalidToken(LmsConfigError):
    """The token is unknown, expired or not allowed."""


class LmsFunctionNotAvailable(LmsConfigError):
    """The function does not exist on the site or is not in the token's service."""


class LmsMissingCapability(LmsConfigError):
    """The service user lacks a capability (or access to the context)."""


class LmsWriteConflict(LmsWsError):
    """Moodle rolled the write back (``dml_write_exception``): another write in flight held
    the same rows (observed: two ``core_group_add_group_members`` on one group deadlock).

    Not retried by the client: the caller reads back and sends again only what is missing.
    """


class LmsDataError(LmsWsError):
    """The data in this request was refused; other requests can go on."""


class LmsInvalidParameter(LmsDataError):
    """Moodle's parameter validation refused a value."""


class LmsNotFound(LmsDataError):
    """A referenced record (user, course, category, event...) does not exist."""


class LmsAlreadyExists(LmsDataError):
    """A unique key is already taken."""


class LmsProtocolError(LmsError):
    """The answer broke the protocol: not JSON, or not the shape the function promises."""


class LmsTruncationError(LmsError):
    """Rows sent were silently dropped (PHP max_input_vars) and could not be recovered."""


_INVALID_TOKEN_CODES = frozenset(
    {"invalidtoken", "invalidtokensession", "servicerequireslogin", "usernotfullysetup"}
)
_ACCESS_CODES = frozenset(
    {
        "nopermissions",
        "nopermission",
        "requireloginerror",
        "wsusercannotassign",
        "accessexception",
        "servicenotavailable",
        "restrictedcontextexception",
    }
)
_NOT_FOUND_CODES = frozenset(
    {
        "invalidrecord",
        "invalidrecordunknown",
        "invaliduser",
        "invalidcourseid",
        "unknowcategory",
        "invalidcoursemodule",
        "invalidgroupid",
        "cannotfindgroup",
        "usernotexist",
    }
)
_EXISTS_CODES = frozenset(
    {
        "shortnametaken",
        "idnumbertaken",
        "categoryidnumbertaken",
        "courseidnumbertaken",
        "usernameexists",
        "emailexists",
    }
)
_UNAVAILABLE_CODES = frozenset({"sitemaintenance"})
_CONTEXT_CODES = frozenset({"errorcoursecontextnotvalid", "errorcatcontextnotvalid"})


def is_error_payload(payload: Any) -> bool:
    """True for Moodle's error body: a dict holding both ``exception`` and ``errorcode``."""
    return isinstance(payload, Mapping) and "exception" in payload and "errorcode" in payload


def error_from_payload(payload: Mapping[str, Any], *, wsfunction: str | None = None) -> LmsError:
    """Turn a Moodle error body into the exception the caller should handle."""
    errorcode = str(payload.get("errorcode") or "")
    exception = str(payload.get("exception") or "")
    message = str(payload.get("message") or errorcode or "Moodle returned an error")
    debuginfo = payload.get("debuginfo")
    kwargs: dict[str, Any] = {
        "wsfunction": wsfunction,
        "errorcode": errorcode,
        "exception": exception,
        "debuginfo": str(debuginfo) if debuginfo is not None else None,
    }
    if errorcode in _UNAVAILABLE_CODES:
        return LmsOverloaded(message, wsfunction=wsfunction)
    if errorcode == "dmlwriteexception":
        return LmsWriteConflict(message, **kwargs)
    if errorcode in _INVALID_TOKEN_CODES:
        return LmsInvalidToken(message, **kwargs)
    if exception.endswith("dml_missing_record_exception") and "external_functions" in message:
        # An unknown wsfunction is looked up in the external_functions table and not found.
        return LmsFunctionNotAvailable(message, **kwargs)
    if errorcode == "accessexception" or exception.endswith("webservice_access_exception"):
        return LmsFunctionNotAvailable(message, **kwargs)
    if errorcode in _ACCESS_CODES or exception.endswith(
        ("required_capability_exception", "require_login_exception")
    ):
        return LmsMissingCapability(message, **kwargs)
    if errorcode in _CONTEXT_CODES:
        # Moodle raises the same code for "no such course/category" and "no access to it";
        # the wrapped message tells them apart.
        if "Invalid parameter value detected" in message or "Can't find data record" in message:
            return LmsNotFound(message, **kwargs)
        return LmsMissingCapability(message, **kwargs)
    if errorcode in _NOT_FOUND_CODES or exception.endswith("dml_missing_record_exception"):
        return LmsNotFound(message, **kwargs)
    if errorcode in _EXISTS_CODES:
        return LmsAlreadyExists(message, **kwargs)
    if errorcode in {"invalidparameter", "codingerror"} or exception.endswith(
        ("invalid_parameter_exception", "coding_exception")
    ):
        return LmsInvalidParameter(message, **kwargs)
    if " " in errorcode or "<" in errorcode:
        # moodle_exception thrown with a sentence instead of a string id: Moodle's own
        # validation of the data (password policy, calendar date rules...).
        return LmsDataError(message, **kwargs)
    return LmsWsError(message, **kwargs)


def raise_for_payload(payload: Any, *, wsfunction: str | None = None) -> Any:
    """Return ``payload`` unless it is a Moodle error body, which is raised instead."""
    if is_error_payload(payload):
        raise error_from_payload(payload, wsfunction=wsfunction)
    return payload


def redact_error(error: LmsError, clean: Callable[[str], str]) -> None:
    """Pass every text an error carries (and its cause's) through ``clean``, in place."""
    error.message = clean(error.message)
    error.args = tuple(clean(a) if isinstance(a, str) else a for a in error.args)
    if isinstance(error, LmsWsError):
        error.errorcode = clean(error.errorcode)
        error.exception = clean(error.exception)
        if error.debuginfo is not None:
            error.debuginfo = clean(error.debuginfo)
    if isinstance(error, LmsOutcomeUnknown):
        redact_error(error.cause, clean)
