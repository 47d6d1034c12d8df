"""``bdtx lms check``: is this Moodle ready for bdtx-sync? Everything missing, in one pass.

1. ``core_webservice_get_site_info``: site, release, the service user, and the functions
   of the token's service: every required function not there is listed.
2. Capability probes. Moodle has no web service that lists a user's capabilities, so each
   probe is a call built to be refused by Moodle's *data* validation, which runs after its
   capability check: the probe learns whether the capability is there and never writes.
   For example, creating a user with the service user's own username: "username already
   exists" means ``moodle/user:create`` is granted, "nopermissions" that it is not.
   Capabilities that cannot be probed without writing are listed as not checked.
3. The configured custom profile fields: written to the software's own probe account and
   read back (:mod:`connector.profile_fields`); a field the site does not keep is listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from connector.client import MoodleClient
from connector.errors import (
    LmsConfigError,
    LmsDataError,
    LmsError,
    LmsFunctionNotAvailable,
    LmsMissingCapability,
)
from connector.lms import REQUIRED_CAPABILITIES, REQUIRED_FUNCTIONS, MoodleLms
from connector.profile_fields import PROBE_USERNAME, check_profile_fields

OK = "ok"
MISSING = "missing"
NOT_CHECKED = "not checked"
WARNING = "warning"  # works, but not as the Sở wants (e.g. reporters see every class)


@dataclass(frozen=True)
class CheckLine:
    kind: str  # function / capability / course / role / profile field
    name: str
    status: str  # ok / missing / not checked / warning
    detail: str = ""


@dataclass
class CheckReport:
    site_name: str = ""
    release: str = ""
    username: str = ""
    userid: int = 0
    lines: list[CheckLine] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckLine]:
        return [line for line in self.lines if line.status == MISSING]

    @property
    def warnings(self) -> list[CheckLine]:
        return [line for line in self.lines if line.status == WARNING]

    @property
    def ok(self) -> bool:
        """Nothing missing (warnings do not stop the software)."""
        return not self.problems


Probe = Callable[[MoodleClient, "ProbeContext"], None]


@dataclass(frozen=True)
class ProbeContext:
    username: str
    userid: int
    template_course_id: int | None
    template_category_id: int | None
    template_shortname: str


def _expect_data_error(call: Callable[[], object]) -> None:
    """Run a probe call: a data refusal or success proves the capability; else it raises."""
    try:
        call()
    except LmsDataError:
        return


def _probe_user_create(client: MoodleClient, ctx: ProbeContext) -> None:
    user = {
        "username": ctx.username,
        "firstname": "x",
        "lastname": "x",
        "email": "probe@invalid.invalid",
        "createpassword": 1,
    }
    _expect_data_error(lambda: client.call("core_user_create_users", {"users": [user]}, write=True))


def _probe_user_update(client: MoodleClient, ctx: ProbeContext) -> None:
    # Row-level problems come back as warnings; an unknown id changes nothing.
    _expect_data_error(
        lambda: client.call(
            "core_user_update_users", {"users": [{"id": 0, "firstname": "x"}]}, write=True
        )
    )


def _probe_course_create(client: MoodleClient, ctx: ProbeContext) -> None:
    if ctx.template_category_id is None:
        raise _NotProbed("template course not found")
    course = {
        "fullname": "x",
        "shortname": ctx.template_shortname,
        "categoryid": ctx.template_category_id,
    }
    _expect_data_error(
        lambda: client.call("core_course_create_courses", {"courses": [course]}, write=True)
    )


def _probe_enrol(roleid: int) -> Probe:
    def probe(client: MoodleClient, ctx: ProbeContext) -> None:
        if ctx.template_course_id is None:
            raise _NotProbed("template course not found")
        row = {"roleid": roleid, "userid": 0, "courseid": ctx.template_course_id}
        _expect_data_error(
            lambda: client.call("enrol_manual_enrol_users", {"enrolments": [row]}, write=True)
        )

    return probe


def _probe_groups(client: MoodleClient, ctx: ProbeContext) -> None:
    if ctx.template_course_id is None:
        raise _NotProbed("template course not found")
    client.call("core_group_get_course_groups", {"courseid": ctx.template_course_id})


def _probe_participants(client: MoodleClient, ctx: ProbeContext) -> None:
    if ctx.template_course_id is None:
        raise _NotProbed("template course not found")
    options = [{"name": "userfields", "value": "id"}, {"name": "limitnumber", "value": 1}]
    client.call(
        "core_enrol_get_enrolled_users", {"courseid": ctx.template_course_id, "options": options}
    )


class _NotProbed(Exception):
    pass


# capability -> (the probe, what it sends)
PROBES: dict[str, tuple[Probe, str]] = {
    "moodle/user:create": (
        _probe_user_create,
        "core_user_create_users with the service user's own username",
    ),
    "moodle/user:update": (_probe_user_update, "core_user_update_users on user id 0"),
    "moodle/course:create": (
        _probe_course_create,
        "core_course_create_courses with the template's shortname",
    ),
    "enrol/manual:enrol (student role 5)": (_probe_enrol(5), "enrol_manual_enrol_users, user id 0"),
    "enrol/manual:enrol (teacher role 4)": (_probe_enrol(4), "enrol_manual_enrol_users, user id 0"),
    "moodle/course:managegroups": (_probe_groups, "core_group_get_course_groups on the template"),
    "moodle/course:viewparticipants": (_probe_participants, "core_enrol_get_enrolled_users, 1 row"),
}


def check_lms(
    lms: MoodleLms,
    template_shortname: str = "TPL-MODULE",
    profile_fields: Iterable[str] = (),
) -> CheckReport:
    """Check the site behind ``lms``; raises only when it cannot be reached at all.

    ``profile_fields``: the custom profile fields the configuration maps (shortnames).
    """
    info = lms.site.get_site_info()
    report = CheckReport(info.sitename, info.release or "", info.username, info.userid)
    missing = set(info.missing_functions(REQUIRED_FUNCTIONS))
    for name in sorted(REQUIRED_FUNCTIONS):
        status = MISSING if name in missing else OK
        report.lines.append(CheckLine("function", name, status, REQUIRED_FUNCTIONS[name]))
    template_id = template_category = None
    if "core_course_get_courses_by_field" not in missing:
        found = lms.courses.get_courses_by_field("shortname", template_shortname).courses
        if found:
            template_id, template_category = found[0].id, found[0].categoryid
        else:
            report.lines.append(
                CheckLine(
                    "course",
                    template_shortname,
                    MISSING,
                    "the module template course is not on the site",
                )
            )
    ctx = ProbeContext(
        info.username, info.userid, template_id, template_category, template_shortname
    )
    probed = set()
    for capability, (probe, how) in PROBES.items():
        probed.add(capability.split(" ")[0])
        report.lines.append(_run_probe(lms.client, ctx, capability, probe, how))
    for capability in sorted(set(REQUIRED_CAPABILITIES) - probed):
        report.lines.append(
            CheckLine("capability", capability, NOT_CHECKED, "cannot be probed without writing")
        )
    report.lines.extend(_profile_field_lines(lms, profile_fields))
    return report


def _profile_field_lines(lms: MoodleLms, configured: Iterable[str]) -> list[CheckLine]:
    """One line per configured profile field: kept by the site, missing, or not checked."""
    fields = sorted(set(configured))
    if not fields:
        return []
    try:
        found = check_profile_fields(lms, fields, write=True)
    except LmsError as error:
        return [CheckLine("profile field", f, NOT_CHECKED, str(error)) for f in fields]
    if not found.known:
        reason = f"the probe account {PROBE_USERNAME} could not be written: {found.error}"
        return [CheckLine("profile field", f, NOT_CHECKED, reason) for f in fields]
    return [
        CheckLine(
            "profile field",
            name,
            MISSING if name in found.missing else OK,
            f"the site has no profile field '{name}' (or it refused a text value): "
            "the sync does not send it; remove it from [provisioning.profile_fields] "
            "or create it (Site administration > Users > User profile fields)"
            if name in found.missing
            else f"kept on the probe account {PROBE_USERNAME}",
        )
        for name in fields
    ]


def _run_probe(
    client: MoodleClient, ctx: ProbeContext, capability: str, probe: Probe, how: str
) -> CheckLine:
    try:
        probe(client, ctx)
    except _NotProbed as reason:
        return CheckLine("capability", capability, NOT_CHECKED, str(reason))
    except LmsFunctionNotAvailable:
        return CheckLine(
            "capability", capability, NOT_CHECKED, "its function is not in the service"
        )
    except LmsMissingCapability as error:
        return CheckLine("capability", capability, MISSING, error.message)
    except LmsConfigError as error:
        return CheckLine("capability", capability, MISSING, str(error))
    except LmsError as error:
        return CheckLine("capability", capability, NOT_CHECKED, f"probe inconclusive: {error}")
    return CheckLine("capability", capability, OK, how)
