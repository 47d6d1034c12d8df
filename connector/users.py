"""Moodle user accounts: ``core_user_*``.

Creating users is the riskiest call of the connector and is built in three layers:

1. every row is checked first (:meth:`Users.new_user_problems`), so what Moodle would
   refuse is refused here, per row, with a clear reason; profile fields the site does not
   have are refused too, because Moodle would drop them without a word;
2. rows are sent in batches that fit the form-field budget; a batch refused for its data
   is bisected (Moodle's create is atomic) until each bad row stands alone;
3. every answer is checked: one ``{id, username}`` per user sent. Fewer rows and no error
   means PHP dropped the fields past ``max_input_vars``: the missing users were *not*
   created. They are looked up by username first (so no one is ever created twice), the
   client's field budget is lowered to what the server kept, and only the users still
   absent are sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, overload

from connector.batching import BatchOutcome, send_isolating, split_by_field_budget
from connector.client import MoodleClient
from connector.common import (
    MoodleModel,
    WsWarning,
    batches_for,
    for_row,
    lower_budget_after_truncation,
    match_created,
    parse,
    parse_list,
    refused,
    send_rows,
    to_params,
    truncation_error,
    warnings_by_id,
)
from connector.encoding import PROTOCOL_FIELDS, count_fields
from connector.errors import LmsError
from connector.validation import (
    CITY_MAX,
    IDNUMBER_MAX,
    PasswordPolicy,
    country_problem,
    email_problem,
    lang_problem,
    name_problem,
    normalise_email,
    normalise_username,
    password_problem,
    shortname_problem,
    username_problem,
)

log = logging.getLogger("bdtx.connector")

CREATE_USERS = "core_user_create_users"
UPDATE_USERS = "core_user_update_users"
GET_USERS_BY_FIELD = "core_user_get_users_by_field"
GET_USERS = "core_user_get_users"

UserLookupField = Literal["id", "idnumber", "username", "email"]
SEARCH_KEYS = frozenset({"id", "lastname", "firstname", "idnumber", "username", "email", "auth"})

# Rounds of "resend what PHP dropped" before the rest is reported as truncated.
_MAX_RECOVERY_ROUNDS = 3

R = TypeVar("R")


# --- inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileFieldValue:
    """A custom profile field value; ``type`` is the field's shortname on the site."""

    type: str
    value: str


@dataclass(frozen=True)
class UserPreference:
    """A user preference (``type`` is its name)."""

    type: str
    value: str


@dataclass(frozen=True)
class NewUser:
    """One account for ``core_user_create_users``; ``None`` fields are not sent.

    Give ``password`` or set ``createpassword`` (Moodle then e-mails a generated one).
    """

    username: str
    firstname: str
    lastname: str
    email: str
    password: str | None = None
    createpassword: bool | None = None
    auth: str | None = None
    idnumber: str | None = None
    lang: str | None = None
    calendartype: str | None = None
    theme: str | None = None
    timezone: str | None = None
    mailformat: int | None = None
    description: str | None = None
    city: str | None = None
    country: str | None = None
    firstnamephonetic: str | None = None
    lastnamephonetic: str | None = None
    middlename: str | None = None
    alternatename: str | None = None
    preferences: tuple[UserPreference, ...] = ()
    customfields: tuple[ProfileFieldValue, ...] = ()

    def params(self) -> dict[str, Any]:
        """The row's params, Moodle's required keys first.

        Should PHP cut a request inside this row, what is lost is then an optional
        field (repaired afterwards), never a required one.
        """
        ordered: dict[str, Any] = {
            "username": self.username,
            "password": self.password,
            "createpassword": self.createpassword,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "email": self.email,
        }
        ordered.update(to_params(self))
        return {key: value for key, value in ordered.items() if value is not None and value != []}

    def optional_params(self) -> dict[str, Any]:
        """The fields a cut request may have lost, for re-applying them by update."""
        params = self.params()
        for key in ("username", "password", "createpassword", "firstname", "lastname", "email"):
            params.pop(key, None)
        return params


