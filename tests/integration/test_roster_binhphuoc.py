"""The Bình Phước 2023 sample roster: counts follow from GENERATED.txt, every planted
defect is reported with its reason, every row ends in exactly one status.

How each expectation follows from the generator (/work/shared/tools/gen_roster.py) and
GENERATED.txt (read below, not pasted):

* People. ``THCS CBQL + THCS GV + THPT CBQL + THPT GV`` (5,554) are the people trained by
  this plan: not core staff, not English teachers. Add the 235 core staff and the 260
  English teachers: 6,049 people. The generator then appends the 5 duplicated people a
  second time, so the learners' sheet has 6,054 data rows; the reporters' file has one
  row per core staff member: 235. Rows read: 6,289.
* Defects. ``dirty()`` draws every defect from one shuffled pool of non-core people
  without replacement, so no person carries two defects and each defect is one row:
  rejected rows = 6 without e-mail + 3 malformed + 2 x 4 sharing an e-mail (both rows of a
  pair are held back) + 2 impossible dates + 3 wrong identity codes = 22.
  The 5 duplicated people are copied unchanged (same data): 5 rows merged.
  The corrections (12 upper-case e-mails, 20 NFD names, 15 text dates, 10 school names,
  10 phones) are notes on their rows. A phone defect draws its prefix from
  {"+84 ", "84", "0"} and its separator from {" ", ".", ""}: "0" + "" changes nothing,
  so the test counts the non-canonical phone cells of the raw file independently.
* Exclusions. The 260 English teachers carry SEPARATE_PLAN once each (the duplicated
  one's second row is a merged duplicate). Core staff (235) are excluded from their
  subject, except those the school also sent as HĐTNHN concurrent learners, who are
  enrolled for that reference subject only. Retiring people: ``round(0.006 x 6,049)`` = 36,
  exempt; maternity or long illness: ``round(0.01 x 6,049)`` = 60, reduced (enrolled).
* Tracks. "without modules 1-3" (73) are routed to the modules 1-3 track unless they
  are excluded (English teacher) or rejected.
* Per (level, audience): the GENERATED count = learners imported on the main or the
  modules 1-3 track + people exempt + people rejected, among non-core non-English rows.
* HĐTNHN: the 471 concurrent learners end as a reference enrolment, or a rejected row, or
  an exempt person, or a modules 1-3 learner whose reference waits.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from roster.importer import import_roster
from roster.model import Audience, CoreRole, ImportResult, Level, RowOutcome, Track
from roster.reasons import ReasonCode, Status
from roster.subjects import HDTNHN

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binhphuoc-2023"
TODAY = dt.date(2023, 8, 1)
PEOPLE_BEFORE_DUPLICATES = 6049  # see the module docstring


def generated() -> tuple[dict[str, int], dict[str, int]]:
    """GENERATED.txt: the summary counts, and the leading number of each planted defect."""
    counts: dict[str, int] = {}
    defects: dict[str, int] = {}
    for line in (DATA / "GENERATED.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("  - "):
            number, _, text = line[4:].partition(" ")
            defects[text] = int(number)
        elif ": " in line and line.split(": ")[1].isdigit():
            key, value = line.split(": ")
            counts[key] = int(value)
    return counts, defects


COUNTS, DEFECTS = generated()


def defect(prefix: str) -> int:
    (number,) = [n for text, n in DEFECTS.items() if text.startswith(prefix)]
    return number


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_roster(
        DATA / "hoc-vien.xlsx",
        schools=DATA / "truong.xlsx",
        core_staff=DATA / "bao-cao-vien.xlsx",
        today=TODAY,
    )


@pytest.fixture(scope="module")
def raw_rows() -> list[tuple[object, ...]]:
    """The learners' sheet read independently of ``roster`` (data rows below row 3)."""
    workbook = load_workbook(DATA / "hoc-vien.xlsx", read_only=True)
    rows = [tuple(r) for r in workbook.active.iter_rows(min_row=4, values_only=True)]  # type: ignore[union-attr]
    workbook.close()
    return [r for r in rows if any(v is not None for v in r)]


def value(outcome: RowOutcome, column: str) -> object:
    return outcome.values[outcome.columns.index(column)]


