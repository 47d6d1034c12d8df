"""Moodle's web-service errors, as the sandbox LMS raises and encodes them.

Real Moodle answers every failure with HTTP 200 and a JSON object
``{"exception", "errorcode", "message"}``; ``"debuginfo"`` is added only when the site
runs with developer debugging. :class:`MoodleError` carries all four; the constructors
below build the errors the recorded site produced, with the recorded wording.
"""

from __future__ import annotations

from typing import Any

INVALID_PARAMETER_MESSAGE = "Invalid parameter value detected"


class MoodleError(Exception):
    """One web-service error, encoded by :meth:`payload`."""

    def __init__(
        self,
        exception: str,
        errorcode: str,
        message: str,
        debuginfo: str | None = None,
    ) -> None:
        super().__init__(f"{errorcode}: {message}")
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def payload(self, *, debug: bool) -> dict[str, Any]:
        """The JSON body; ``debuginfo`` only in developer-debug mode and when known."""
        body: dict[str, Any] = {
            "exception": self.exception,
            "errorcode": self.errorcode,
            "message": self.message,
        }
        if debug and self.debuginfo is not None:
            body["debuginfo"] = self.debuginfo
        return body


class InvalidParameter(MoodleError):
    """``invalid_parameter_exception``: raised by validation and by many handlers."""

    def __init__(self, debuginfo: str) -> None:
        super().__init__(
            "core\\exception\\invalid_parameter_exception",
            "invalidparameter",
            INVALID_PARAMETER_MESSAGE,
            debuginfo,
        )


def moodle_exception(errorcode: str, message: str, debuginfo: str | None = None) -> MoodleError:
    """A plain ``moodle_exception`` with a known language string."""
    return MoodleError("core\\exception\\moodle_exception", errorcode, message, debuginfo)


def unknown_string_exception(text: str) -> MoodleError:
    """A ``moodle_exception`` thrown with free text as its error code.

    Moodle then prints the missing-string marker ``error/<text>`` as the message.
    """
    return MoodleError("core\\exception\\moodle_exception", text, f"error/{text}")


def missing_record(table: str, debuginfo: str | None = None) -> MoodleError:
    """``dml_missing_record_exception`` for a row not found in ``table``."""
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
        debuginfo,
    )


def missing_record_by_id(table: str, record_id: int) -> MoodleError:
    """The error ``get_record(table, id, MUST_EXIST)`` raises, with its debug SQL."""
    query_text = "SELECT * FROM {" + table + "} WHERE id = ?"  # noqa: S608 - debug text only
    return missing_record(table, f"{query_text}\n[array (\n  0 => {record_id},\n)]")


def missing_record_unknown() -> MoodleError:
    """``dml_missing_record_exception`` raised without a table name."""
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecordunknown",
        "Can't find data record in database.",
    )


def invalid_user() -> MoodleError:
    """A user id that does not exist, as enrolment and group calls report it."""
    return MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")


def invalid_token() -> MoodleError:
    """Missing or unknown ``wstoken``."""
    return moodle_exception("invalidtoken", "Invalid token - token not found")


def unknown_function() -> MoodleError:
    """A ``wsfunction`` Moodle does not know at all."""
    return missing_record("external_functions")


def access_exception(wsfunction: str) -> MoodleError:
    """A known function that the token's service does not contain."""
    return MoodleError(
        "webservice_access_exception",
        "accessexception",
        "Access control exception",
        f"Access to the function {wsfunction}() is not allowed.\n"
        "                     There could be multiple reasons for this:\n"
        "                     1. The service linked to the user token does not contain "
        "the function.\n"
        "                     2. The service is user-restricted and the user is not listed.\n"
        "                     3. The service is IP-restricted and the user IP is not listed.\n"
        "                     4. The service has a time restriction and the time has expired.\n"
        "                     5. The token has a time restriction and the time has expired.\n"
        "                     6. The service requires a specific capability which the user "
        "does not have.\n"
        "                     7. The function is called with username/password (no user "
        "token is sent)\n"
        "                     and none of the services has the function to allow the user.\n"
        "                     These settings can be found in Administration > Site "
        "administration\n"
        "                     > Server > Web services > External services and Manage tokens.",
    )


def not_in_group() -> MoodleError:
    """``moodle_exception('notingroup')``: asking about a group one may not see.

    The string is core's (``moodle.php``), not in ``error.php`` where the exception looks,
    so Moodle answers with the missing-string marker ``error/notingroup``.
    """
    return unknown_string_exception("notingroup")


def required_capability(capability_name: str) -> MoodleError:
    """``required_capability_exception`` with the capability's display name.

    The recorded site gave no ``debuginfo`` for it, even in developer-debug mode.
    """
    return MoodleError(
        "core\\exception\\required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({capability_name}).",
    )


def require_login() -> MoodleError:
    """The caller may not enter the course or activity."""
    return MoodleError(
        "core\\exception\\require_login_exception",
        "requireloginerror",
        "Course or activity not accessible.",
    )


def course_context_not_valid(course_id: int, reason: str) -> MoodleError:
    """``validate_context`` failed for a course, wrapped as Moodle wraps it."""
    return moodle_exception(
        "errorcoursecontextnotvalid",
        f"You cannot execute functions in the course context (course id:{course_id}). "
        f"The context error message was: {reason}",
    )


def category_context_not_valid(category_id: int, reason: str) -> MoodleError:
    """``validate_context`` failed for a category, wrapped as Moodle wraps it."""
    return moodle_exception(
        "errorcatcontextnotvalid",
        f"You cannot execute functions in the category context (category id:{category_id}). "
        f"The context error message was: {reason}",
    )


def coding_error(message: str, debuginfo: str | None = None) -> MoodleError:
    """``coding_exception``."""
    return MoodleError(
        "core\\exception\\coding_exception",
        "codingerror",
        f"Coding error detected, it must be fixed by a programmer: {message}",
        debuginfo,
    )


def not_implemented(wsfunction: str) -> MoodleError:
    """A function the service lists but the sandbox LMS does not emulate."""
    return MoodleError(
        "sandbox_not_implemented",
        "notimplemented",
        f"The sandbox LMS does not implement {wsfunction}",
    )