@dataclass(frozen=True)
class UserUpdate:
    """Changes to one account for ``core_user_update_users``; ``None`` fields are kept."""

    id: int
    username: str | None = None
    password: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    auth: str | None = None
    suspended: bool | None = None
    idnumber: str | None = None
    lang: str | None = None
    calendartype: str | None = None
    theme: str | None = None
    timezone: str | None = None
    mailformat: int | None = None
    description: str | None = None
    city: str | None = None
    country: str | None = None
    firstnamephonetic: str | None = None
    lastnamephonetic: str | None = None
    middlename: str | None = None
    alternatename: str | None = None
    customfields: tuple[ProfileFieldValue, ...] = ()
    preferences: tuple[UserPreference, ...] = ()

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return {key: value for key, value in params.items() if value != []}


@dataclass(frozen=True)
class UserRules:
    """What the site accepts, as far as the checks before sending need to know.

    ``profile_fields``: shortnames of the custom profile fields the site has; any other
    is refused, since Moodle would silently drop it. ``password_policy=None``: the site
    has no password policy.
    """

    profile_fields: frozenset[str] = frozenset()
    extended_username_chars: bool = False
    allow_accounts_same_email: bool = False
    password_policy: PasswordPolicy | None = field(default_factory=PasswordPolicy)


# --- outputs ------------------------------------------------------------------------


class CreatedUser(MoodleModel):
    """One row of ``core_user_create_users``' answer."""

    id: int
    username: str


class ProfileFieldData(MoodleModel):
    """A custom profile field as Moodle returns it."""

    type: str = ""
    value: str | None = None
    displayvalue: str | None = None
    name: str = ""
    shortname: str


class UserDetails(MoodleModel):
    """A user as ``core_user_get_users(_by_field)`` return it.

    Fields the service user may not see are absent (``None``).
    """

    id: int
    username: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    fullname: str = ""
    email: str | None = None
    idnumber: str | None = None
    auth: str | None = None
    suspended: bool | None = None
    confirmed: bool | None = None
    lang: str | None = None
    timezone: str | None = None
    city: str | None = None
    country: str | None = None
    firstaccess: int | None = None
    lastaccess: int | None = None
    customfields: tuple[ProfileFieldData, ...] = ()

    def profile_field(self, shortname: str) -> str | None:
        """The value of custom profile field ``shortname`` (``None`` if unset)."""
        for data in self.customfields:
            if data.shortname == shortname:
                return data.value
        return None