def learner_outcomes(result: ImportResult) -> list[RowOutcome]:
    return [o for o in result.outcomes if o.source.file == "hoc-vien.xlsx"]


def with_code(result: ImportResult, code: ReasonCode) -> list[RowOutcome]:
    return [o for o in result.outcomes if any(r.code is code for r in o.reasons)]


# -- rows and statuses --------------------------------------------------------------


def test_every_row_read_ends_in_exactly_one_status(
    result: ImportResult, raw_rows: list[tuple[object, ...]]
) -> None:
    trained = sum(COUNTS[k] for k in ("THCS CBQL", "THCS GV", "THPT CBQL", "THPT GV"))
    core = COUNTS["core staff (reporters/assistants)"]
    english = defect("teachers of Tiếng Anh")
    assert trained + core + english == PEOPLE_BEFORE_DUPLICATES
    learner_rows = PEOPLE_BEFORE_DUPLICATES + defect("people listed twice")
    assert len(raw_rows) == learner_rows == 6054
    assert len(learner_outcomes(result)) == learner_rows
    assert result.rows_read == learner_rows + core
    assert sum(result.status_counts().values()) == result.rows_read
    assert len({(o.source.file, o.source.row) for o in result.outcomes}) == result.rows_read
    assert all(o.status in Status for o in result.outcomes)


def test_rejected_rows_are_exactly_the_planted_invalid_ones(result: ImportResult) -> None:
    expected = {
        ReasonCode.MISSING_EMAIL: defect("rows without an e-mail"),
        ReasonCode.INVALID_EMAIL: defect("malformed e-mails"),
        ReasonCode.SHARED_EMAIL: 2 * defect("pairs of different people sharing"),
        ReasonCode.IMPOSSIBLE_DATE: defect("impossible birth dates"),
        ReasonCode.INVALID_IDENTITY_CODE: defect("identity codes with a wrong length"),
    }
    assert expected == {ReasonCode.MISSING_EMAIL: 6, ReasonCode.INVALID_EMAIL: 3,
                        ReasonCode.SHARED_EMAIL: 8, ReasonCode.IMPOSSIBLE_DATE: 2,
                        ReasonCode.INVALID_IDENTITY_CODE: 3}  # fmt: skip
    counts = result.reason_counts()
    for code, number in expected.items():
        assert counts[code] == number, code
    assert result.status_counts()[Status.REJECTED] == sum(expected.values()) == 22
    rejection_codes = {r.code for o in result.outcomes for r in o.blocking_reasons
                       if o.status is Status.REJECTED}  # fmt: skip
    assert rejection_codes == set(expected)


def test_rejection_messages_speak_to_the_school(result: ImportResult) -> None:
    messages = Counter(
        r.message
        for o in result.outcomes
        for r in o.reasons
        if r.code is not ReasonCode.SHARED_EMAIL
    )
    assert messages["Thiếu email"] == 6
    assert messages["Ngày sinh không tồn tại: 31/02/1980"] == 2
    bad_codes = [m for m in messages if m.startswith("Mã định danh phải có 10 chữ số: ")]
    assert [len(m.rsplit(" ", 1)[1]) for m in bad_codes] == [8, 8, 8]
    assert all(unicodedata.is_normalized("NFC", m) for m in messages)


def test_both_rows_of_each_shared_email_point_at_each_other(result: ImportResult) -> None:
    shared = with_code(result, ReasonCode.SHARED_EMAIL)
    by_email = Counter(str(value(o, "Email")).strip().lower() for o in shared)
    assert sorted(by_email.values()) == [2, 2, 2, 2]
    for outcome in shared:
        (message,) = [r.message for r in outcome.reasons if r.code is ReasonCode.SHARED_EMAIL]
        other = int(re.fullmatch(r"Email trùng với người khác \(dòng (\d+)\)", message)[1])  # type: ignore[index]
        partner = next(o for o in shared if o.source.row == other)
        assert value(partner, "Email") == value(outcome, "Email")
        assert partner.identity_code != outcome.identity_code


