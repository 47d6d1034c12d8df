"""User accounts: core_user_create_users, _update_users, _get_users_by_field, _get_users."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sandbox import access, errors
from sandbox.errors import InvalidParameter
from sandbox.functions.user_details import system_profile
from sandbox.params import (
    M,
    Multiple,
    Need,
    Param,
    S,
    Single,
    V,
    Value,
    clean_username,
    default,
    is_valid_email,
)
from sandbox.registry import CallContext, ws_function
from sandbox.state import User

AUTH_PLUGINS = frozenset(
    {"manual", "nologin", "email", "db", "ldap", "oauth2", "shibboleth", "lti"}
)
LANGUAGES = frozenset({"en"})
THEMES = frozenset({"boost", "classic"})
ADMIN_ID = 2
GUEST_ID = 1

_NAME_KEYS: dict[str, Param] = {
    "maildisplay": Param.INT,
    "city": Param.NOTAGS,
    "country": Param.ALPHA,
    "timezone": Param.TIMEZONE,
    "description": Param.TEXT,
    "firstnamephonetic": Param.NOTAGS,
    "lastnamephonetic": Param.NOTAGS,
    "middlename": Param.NOTAGS,
    "alternatename": Param.NOTAGS,
    "interests": Param.TEXT,
    "institution": Param.TEXT,
    "department": Param.TEXT,
    "phone1": Param.NOTAGS,
    "phone2": Param.NOTAGS,
    "address": Param.TEXT,
    "theme": Param.PLUGIN,
    "mailformat": Param.INT,
}
_TYPE_VALUE_LIST = Multiple(
    S(type=V(Param.ALPHANUMEXT), value=V(Param.RAW)),
    Need.OPTIONAL,
)

_CREATE_USER = Single(
    {
        "createpassword": Value(Param.BOOL, Need.OPTIONAL),
        "username": V(Param.USERNAME),
        "auth": default(V(Param.PLUGIN), "manual"),
        "password": Value(Param.RAW, Need.OPTIONAL),
        "firstname": V(Param.NOTAGS),
        "lastname": V(Param.NOTAGS),
        "email": V(Param.RAW_TRIMMED),
        **{key: Value(kind, Need.OPTIONAL) for key, kind in _NAME_KEYS.items()},
        "idnumber": default(V(Param.RAW), ""),
        "lang": default(V(Param.SAFEDIR), "en"),
        "calendartype": default(V(Param.PLUGIN), "gregorian"),
        "preferences": _TYPE_VALUE_LIST,
        "customfields": _TYPE_VALUE_LIST,
    }
)

_UPDATE_USER = Single(
    {
        "id": V(Param.INT),
        "username": Value(Param.USERNAME, Need.OPTIONAL),
        "auth": Value(Param.PLUGIN, Need.OPTIONAL),
        "suspended": Value(Param.BOOL, Need.OPTIONAL),
        "password": Value(Param.RAW, Need.OPTIONAL),
        "firstname": Value(Param.NOTAGS, Need.OPTIONAL),
        "lastname": Value(Param.NOTAGS, Need.OPTIONAL),
        "email": Value(Param.RAW_TRIMMED, Need.OPTIONAL),
        **{key: Value(kind, Need.OPTIONAL) for key, kind in _NAME_KEYS.items()},
        "userpicture": Value(Param.INT, Need.OPTIONAL),
        "idnumber": Value(Param.RAW, Need.OPTIONAL),
        "lang": Value(Param.SAFEDIR, Need.OPTIONAL),
        "calendartype": Value(Param.PLUGIN, Need.OPTIONAL),
        "customfields": _TYPE_VALUE_LIST,
        "preferences": Multiple(
            S(type=V(Param.RAW), value=V(Param.RAW)),
            Need.OPTIONAL,
        ),
    }
)

# Stock password policy: 8 characters, 1 digit, 1 lower, 1 upper, 1 special.
_POLICY: tuple[tuple[str, str], ...] = (
    (r"^.{8,}$", "Passwords must be at least 8 characters long."),
    (r"\d", "Passwords must have at least 1 digit(s)."),
    (r"[a-z]", "Passwords must have at least 1 lower case letter(s)."),
    (r"[A-Z]", "Passwords must have at least 1 upper case letter(s)."),
    (
        r"[^A-Za-z0-9]",
        "The password must have at least 1 special character(s) such as *, -, or #.",
    ),
)


def password_policy_errors(password: str) -> str:
    """Moodle's ``check_password_policy`` message, empty when the password passes."""
    return "".join(
        f"<div>{text}</div>" for pattern, text in _POLICY if not re.search(pattern, password, re.S)
    )