class UserSearchResult(MoodleModel):
    """Answer of ``core_user_get_users``."""

    users: tuple[UserDetails, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


# --- the area -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Row(Generic[R]):
    """A caller's row with its position, so every error can name it."""

    index: int
    item: R
    label: str


@dataclass(frozen=True)
class _Cut:
    """One answer that came back short: how much the server kept, and its last row."""

    kept_fields: int
    rows_sent: int
    rows_kept: int
    last_kept: tuple[_Row[NewUser], CreatedUser] | None


class Users:
    """``core_user_*`` web service functions."""

    def __init__(self, client: MoodleClient, rules: UserRules | None = None) -> None:
        self._client = client
        self.rules = rules or UserRules()

    # -- checks ----------------------------------------------------------------------

    def new_user_problems(self, user: NewUser) -> list[str]:
        """What Moodle would refuse, or silently drop, in ``user`` (empty: nothing)."""
        problems = [
            username_problem(user.username, extended_chars=self.rules.extended_username_chars),
            email_problem(user.email),
            name_problem("first name", user.firstname, required=True),
            name_problem("last name", user.lastname, required=True),
        ]
        if user.password is None and not user.createpassword:
            problems.append("neither a password nor createpassword is given")
        elif user.password is not None and self.rules.password_policy is not None:
            problems.append(password_problem(user.password, self.rules.password_policy))
        problems.extend(self._common_problems(user))
        return [problem for problem in problems if problem]

    def update_problems(self, update: UserUpdate) -> list[str]:
        """What Moodle would refuse, or silently drop, in ``update`` (empty: nothing)."""
        problems: list[str | None] = []
        if update.username is not None:
            problems.append(
                username_problem(update.username, extended_chars=self.rules.extended_username_chars)
            )
        if update.email is not None:
            problems.append(email_problem(update.email))
        if update.firstname is not None:
            problems.append(name_problem("first name", update.firstname, required=True))
        if update.lastname is not None:
            problems.append(name_problem("last name", update.lastname, required=True))
        if update.password is not None and self.rules.password_policy is not None:
            problems.append(password_problem(update.password, self.rules.password_policy))
        problems.extend(self._common_problems(update))
        return [problem for problem in problems if problem]

    def _common_problems(self, user: NewUser | UserUpdate) -> list[str | None]:
        problems: list[str | None] = []
        if user.idnumber is not None and len(user.idnumber) > IDNUMBER_MAX:
            problems.append(f"idnumber is longer than {IDNUMBER_MAX} characters")
        if user.city is not None:
            problems.append(name_problem("city", user.city, required=False, max_length=CITY_MAX))
        if user.country is not None:
            problems.append(country_problem(user.country))
        if user.lang is not None:
            problems.append(lang_problem(user.lang))
        for custom in user.customfields:
            problems.append(shortname_problem("profile field", custom.type))
            if custom.type not in self.rules.profile_fields:
                problems.append(
                    f"profile field {custom.type!r} is not one the site has "
                    "(Moodle would drop it silently); declare it in the site's profile fields"
                )
        for preference in user.preferences:
            problems.append(shortname_problem("preference", preference.type))
        return problems

    # -- core_user_create_users ------------------------------------------------------

    def create_users(self, users: Sequence[NewUser]) -> BatchOutcome[NewUser, CreatedUser]:
        """Create accounts: ``core_user_create_users``.

        Returns, per row, the created ``{id, username}`` or the reason it was not
        created (refused before sending, refused by Moodle, or dropped by the server and
        not recovered). Errors of the whole request (configuration, transport, unknown
        outcome) propagate: read back by username before sending again.
        """
        outcome: BatchOutcome[_Row[NewUser], CreatedUser] = BatchOutcome()
        rows: list[_Row[NewUser]] = []
        first_with_username: dict[str, int] = {}
        first_with_email: dict[str, int] = {}
        for index, user in enumerate(users):
            row = _Row(index, user, f"users[{index}] {user.username!r}")
            problems = self.new_user_problems(user)
            if not problems:
                problems = self._duplicate_problems(row, first_with_username, first_with_email)
            if problems:
                error = refused(f"{row.label}: {'; '.join(problems)}", wsfunction=CREATE_USERS)
                outcome.failed.append((row, error))
            else:
                rows.append(row)
        self._create_rows(rows, outcome, recovery_round=0)
        return BatchOutcome(
            done=[(row.item, created) for row, created in outcome.done],
            failed=[(row.item, error) for row, error in outcome.failed],
            calls=outcome.calls,
        )

    def _duplicate_problems(
        self, row: _Row[NewUser], usernames: dict[str, int], emails: dict[str, int]
    ) -> list[str]:
        user = row.item
        if user.username in usernames:
            return [f"username also in users[{usernames[user.username]}] of this request"]
        email = normalise_email(user.email)
        if not self.rules.allow_accounts_same_email and email in emails:
            return [f"e-mail also in users[{emails[email]}] of this request"]
        usernames[user.username] = row.index
        emails.setdefault(email, row.index)
        return []

    def _create_rows(
        self,
        rows: Sequence[_Row[NewUser]],
        outcome: BatchOutcome[_Row[NewUser], CreatedUser],
        *,
        recovery_round: int,
    ) -> None:
        cuts: list[_Cut] = []

        def send(batch: list[_Row[NewUser]]) -> list[CreatedUser | None]:
            payload = self._client.call(
                CREATE_USERS, {"users": [row.item.params() for row in batch]}, write=True
            )
            created = match_created(
                batch,
                parse_list(CreatedUser, payload, CREATE_USERS),
                key_of_row=lambda row: row.item.username,
                key_of_created=lambda record: record.username,
                wsfunction=CREATE_USERS,
            )
            if None in created:
                cuts.append(_cut_of(batch, created))
            return created

        missing: list[_Row[NewUser]] = []
        batches = batches_for(self._client, rows, lambda row: row.item.params())
        # Batches are independent: with max_concurrency > 1 they go out side by side.
        for result in self._client.map_concurrent(lambda b: send_isolating(b, send), batches):
            outcome.calls += result.calls
            outcome.failed.extend((row, for_row(error, row.label)) for row, error in result.failed)
            for row, created in result.done:
                if created is None:
                    missing.append(row)
                else:
                    outcome.done.append((row, created))
        if missing:
            self._recover_dropped(missing, cuts, outcome, recovery_round=recovery_round)

    def _recover_dropped(
        self,
        missing: list[_Row[NewUser]],
        cuts: list[_Cut],
        outcome: BatchOutcome[_Row[NewUser], CreatedUser],
        *,
        recovery_round: int,
    ) -> None:
        """Users PHP dropped were not created: check that, then send them again, smaller."""
        learnable = [cut for cut in cuts if cut.rows_kept > 0]
        if not learnable or recovery_round >= _MAX_RECOVERY_ROUNDS:
            # Nothing arrived at all (no limit to learn), or the server keeps dropping rows.
            outcome.failed.extend(
                (row, truncation_error(CREATE_USERS, row.label)) for row in missing
            )
            return
        worst = min(learnable, key=lambda cut: cut.kept_fields)
        kept_fields = worst.kept_fields
        lower_budget_after_truncation(
            self._client,
            CREATE_USERS,
            kept_fields=kept_fields,
            rows_sent=worst.rows_sent,
            rows_kept=worst.rows_kept,
        )
        for cut in cuts:
            if cut.last_kept is not None:
                self._reapply_optional_fields(*cut.last_kept)
        # Never create twice: whoever exists now was created, whatever the answer said.
        existing = self.get_users_by_field("username", [row.item.username for row in missing])
        resend: list[_Row[NewUser]] = []
        for row in missing:
            found = existing.get(row.item.username)
            if found is not None:
                outcome.done.append((row, CreatedUser(id=found.id, username=row.item.username)))
            else:
                resend.append(row)
        log.warning(
            "%s: %d users were dropped by the server; %d found on read-back, %d sent again",
            CREATE_USERS,
            len(missing),
            len(missing) - len(resend),
            len(resend),
        )
        fits: list[_Row[NewUser]] = []
        for row in resend:
            if PROTOCOL_FIELDS + count_fields(row.item.params()) <= kept_fields:
                fits.append(row)
            else:
                outcome.failed.append((row, truncation_error(CREATE_USERS, row.label)))
        self._create_rows(fits, outcome, recovery_round=recovery_round + 1)

    def _reapply_optional_fields(self, row: _Row[NewUser], created: CreatedUser) -> None:
        """The last user of a cut request may have lost optional fields: set them again."""
        optional = row.item.optional_params()
        if not optional:
            return
        try:
            self._client.call(UPDATE_USERS, {"users": [{"id": created.id, **optional}]}, write=True)
        except LmsError as error:
            log.error(
                "%s: %s was created but its optional fields may be incomplete: %s",
                CREATE_USERS,
                row.label,
                error,
            )

    # -- core_user_update_users ------------------------------------------------------

    def update_users(
        self, updates: Sequence[UserUpdate]
    ) -> BatchOutcome[UserUpdate, tuple[WsWarning, ...]]:
        """Change accounts: ``core_user_update_users``.

        Moodle applies each row on its own and reports a refused row as a *warning*
        (``invaliduserid``, ``dmlwriteexception``...), not as an error: ``done`` pairs
        every row sent with its warnings, an empty tuple meaning applied. ``failed``
        holds rows refused before sending or by the request's validation.
        """
        first_with_id: dict[int, int] = {}

        def check(index: int, update: UserUpdate) -> list[str]:
            problems = self.update_problems(update)
            if update.id in first_with_id:
                problems.append(
                    f"user id also in users[{first_with_id[update.id]}] of this request"
                )
            else:
                first_with_id[update.id] = index
            return problems

        return send_rows(
            self._client,
            UPDATE_USERS,
            "users",
            updates,
            row_params=UserUpdate.params,
            describe=lambda index, update: f"users[{index}] id={update.id}",
            read_answer=warnings_by_id(UPDATE_USERS, lambda update: update.id),
            check=check,
        )

    # -- core_user_get_users_by_field ------------------------------------------------

    @overload
    def get_users_by_field(
        self, field: Literal["id"], values: Iterable[int]
    ) -> dict[int, UserDetails]: ...

    @overload
    def get_users_by_field(
        self, field: Literal["idnumber", "username", "email"], values: Iterable[str]
    ) -> dict[str, UserDetails]: ...

    def get_users_by_field(
        self, field: UserLookupField, values: Iterable[int] | Iterable[str]
    ) -> dict[int, UserDetails] | dict[str, UserDetails]:
        """Look users up by a unique field: ``core_user_get_users_by_field``.

        Returns the users found, keyed by the value looked up; values that match no one
        are simply absent. Usernames and e-mails are trimmed and lower-cased first: Moodle
        fails the *whole* lookup on one username it would clean differently, and compares
        e-mails case-sensitively here, so an account whose e-mail was stored with capitals
        is not found by e-mail (bdtx stores e-mails lower-case). Values that cannot be a
        valid username or e-mail are skipped, as they can match no one. Never sends an
        empty list (Moodle refuses it); large lists go in batches that fit the budget.
        """
        keys = _lookup_keys(field, values, extended_chars=self.rules.extended_username_chars)
        if not keys:
            return {}
        wanted = set(keys)
        batches = split_by_field_budget(
            keys, lambda _: 1, self._client.field_budget, PROTOCOL_FIELDS + 1
        )

        def fetch(batch: list[Any]) -> list[UserDetails]:
            payload = self._client.call(GET_USERS_BY_FIELD, {"field": field, "values": batch})
            return parse_list(UserDetails, payload, GET_USERS_BY_FIELD)

        found: dict[Any, UserDetails] = {}
        for users in self._client.map_concurrent(fetch, batches):
            for user in users:
                key = _key_of(field, user)
                if key in wanted:
                    found[key] = user
        return found

    # -- core_user_get_users ---------------------------------------------------------

    def get_users(self, criteria: Mapping[str, str | int]) -> UserSearchResult:
        """Search users, all criteria ANDed: ``core_user_get_users``.

        Keys: id, lastname, firstname, idnumber, username, email, auth. ``%`` is a
        wildcard for names and e-mail, which Moodle compares case-insensitively here.
        Custom profile fields cannot be searched (Moodle refuses the key).
        """
        unknown = sorted(set(criteria) - SEARCH_KEYS)
        if unknown:
            raise ValueError(f"{GET_USERS} cannot search by {unknown}; use {sorted(SEARCH_KEYS)}")
        if not criteria:
            raise ValueError(f"{GET_USERS} needs at least one criterion")
        params = {"criteria": [{"key": key, "value": value} for key, value in criteria.items()]}
        return parse(UserSearchResult, self._client.call(GET_USERS, params), GET_USERS)


def _cut_of(batch: Sequence[_Row[NewUser]], created: Sequence[CreatedUser | None]) -> _Cut:
    """What a short answer tells about the server's limit.

    Every field of the users created arrived, except perhaps the trailing optional ones
    of the last: only its required fields are counted, which keeps the limit learnt at
    or below the real one.
    """
    kept = [(row, record) for row, record in zip(batch, created, strict=True) if record is not None]
    kept_fields = PROTOCOL_FIELDS + sum(count_fields(row.item.params()) for row, _ in kept[:-1])
    if kept:
        kept_fields += len(kept[-1][0].item.params()) - len(kept[-1][0].item.optional_params())
    return _Cut(
        kept_fields=kept_fields,
        rows_sent=len(batch),
        rows_kept=len(kept),
        last_kept=kept[-1] if kept else None,
    )


def _lookup_keys(
    field: UserLookupField, values: Iterable[int] | Iterable[str], *, extended_chars: bool
) -> list[Any]:
    keys: list[Any] = []
    for value in values:
        key: Any
        if field == "id":
            key = int(value)
        elif field == "username":
            key = normalise_username(str(value))
            if username_problem(key, extended_chars=extended_chars):
                continue
        elif field == "email":
            key = normalise_email(str(value))
            if email_problem(key):
                continue
        elif field == "idnumber":
            key = str(value)
            if not key:
                continue
        else:
            raise ValueError(f"{GET_USERS_BY_FIELD} cannot look up by {field!r}")
        keys.append(key)
    return list(dict.fromkeys(keys))


def _key_of(field: UserLookupField, user: UserDetails) -> Any:
    if field == "id":
        return user.id
    if field == "email":
        return normalise_email(user.email) if user.email is not None else None
    value: str | None = getattr(user, field)
    return value