def test_duplicated_people_are_merged_once(result: ImportResult) -> None:
    merged = with_code(result, ReasonCode.DUPLICATE_MERGED)
    assert len(merged) == defect("people listed twice") == 5
    assert all(o.status is Status.EXCLUDED for o in merged)
    assert all(len(o.reasons) == 1 for o in merged)
    ids = [o.identity_code for o in merged]
    kept = [o for o in learner_outcomes(result) if o.identity_code in ids and o not in merged]
    assert sorted(o.identity_code for o in kept) == sorted(ids)  # type: ignore[type-var]
    assert len({x.identity_code for x in result.learners}) == len(result.learners)


def test_corrections_are_noted_on_their_rows(
    result: ImportResult, raw_rows: list[tuple[object, ...]]
) -> None:
    counts = result.reason_counts()
    assert counts[ReasonCode.EMAIL_NORMALISED] == defect("e-mails in upper case") == 12
    assert counts[ReasonCode.DATE_FROM_TEXT] + counts[ReasonCode.IMPOSSIBLE_DATE] == (
        defect("birth dates typed as text") + defect("impossible birth dates")
    )
    assert counts[ReasonCode.SCHOOL_NAME_MATCHED] == defect("school names typed differently")
    # NFD names: only names with an accent change (the sample's 20 all have one).
    nfd_names = [r[2] for r in raw_rows if not unicodedata.is_normalized("NFC", str(r[2]))]
    assert len(nfd_names) == defect("names typed with decomposed") == 20
    assert counts[ReasonCode.NAME_NORMALISED] == 20
    # Phones: a "0" prefix drawn with an empty separator is a no-op (see the docstring).
    odd_phones = [r[6] for r in raw_rows if not re.fullmatch(r"0\d{9}", str(r[6]))]
    assert 0 < len(odd_phones) <= defect("phone numbers with +84")
    assert counts[ReasonCode.PHONE_NORMALISED] == len(odd_phones)
    assert ReasonCode.INVALID_PHONE not in counts


def test_corrected_values_reach_the_learners(result: ImportResult) -> None:
    for learner in result.learners:
        assert learner.email == learner.email.strip().lower()
        assert unicodedata.is_normalized("NFC", learner.full_name)
        assert learner.phone is None or re.fullmatch(r"0\d{9}", learner.phone)
        assert learner.birth_date is not None
        assert f"{learner.lastname} {learner.firstname}" == learner.full_name
    school_codes = {s.code for s in result.schools}
    assert len(school_codes) == COUNTS["schools/centres"] == 154
    assert {x.school_code for x in result.learners} <= school_codes


# -- eligibility --------------------------------------------------------------------


def test_english_teachers_are_excluded_once_each(result: ImportResult) -> None:
    english = with_code(result, ReasonCode.SEPARATE_PLAN)
    assert len(english) == defect("teachers of Tiếng Anh") == 260
    assert all(value(o, "Môn bồi dưỡng") == "Tiếng Anh" for o in english)
    assert not [x for x in result.learners if x.subject == "Tiếng Anh"]


def test_core_staff_are_reporters_not_learners_of_their_subject(result: ImportResult) -> None:
    core = COUNTS["core staff (reporters/assistants)"]
    counts = result.reason_counts()
    assert counts[ReasonCode.CORE_STAFF] + counts[ReasonCode.CORE_REFERENCE_ONLY] == core
    assert ReasonCode.CORE_NOT_LISTED not in counts  # every marked one is in the file
    assert len(result.core_staff) == core
    assert {c.role for c in result.core_staff} == {CoreRole.REPORTER, CoreRole.ASSISTANT}
    assert all(c.cluster for c in result.core_staff)
    managers = [c for c in result.core_staff if c.subject == "Quản lí"]
    assert managers
    reference_only = [x for x in result.learners if x.track is Track.REFERENCE_ONLY]
    assert len(reference_only) == counts[ReasonCode.CORE_REFERENCE_ONLY]
    assert all(x.core_staff and x.reference_subjects == (HDTNHN,) for x in reference_only)


