"""Which configured custom profile fields the Moodle site really has.

Moodle 4.5 has no web-service function that lists the site's user profile fields
(``user_info_field``), and it drops a value for an undefined field without a word
(recorded: ``core_user_create_users__unknown_customfield``). A user record lists a
profile field only when that user has a value in it (``user_get_user_details``), so
reading real people's accounts proves that a field exists when someone has a value,
never that it is missing; and writing test values to real people's accounts is not
acceptable.

So the software keeps one account of its own, the *probe account*
(:data:`PROBE_USERNAME`, authentication ``nologin``, no ID number, so it is never taken
for a person): writing every configured field to it with a test value and reading it
back tells exactly which fields the site keeps. It uses only functions the sync already
needs (``core_user_create_users``, ``core_user_update_users``,
``core_user_get_users_by_field``). ``bdtx lms check`` and every apply write the probe
(unless it already shows every configured field); a read-only preview only reads what
the last probe kept. Without a probe account yet the
configured fields are trusted, and the sync's not-kept guard stops any loop.

The test value is text: a field of the menu or checkbox kind may refuse it and then show
as missing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from connector.errors import LmsError
from connector.lms import MoodleLms
from connector.users import NewUser, ProfileFieldValue, UserDetails, UserUpdate

PROBE_USERNAME = "bdtx-profile-probe"
PROBE_EMAIL = "bdtx-profile-probe@example.invalid"
PROBE_VALUE = "bdtx-probe"


@dataclass(frozen=True)
class ProfileFieldCheck:
    """The configured profile fields and what the site did with the probe's values.

    ``kept``: fields holding a value on the probe account; ``None`` when there is no
    probe account (nothing known). ``error``: why the probe could not be written.
    """

    configured: frozenset[str]
    kept: frozenset[str] | None
    error: str = ""

    @property
    def known(self) -> bool:
        return self.kept is not None

    @property
    def missing(self) -> frozenset[str]:
        """Configured fields the site does not keep (empty when nothing is known)."""
        return frozenset() if self.kept is None else self.configured - self.kept

    @property
    def usable(self) -> frozenset[str]:
        """The fields the sync may send: the configured ones the site keeps."""
        return self.configured - self.missing


def check_profile_fields(
    lms: MoodleLms, configured: Iterable[str], *, write: bool
) -> ProfileFieldCheck:
    """Read the probe account (``write=False``) or write it first and read it back."""
    fields = frozenset(configured)
    if not fields:
        return ProfileFieldCheck(fields, frozenset())  # nothing to send, nothing to ask
    found = _probe_account(lms)
    error = ""
    if write and not _holds_probe_values(found, fields):
        try:
            _write_probe(lms, found, fields)
            found = _probe_account(lms)
        except LmsError as failure:
            error = str(failure)
    if found is None:
        return ProfileFieldCheck(fields, None, error)
    kept = frozenset(f.shortname for f in found.customfields if f.value)
    return ProfileFieldCheck(fields, kept & fields, error)


def _holds_probe_values(found: UserDetails | None, fields: frozenset[str]) -> bool:
    """Whether the probe already shows every field: nothing to learn by writing again.

    Moodle deletes a field's values with the field, so a field removed since shows empty.
    """
    return found is not None and all(found.profile_field(f) == PROBE_VALUE for f in fields)


def _probe_account(lms: MoodleLms) -> UserDetails | None:
    return lms.users.get_users_by_field("username", [PROBE_USERNAME]).get(PROBE_USERNAME)


def _write_probe(lms: MoodleLms, found: UserDetails | None, fields: frozenset[str]) -> None:
    values = tuple(ProfileFieldValue(name, PROBE_VALUE) for name in sorted(fields))
    if found is None:
        account = NewUser(
            username=PROBE_USERNAME,
            firstname="bdtx-sync",
            lastname="Kiểm tra trường hồ sơ",
            email=PROBE_EMAIL,
            auth="nologin",
            # Never used (nologin); only to pass the site's password policy.
            password=f"{secrets.token_urlsafe(12)}aA1#",
            customfields=values,
        )
        created = lms.users.create_users([account])
        for _, problem in created.failed:
            raise problem
        return
    updated = lms.users.update_users([UserUpdate(id=found.id, customfields=values)])
    for _, problem in updated.failed:
        raise problem
    for _, warnings in updated.done:
        if warnings:
            raise LmsError(
                f"the probe account was not updated: {warnings[0].message}",
                wsfunction="core_user_update_users",
            )
