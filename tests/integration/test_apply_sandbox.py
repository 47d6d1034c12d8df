"""The applier against the sandbox LMS on a small province: outcomes, journal, sheets."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import openpyxl

from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.users import UserRules
from sandbox.lms import SandboxLms
from sync.accounts_sheet import write_account_sheets
from sync.apply import ActionOutcome, Applier, ApplyOptions, Batch
from sync.model import Action, ActionKind, DesiredState
from sync.plan import PlanOptions, plan
from sync.read import read_actual
from tests.unit.sync.states import desired, person

NOW = 1_693_000_000


class ListJournal:
    """A journal that keeps what it is told, for the test to read."""

    def __init__(self) -> None:
        self.latest: dict[int, ActionOutcome] = {}
        self.sent: list[Batch] = []
        self.answered: list[Batch] = []
        self.keys_of: dict[int, frozenset[str]] = {}  # batch seq -> its actions' keys
        self.accounts: dict[str, tuple[int, str]] = {}
        self.suspended: dict[str, bool] = {}

    @property
    def outcomes(self) -> list[ActionOutcome]:
        return list(self.latest.values())

    def sending(self, batch: Batch, actions: Sequence[Action]) -> None:
        assert len(actions) == batch.size
        self.sent.append(batch)
        self.keys_of[batch.seq] = frozenset(a.key for a in actions)

    def record(self, outcomes: Sequence[ActionOutcome], batch: Batch | None = None) -> None:
        self.latest.update((id(o.action), o) for o in outcomes)
        if batch is not None:
            self.answered.append(batch)

    def account_created(self, identity_code: str, user_id: int, username: str) -> None:
        self.accounts[identity_code] = (user_id, username)

    def suspension_set(self, identity_code: str, suspended: bool) -> None:
        self.suspended[identity_code] = suspended


def lms_for(sandbox: SandboxLms) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid", sandbox.token_for("syncbot"), transport=sandbox.transport()
    )
    return MoodleLms(client, user_rules=UserRules(profile_fields=frozenset({"school"})))


def state() -> DesiredState:
    people = [person("7000000001"), person("7000000002", email="bad@@x"), person("7000000003")]
    classes = {"7000000001": "L01", "7000000002": "L01", "7000000003": "L02"}
    return desired(people, classes)


def test_generated_passwords_bad_row_alone_and_journal(tmp_path: Path) -> None:
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    wanted = state()
    actual = read_actual(lms, wanted)
    the_plan = plan(
        wanted, actual, now=NOW, options=PlanOptions(site_customfields=frozenset({"school"}))
    )
    journal = ListJournal()
    options = ApplyOptions(credentials="generate", schools={c: "BP0001" for c in wanted.users})
    result = Applier(lms, journal, actual, options).apply(the_plan)

    assert journal.outcomes == result.outcomes
    # Every batch sent was answered and journaled, in the order sent.
    assert journal.answered == journal.sent == result.batches
    assert [b.seq for b in journal.sent] == list(range(1, len(journal.sent) + 1))
    failed = {o.action.id: o.error for o in result.failures()}
    # The bad e-mail fails alone, with its reason; what depends on it is not sent.
    assert "create_user:7000000002" in failed
    assert (
        "e-mail" in failed["create_user:7000000002"].lower()
        or "email" in failed["create_user:7000000002"].lower()
    )
    assert failed[f"enrol:{'M4-2023-THCS-GV-TOAN'}|7000000002"] == "tài khoản chưa tạo được"
    assert set(journal.accounts) == {"7000000001", "7000000003"}
    assert {o.action.kind for o in result.outcomes if o.status == "done"} >= {
        ActionKind.CREATE_COURSE,
        ActionKind.CREATE_GROUP,
        ActionKind.CREATE_USER,
        ActionKind.ENROL,
        ActionKind.ADD_MEMBER,
    }

    # Generated first passwords: Moodle's default policy, forced change at first login.
    assert {c.identity_code for c in result.credentials} == {"7000000001", "7000000003"}
    for credential in result.credentials:
        word = credential.password
        assert len(word) >= 8
        assert any(c.isupper() for c in word)
        assert any(c.isdigit() for c in word)
        user = sandbox.site.users[journal.accounts[credential.identity_code][0]]
        assert user.preferences.get("auth_forcepasswordchange") == "1"
        assert user.password_hash

    sheets = write_account_sheets(
        result.credentials,
        {c: ("Nguyễn Văn An", u.email) for c, u in wanted.users.items()},
        {"BP0001": "Trường THCS Tiến Hưng"},
        tmp_path / "accounts",
    )
    assert [p.name for p in sheets] == ["tai-khoan-BP0001.xlsx"]
    assert stat.S_IMODE(sheets[0].stat().st_mode) == 0o600
    workbook = openpyxl.load_workbook(sheets[0], read_only=True)
    rows = [r for r in workbook["Tài khoản"].iter_rows(values_only=True)]
    workbook.close()
    assert rows[2][:5] == ("STT", "Mã định danh", "Họ và tên", "Tên đăng nhập", "Mật khẩu lần đầu")
    assert {r[3] for r in rows[3:]} == {c.username for c in result.credentials}

    # The second pass plans only the account that still cannot be made.
    again = plan(
        wanted,
        read_actual(lms, wanted),
        now=NOW,
        options=PlanOptions(site_customfields=frozenset({"school"})),
    )
    assert {a.key.split("|")[-1] for a in again.actions} == {"7000000002"}


def test_new_email_already_held_by_an_account_made_by_hand_is_a_conflict() -> None:
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    wanted = desired(
        [person("7000000001"), person("7000000003")], {"7000000001": "L01", "7000000003": "L02"}
    )
    actual = read_actual(lms, wanted)
    first = plan(wanted, actual, now=NOW)
    Applier(lms, ListJournal(), actual, ApplyOptions()).apply(first)
    sandbox.call(
        "core_user_create_users",
        {
            "users": [
                {
                    "username": "by.hand",
                    "firstname": "Tay",
                    "lastname": "Lam",
                    "email": "hand@truong.edu.vn",
                    "createpassword": 1,
                }
            ]
        },
        token=sandbox.token_for("syncbot"),
    )
    people = dict(wanted.users)
    people["7000000001"] = replace(people["7000000001"], email="hand@truong.edu.vn")
    changed = replace(wanted, users=people, managed=frozenset(people))
    again = plan(changed, read_actual(lms, changed), now=NOW)
    assert [(c.key, c.code) for c in again.conflicts] == [("7000000001", "email_in_use")]
    assert not any("email" in a.data for a in again.of_kind(ActionKind.UPDATE_USER))


def test_a_learner_who_becomes_assessor_changes_role_in_the_lms() -> None:
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    people = [person("7000000001"), person("7000000003")]
    learners = desired(people, {"7000000001": "L01", "7000000003": "L02"})
    actual = read_actual(lms, learners)
    Applier(lms, ListJournal(), actual, ApplyOptions()).apply(plan(learners, actual, now=NOW))
    promoted = replace(
        desired(people, {"7000000001": "L01"}, teachers={"7000000003": "L01"}),
        managed=frozenset(learners.users),
    )
    actual = read_actual(lms, promoted)
    change = plan(promoted, actual, now=NOW)
    assert {a.kind for a in change.actions} == {
        ActionKind.CHANGE_ROLE,
        ActionKind.ADD_MEMBER,
        ActionKind.REMOVE_MEMBER,
    }
    result = Applier(lms, ListJournal(), actual, ApplyOptions()).apply(change)
    assert result.failures() == []
    after = read_actual(lms, promoted)
    user = after.users["7000000003"]
    enrolment = next(
        iter(e for e in after.enrolments["M4-2023-THCS-GV-TOAN"].values() if e.userid == user.id)
    )
    assert enrolment.roles == frozenset({"teacher"})
    assert plan(promoted, after, now=NOW).actions == ()


def test_courses_get_separate_forced_groups_and_keep_them() -> None:
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    people = [person("7000000001"), person("7000000003")]
    wanted = replace(
        desired(people, {"7000000001": "L01", "7000000003": "L02"}),
        managed=frozenset({"7000000001", "7000000003"}),
    )
    actual = read_actual(lms, wanted)
    Applier(lms, ListJournal(), actual, ApplyOptions()).apply(plan(wanted, actual, now=NOW))
    site = sandbox.site
    template = site.courses[site.course_by_shortname["TPL-MODULE"]]
    course = site.courses[site.course_by_idnumber["M4-2023-THCS-GV-TOAN"]]
    # The copy starts in the template's "no groups" mode; the sync sets its own.
    assert (template.groupmode, template.groupmodeforce) == (0, 0)
    assert (course.groupmode, course.groupmodeforce) == (1, 1)
    assert plan(wanted, read_actual(lms, wanted), now=NOW).actions == ()

    # Someone puts the course back to "no groups" by hand: the next sync corrects it.
    site.update_course(course, {"groupmode": 0, "groupmodeforce": 0})
    actual = read_actual(lms, wanted)
    fix = plan(wanted, actual, now=NOW)
    assert [(a.kind, dict(a.data)) for a in fix.actions] == [
        (ActionKind.UPDATE_COURSE, {"id": course.id, "groupmode": 1, "groupmodeforce": True})
    ]
    assert Applier(lms, ListJournal(), actual, ApplyOptions()).apply(fix).failures() == []
    assert (course.groupmode, course.groupmodeforce) == (1, 1)
    assert plan(wanted, read_actual(lms, wanted), now=NOW).actions == ()
