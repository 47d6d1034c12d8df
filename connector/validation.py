"""Client-side checks of what Moodle would refuse, or worse, silently mangle.

Moodle validates a whole batch at once and, at its default debug level, answers one bad
row with a bare ``invalidparameter`` for the batch. Checking each row first turns that
into a clear error per row, before anything is sent. The rules follow Moodle 4.5:

* ``PARAM_USERNAME``: the external API refuses any value that its cleaning would change,
  and cleaning trims, lower-cases and (unless ``$CFG->extendedusernamechars``) drops every
  character but ``a-z 0-9 - . _ @``;
* ``PARAM_EMAIL``: PHPMailer's address check, no ``<`` or ``>``; the ``user.email``
  column holds 100 characters;
* ``PARAM_NOTAGS`` names: tags are stripped, so a name holding ``<...>`` is refused;
* the site's password policy (Moodle's default: 8 characters, a digit, a lower-case and
  an upper-case letter, a non-alphanumeric character), checked at creation with an error
  whose code is the policy text itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USERNAME_MAX = 100
EMAIL_MAX = 100
NAME_MAX = 100
IDNUMBER_MAX = 255
CITY_MAX = 120

_USERNAME_CHARS = re.compile(r"[-.@_a-z0-9]+")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TAG = re.compile(r"<[^>]*>|<\S")
_ALPHANUMEXT = re.compile(r"[A-Za-z0-9_-]+")
_SAFEDIR = re.compile(r"[A-Za-z0-9_-]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


def username_problem(username: str, *, extended_chars: bool = False) -> str | None:
    """Why Moodle would refuse ``username`` (``None`` when it is acceptable)."""
    if not username:
        return "username is empty"
    if len(username) > USERNAME_MAX:
        return f"username is longer than {USERNAME_MAX} characters"
    if username != username.strip():
        return "username has leading or trailing spaces"
    if username != username.lower():
        return "username must be lower-case (Moodle refuses capitals here)"
    if not extended_chars and not _USERNAME_CHARS.fullmatch(username):
        bad = sorted({char for char in username if not _USERNAME_CHARS.fullmatch(char)})
        return (
            "username may only hold a-z, 0-9 and - . _ @ "
            f"(found {' '.join(repr(char) for char in bad)})"
        )
    return None


def normalise_username(value: str) -> str:
    """The lookup form of a username: trimmed and lower-cased, as Moodle stores it."""
    return value.strip().lower()


def email_problem(email: str) -> str | None:
    """Why Moodle would refuse ``email`` as ``PARAM_EMAIL`` (``None`` when acceptable).

    Stricter than PHP on one point: the domain must hold a dot (no ``user@localhost``).
    """
    if not email:
        return "e-mail is empty"
    if len(email) > EMAIL_MAX:
        return f"e-mail is longer than {EMAIL_MAX} characters"
    if email != email.strip():
        return "e-mail has leading or trailing spaces"
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return "e-mail has no local part, '@' and domain"
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return "e-mail local part holds characters Moodle does not accept (ASCII only, no spaces)"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return "e-mail domain is not a valid host name"
    if labels[-1].isdigit():
        return "e-mail domain ends in a number"
    return None


def normalise_email(value: str) -> str:
    """The form bdtx stores and looks e-mails up in: trimmed and lower-cased."""
    return value.strip().lower()


def name_problem(
    label: str, value: str, *, required: bool, max_length: int = NAME_MAX
) -> str | None:
    """Why a ``PARAM_NOTAGS`` text (name, city) would be refused or altered."""
    if not value.strip():
        return f"{label} is empty" if required else None
    if len(value) > max_length:
        return f"{label} is longer than {max_length} characters"
    if _TAG.search(value):
        return f"{label} holds '<', which Moodle strips as an HTML tag"
    return None


def shortname_problem(label: str, value: str) -> str | None:
    """Why an ``PARAM_ALPHANUMEXT`` key (profile field, preference) would be refused."""
    if not _ALPHANUMEXT.fullmatch(value):
        return f"{label} {value!r} may only hold A-Z, a-z, 0-9, _ and -"
    return None


def lang_problem(lang: str) -> str | None:
    """Why a language code would be refused as ``PARAM_SAFEDIR``."""
    if not _SAFEDIR.fullmatch(lang):
        return f"language code {lang!r} may only hold A-Z, a-z, 0-9, _ and -"
    return None


def country_problem(country: str) -> str | None:
    """Why a country code is not one Moodle knows (two upper-case letters)."""
    if not _COUNTRY.fullmatch(country):
        return f"country {country!r} must be a two-letter ISO code in capitals, such as VN"
    return None


@dataclass(frozen=True)
class PasswordPolicy:
    """The site's password policy (Site administration > Security > Site security settings).

    Defaults are Moodle's own. ``None`` in place of a policy means the site has
    ``passwordpolicy`` off.
    """

    min_length: int = 8
    min_digits: int = 1
    min_lower: int = 1
    min_upper: int = 1
    min_non_alphanumeric: int = 1


def password_problem(password: str, policy: PasswordPolicy) -> str | None:
    """Why ``password`` breaks ``policy`` (``None`` when it complies)."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"at least {policy.min_length} characters")
    counts = {
        "digit": sum(char.isdigit() for char in password),
        "lower-case letter": sum(char.islower() for char in password),
        "upper-case letter": sum(char.isupper() for char in password),
        "non-alphanumeric character": sum(not char.isalnum() for char in password),
    }
    wanted = {
        "digit": policy.min_digits,
        "lower-case letter": policy.min_lower,
        "upper-case letter": policy.min_upper,
        "non-alphanumeric character": policy.min_non_alphanumeric,
    }
    for kind, minimum in wanted.items():
        if counts[kind] < minimum:
            problems.append(f"at least {minimum} {kind}(s)")
    if not problems:
        return None
    return "password breaks the site's policy: needs " + ", ".join(problems)
