"""The comparator of recorded and replayed answers (tests.contract.value_mismatches)."""

from __future__ import annotations

from tests.contract import value_class, value_mismatches


def test_equal_answers_have_no_mismatch() -> None:
    answer = {"events": [{"id": 7, "name": "Quiz opens", "timestart": 1795366800}]}
    assert value_mismatches(answer, answer) == []


def test_a_longer_list_is_a_mismatch_even_with_items_of_the_right_shape() -> None:
    recorded = {"events": [{"id": 7, "eventtype": "open"}, {"id": 8, "eventtype": "open"}]}
    replayed = {"events": [{"id": 1, "eventtype": "open"}] * 6}
    assert value_mismatches(recorded, replayed) == ["$.events: expected 2 items, got 6"]


def test_values_that_are_not_ids_or_stamps_must_be_equal() -> None:
    problems = value_mismatches({"summary": "Cập nhật mô tả"}, {"summary": "Khóa học"})
    assert problems == ["$.summary: expected 'Cập nhật mô tả', got 'Khóa học'"]
    assert value_mismatches({"duedate": 1796144400}, {"duedate": 1796317200})


def test_ids_may_differ_but_must_be_consistent() -> None:
    recorded = {"a": {"courseid": 3}, "b": {"courseid": 3}, "c": {"courseid": 4}}
    assert (
        value_mismatches(
            recorded, {"a": {"courseid": 9}, "b": {"courseid": 9}, "c": {"courseid": 5}}
        )
        == []
    )
    assert value_mismatches(
        recorded, {"a": {"courseid": 9}, "b": {"courseid": 8}, "c": {"courseid": 5}}
    )
    assert value_mismatches(
        recorded, {"a": {"courseid": 9}, "b": {"courseid": 9}, "c": {"courseid": 9}}
    )
    assert value_mismatches({"groupid": None}, {"groupid": 2})


def test_stamps_only_keep_zero_or_not() -> None:
    assert value_mismatches({"timemodified": 1795559080}, {"timemodified": 1795559070}) == []
    assert value_mismatches({"timecompleted": 0}, {"timecompleted": 1795559070})
    assert value_mismatches({"attempt": {"timestart": 5}}, {"attempt": {"timestart": 6}}) == []
    assert value_mismatches({"event": {"timestart": 5}}, {"event": {"timestart": 6}})


def test_types_and_keys_must_match() -> None:
    assert value_mismatches({"a": 1}, {"a": "1"})
    assert value_mismatches({"a": 1, "b": 2}, {"a": 1})
    assert value_mismatches({"a": 1}, {"a": 1, "b": 2})


def test_numbers_inside_links_are_blanked_but_not_the_text_around() -> None:
    recorded = '<a href="http://127.0.0.1:8081/mod/page/view.php?id=8">Bài học</a>'
    same = '<a href="http://127.0.0.1:8080/mod/page/view.php?id=15">Bài học</a>'
    other = '<a href="http://127.0.0.1:8080/mod/page/view.php?id=15">Checklist</a>'
    assert value_mismatches({"criteria": recorded}, {"criteria": same}) == []
    assert value_mismatches({"criteria": recorded}, {"criteria": other})


def test_trimmed_lists_compare_the_recorded_length_and_the_kept_items() -> None:
    trimmed = {"$.events": "list of 7 items trimmed to first 2"}
    recorded = {"events": [{"name": "a"}, {"name": "b"}]}
    kept = {"events": [{"name": "a"}, {"name": "b"}] + [{"name": "z"}] * 5}
    assert value_mismatches(recorded, kept, trimmed) == []
    assert value_mismatches(recorded, {"events": kept["events"][:6]}, trimmed)
    assert value_mismatches(recorded, {"events": ([{"name": "b"}, {"name": "a"}] * 4)[:7]}, trimmed)


def test_trimmed_strings_compare_their_kept_start() -> None:
    trimmed = {"$.html": "string of 900 chars trimmed"}
    assert (
        value_mismatches({"html": "<div>ab...[trimmed]"}, {"html": "<div>abc</div>"}, trimmed) == []
    )
    assert value_mismatches({"html": "<div>ab...[trimmed]"}, {"html": "<p>ab</p>"}, trimmed)


def test_value_classes() -> None:
    assert [value_class(k) for k in ("id", "userid", "eventids", "instance")] == ["id"] * 4
    assert [value_class(k) for k in ("timecreated", "timemodified", "cacherev")] == ["stamp"] * 3
    assert [value_class(k) for k in ("timestart", "duedate", "name")] == ["literal"] * 3