def test_exempt_and_reduced_people_are_kept_with_their_reason(result: ImportResult) -> None:
    retiring = round(0.006 * PEOPLE_BEFORE_DUPLICATES)
    reduced = round(0.01 * PEOPLE_BEFORE_DUPLICATES)
    assert (retiring, reduced) == (36, 60)
    assert result.reason_counts()[ReasonCode.EXEMPT] == retiring
    rejected_ids = {o.identity_code for o in result.outcomes if o.status is Status.REJECTED}
    exempt = [e for e in result.exemptions if e.kind.is_exempt]
    reduced_kept = [e for e in result.exemptions if not e.kind.is_exempt]
    rejected_notes = Counter(
        str(value(o, "Ghi chú")) for o in learner_outcomes(result) if o.status is Status.REJECTED
    )
    assert len(exempt) + rejected_notes["Nghỉ hưu trong năm học"] == retiring
    rejected_reduced = (
        rejected_notes["Nghỉ thai sản"] + rejected_notes["Nghỉ ốm dài ngày (có giấy xác nhận)"]
    )
    assert len(reduced_kept) + rejected_reduced == reduced
    assert not {e.identity_code for e in result.exemptions} & rejected_ids
    assert {e.note for e in exempt} == {"Nghỉ hưu trong năm học"}
    flagged = [x for x in result.learners if x.reduction is not None]
    assert len(flagged) == result.reason_counts()[ReasonCode.REDUCED_ENROLLED]


def test_learners_without_modules_123_take_them_first(result: ImportResult) -> None:
    without = COUNTS["without modules 1-3"]
    missing = [o for o in learner_outcomes(result)
               if not value(o, "Đã hoàn thành MĐ 1, 2, 3")
               and not any(r.code is ReasonCode.DUPLICATE_MERGED for r in o.reasons)]  # fmt: skip
    assert len(missing) == without == 73
    routed = [x for x in result.learners if x.track is Track.PREREQUISITE]
    english = [o for o in missing if value(o, "Môn bồi dưỡng") == "Tiếng Anh"]
    rejected = [o for o in missing if o.status is Status.REJECTED]
    assert len(routed) + len(english) + len(rejected) == without
    assert all(not x.modules_123_done for x in routed)


def test_counts_per_level_and_audience_follow_generated(result: ImportResult) -> None:
    trained = Counter(
        (x.level, x.audience) for x in result.learners if x.track is not Track.REFERENCE_ONLY
    )
    held: Counter[tuple[Level, Audience]] = Counter()  # exempt or rejected, not core/English
    for outcome in learner_outcomes(result):
        if value(outcome, "Cốt cán") or value(outcome, "Môn bồi dưỡng") == "Tiếng Anh":
            continue
        exempt = any(r.code is ReasonCode.EXEMPT for r in outcome.reasons)
        if outcome.status is Status.REJECTED or exempt:
            level, audience = str(value(outcome, "Cấp học")), str(value(outcome, "Đối tượng"))
            held[(Level(level), Audience(audience))] += 1
    for level in (Level.LOWER_SECONDARY, Level.UPPER_SECONDARY):
        for audience in (Audience.MANAGER, Audience.TEACHER):
            key = f"{level.value} {audience.value}"
            assert trained[(level, audience)] + held[(level, audience)] == COUNTS[key], key
    assert sum(trained.values()) + sum(held.values()) == 5554


def test_hdtnhn_concurrent_learners_get_a_reference_subject(result: ImportResult) -> None:
    extra = COUNTS["HDTNHN module-4 extra learners"]
    enrolled = [x for x in result.learners if HDTNHN in x.reference_subjects]
    counts = result.reason_counts()
    marked = [o for o in learner_outcomes(result) if value(o, "Kiêm nhiệm HĐTNHN (MĐ 4)")
              and not any(r.code is ReasonCode.DUPLICATE_MERGED for r in o.reasons)]  # fmt: skip
    assert len(marked) == extra == 471
    rejected = [o for o in marked if o.status is Status.REJECTED]
    exempt = [o for o in marked if o.status is Status.EXCLUDED]
    assert all(ReasonCode.EXEMPT in {r.code for r in o.reasons} for o in exempt)
    waiting = counts[ReasonCode.REFERENCE_SUBJECT_DROPPED]
    assert len(enrolled) + len(rejected) + len(exempt) + waiting == extra
    assert all(x.track is not Track.PREREQUISITE for x in enrolled)