def _hash(password: str) -> str:
    # Cheap on purpose: the sandbox stores a marker, not a crypt(3) hash.
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def _known_fields(ctx: CallContext, customfields: list[dict[str, Any]] | None) -> dict[str, str]:
    """Custom field values for fields the site defines; others are ignored, as in Moodle."""
    known = {field.shortname for field in ctx.site.profile_fields}
    return {cf["type"]: cf["value"] for cf in customfields or [] if cf["type"] in known}


def _new_user(ctx: CallContext, row: dict[str, Any], userid: int) -> User:
    user = User(
        id=userid,
        username=row["username"],
        firstname=row["firstname"],
        lastname=row["lastname"],
        email=row["email"],
        auth=row["auth"],
        idnumber=row["idnumber"],
        lang=row["lang"],
        calendartype=row["calendartype"],
        timecreated=ctx.now,
        timemodified=ctx.now,
    )
    for key in _NAME_KEYS:
        if key in row:
            setattr(user, key, row[key])
    if row.get("password") is not None:
        user.password_hash = _hash(row["password"])
    user.customfields = _known_fields(ctx, row.get("customfields"))
    user.preferences = {p["type"]: p["value"] for p in row.get("preferences") or []}
    if row.get("createpassword"):
        user.preferences["auth_forcepasswordchange"] = "1"
    return user


def _check_new_user(ctx: CallContext, row: dict[str, Any], batch: dict[str, set[str]]) -> None:
    """Every check ``core_user_create_users`` makes before inserting one row."""
    site = ctx.site
    username = row["username"]
    if username in site.user_by_username or username in batch["usernames"]:
        raise InvalidParameter(f"Username already exists: {username}")
    if row["auth"] not in AUTH_PLUGINS:
        raise InvalidParameter(f"Invalid authentication type: {row['auth']}")
    if row["lang"] not in LANGUAGES:
        raise InvalidParameter(f"Invalid language code: {row['lang']}")
    if row.get("theme") and row["theme"] not in THEMES:
        raise InvalidParameter(f"Invalid theme: {row['theme']}")
    if not row.get("createpassword") and row.get("password") is None:
        raise InvalidParameter(
            "Invalid password: you must provide a password, or set createpassword."
        )
    email = row["email"]
    if not is_valid_email(email):
        raise InvalidParameter(f"Email address is invalid: {email}")
    if site.email_taken(email) or email.lower() in batch["emails"]:
        raise InvalidParameter(f"Email address already exists: {email}")
    if row.get("password") is not None and row["auth"] == "manual":
        problems = password_policy_errors(row["password"])
        if problems:
            raise errors.unknown_string_exception(problems)


@ws_function("core_user_create_users", S(users=M(_CREATE_USER)))
def create_users(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Create users, all or none: the first bad row fails the whole batch."""
    access.require_system(ctx.caller, "moodle/user:create")
    batch: dict[str, set[str]] = {"usernames": set(), "emails": set()}
    pending: list[User] = []
    for row in params["users"]:
        _check_new_user(ctx, row, batch)
        # Ids are taken as rows are inserted and, like a sequence, survive a rollback.
        pending.append(_new_user(ctx, row, ctx.site.ids.take("user")))
        batch["usernames"].add(row["username"])
        batch["emails"].add(row["email"].lower())
    for user in pending:
        ctx.site.add_user(user)
    return [{"id": user.id, "username": user.username} for user in pending]


def _warning(userid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": "user", "itemid": userid, "warningcode": code, "message": message}


def _update_problem(
    ctx: CallContext, user: User | None, row: dict[str, Any]
) -> dict[str, Any] | None:
    """The warning that stops one row of ``core_user_update_users``, if any."""
    userid = row["id"]
    if user is None or user.deleted:
        return _warning(userid, "invaliduserid", "Invalid user ID")
    if user.id == ADMIN_ID and ctx.caller.userid != ADMIN_ID:
        return _warning(userid, "usernotupdatedadmin", "Unable to update admin accounts")
    if user.id == GUEST_ID:
        return _warning(userid, "usernotupdatedgeneric", "User not updated")
    email = row.get("email")
    if email is not None and email != user.email:
        if not is_valid_email(email):
            return _warning(userid, "useremailinvalid", "Invalid email address")
        if ctx.site.email_taken(email, except_id=user.id):
            return _warning(userid, "useremailduplicate", "Duplicate email address")
    username = row.get("username")
    if username is not None and username != user.username:
        holder = ctx.site.user_by_username.get(username)
        if holder is not None and holder != user.id:
            return _warning(userid, "dmlwriteexception", "Error writing to database")
    password = row.get("password")
    if password is not None and user.auth == "manual":
        problems = password_policy_errors(password)
        if problems:
            return _warning(userid, problems, f"error/{problems}")
    return None


_COLUMNS = (
    "username",
    "auth",
    "firstname",
    "lastname",
    "email",
    "idnumber",
    "lang",
    "calendartype",
    *_NAME_KEYS,
)


def _apply_update(ctx: CallContext, user: User, row: dict[str, Any]) -> None:
    changes = {key: row[key] for key in _COLUMNS if key in row}
    if "suspended" in row:
        changes["suspended"] = bool(row["suspended"])
    if row.get("password") is not None:
        changes["password_hash"] = _hash(row["password"])
    changes["timemodified"] = ctx.now
    ctx.site.update_user(user, changes)
    user.customfields.update(_known_fields(ctx, row.get("customfields")))
    for preference in row.get("preferences") or []:
        user.preferences[preference["type"]] = preference["value"]


@ws_function("core_user_update_users", S(users=M(_UPDATE_USER)))
def update_users(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Update users row by row; a bad row becomes a warning and the others still apply."""
    access.require_system(ctx.caller, "moodle/user:update")
    warnings: list[dict[str, Any]] = []
    for row in params["users"]:
        user = ctx.site.users.get(row["id"])
        problem = _update_problem(ctx, user, row)
        if problem is not None or user is None:
            warnings.append(problem or _warning(row["id"], "invaliduserid", "Invalid user ID"))
            continue
        _apply_update(ctx, user, row)
    return {"warnings": warnings}


_BY_FIELD_TYPES = {
    "id": Param.INT,
    "idnumber": Param.RAW,
    "username": Param.USERNAME,
    "email": Param.EMAIL,
}


def _cleaned_lookup_value(field: str, value: str) -> str:
    if field == "id":
        match = re.match(r"^\s*[+-]?\d+", value)
        return str(int(match.group(0))) if match else "0"
    if field == "username":
        return clean_username(value)
    if field == "email":
        return value if is_valid_email(value) else ""
    return value


def _user_ids_for(ctx: CallContext, field: str, value: str) -> set[int]:
    site = ctx.site
    if field == "id":
        return {int(value)} if int(value) in site.users else set()
    if field == "username":
        found = site.user_by_username.get(value)
        return set() if found is None else {found}
    if field == "email":
        return set(site.users_by_email.get(value, set()))
    return set(site.users_by_idnumber.get(value, set()))


@ws_function(
    "core_user_get_users_by_field",
    S(field=V(Param.ALPHA), values=M(V(Param.RAW))),
)
def get_users_by_field(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Exact look-up (e-mail is case-sensitive); rows in id order; unknown values left out."""
    field = params["field"]
    if field not in _BY_FIELD_TYPES:
        raise errors.coding_error(
            "invalid field parameter",
            f"The search field '{field}' is not supported, look at the web service documentation",
        )
    found: set[int] = set()
    for value in params["values"]:
        cleaned = _cleaned_lookup_value(field, value)
        if cleaned != value:
            raise InvalidParameter(
                f"The field '{field}' value is invalid: {value}(cleaned value: {cleaned})"
            )
        found |= _user_ids_for(ctx, field, cleaned)
    users = (ctx.site.users[uid] for uid in sorted(found))
    return [system_profile(ctx, user) for user in users if not user.deleted]


_CRITERIA_KEYS = ("id", "lastname", "firstname", "idnumber", "username", "email", "auth")


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _matches(user: User, key: str, value: str) -> bool:
    if key in ("email", "lastname", "firstname"):
        return bool(_like(value).match(str(getattr(user, key))))
    if key == "id":
        return str(user.id) == value
    return str(getattr(user, key)) == value


@ws_function(
    "core_user_get_users",
    S(criteria=M(S(key=V(Param.ALPHA), value=V(Param.RAW)))),
)
def get_users(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Search users by criteria (AND); e-mail and names with SQL LIKE, case-insensitive."""
    access.require_system(ctx.caller, "moodle/user:viewdetails")
    warnings: list[dict[str, Any]] = []
    criteria: list[tuple[str, str]] = []
    for criterion in params["criteria"]:
        key = criterion["key"]
        if key not in _CRITERIA_KEYS:
            warnings.append(
                {
                    "item": key,
                    "warningcode": "invalidfieldparameter",
                    "message": f"The search key '{key}' is not supported, "
                    "look at the web service documentation",
                }
            )
            continue
        criteria.append((key, criterion["value"]))
    users: list[dict[str, Any]] = []
    if criteria:
        for user in sorted(ctx.site.users.values(), key=lambda u: u.id):
            if user.deleted or not all(_matches(user, k, v) for k, v in criteria):
                continue
            users.append(system_profile(ctx, user))
    return {"users": users, "warnings": warnings}
