"""Settings of one sandbox LMS site."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.state import ProfileField

RELEASE = "4.5.5+ (Build: 20250613)"
TEMPLATE_D0 = 1794762000  # 2026-11-16 00:00 Asia/Ho_Chi_Minh, the recorded template start.
VERSION = "2024100705.01"

# The profile fields of the recorded site first, then the ones the roster needs.
DEFAULT_PROFILE_FIELDS: tuple[ProfileField, ...] = (
    ProfileField("school", "Trường / đơn vị"),
    ProfileField("cccd", "Số CCCD"),
    ProfileField("classcode", "Mã lớp"),
    ProfileField("level", "Cấp học"),
    ProfileField("subject", "Môn học"),
)

# The functions of the recorded ``syncbot_service`` (_meta__environment.json), the first
# three in the order core_webservice_get_site_info__ok lists them.
SERVICE_FUNCTIONS: tuple[str, ...] = (
    "core_calendar_update_event_start_day",
    "core_calendar_create_calendar_events",
    "core_calendar_get_calendar_events",
    "core_calendar_get_action_events_by_course",
    "core_cohort_add_cohort_members",
    "core_cohort_create_cohorts",
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "core_completion_mark_course_self_completed",
    "core_completion_override_activity_completion_status",
    "core_completion_update_activity_completion_status_manually",
    "core_course_create_categories",
    "core_course_create_courses",
    "core_course_duplicate_course",
    "core_course_edit_module",
    "core_course_edit_section",
    "core_course_get_categories",
    "core_course_get_contents",
    "core_course_get_course_module",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "core_course_import_course",
    "core_course_update_courses",
    "core_courseformat_update_course",
    "core_enrol_get_enrolled_users",
    "core_enrol_get_users_courses",
    "core_grades_update_grades",
    "core_group_add_group_members",
    "core_group_create_groups",
    "core_group_delete_group_members",
    "core_group_get_course_groups",
    "core_group_get_group_members",
    "core_message_send_instant_messages",
    "core_role_assign_roles",
    "core_role_unassign_roles",
    "core_user_create_users",
    "core_user_get_course_user_profiles",
    "core_user_get_users",
    "core_user_get_users_by_field",
    "core_user_update_users",
    "core_webservice_get_site_info",
    "enrol_manual_enrol_users",
    "enrol_manual_unenrol_users",
    "gradereport_user_get_grade_items",
    "mod_assign_get_assignments",
    "mod_assign_get_grades",
    "mod_assign_get_submissions",
    "mod_assign_save_grade",
    "mod_assign_save_submission",
    "mod_assign_save_user_extensions",
    "mod_assign_submit_for_grading",
    "mod_feedback_get_feedbacks_by_courses",
    "mod_page_get_pages_by_courses",
    "mod_quiz_get_overrides",
    "mod_quiz_get_quizzes_by_courses",
    "mod_quiz_get_user_attempts",
    "mod_quiz_get_user_best_grade",
    "mod_quiz_save_overrides",
)

# What bdtx's README asks a site to add to the recorded service (the completion pull).
README_ADDED_FUNCTIONS: tuple[str, ...] = ("mod_feedback_get_responses_analysis",)

# What learners and teachers use through the mobile-app style participant service.
PARTICIPANT_EXTRA_FUNCTIONS: tuple[str, ...] = (
    "mod_page_view_page",
    "mod_quiz_start_attempt",
    "mod_quiz_process_attempt",
    "mod_quiz_get_attempt_data",
    "mod_feedback_get_items",
    "mod_feedback_process_page",
)


@dataclass(frozen=True)
class SandboxOptions:
    """How the sandbox LMS behaves.

    ``max_input_vars``: PHP's limit; a body keeps its first ``max_input_vars + 1`` fields
    (None: no limit). ``debug``: developer debugging, which adds ``debuginfo`` to errors.
    ``enrolled_users_include_groups``: whether ``core_enrol_get_enrolled_users`` returns
    the optional ``groups`` key; the recorded site never returned it to the service user,
    so it is off by default. ``template_d0``: the start of the template course ``TPL-MODULE``;
    its activity dates are days after it. ``module_completed_activity``: the template also
    has the "module completed" activity the write-back overrides (README: a hidden page
    with manual completion, ID number ``module_completed``), and course completion is that
    activity alone; off, it is the recorded template (all five activities).
    ``template_ready``: without the dates that cannot be moved (see the field).
    ``service_functions`` /
    ``participant_functions``: what the service account's and the learners' tokens may call.
    """

    max_input_vars: int | None = 5000
    debug: bool = False
    site_name: str = "BDTX Sandbox LMS"
    release: str = RELEASE
    version: str = VERSION
    wwwroot: str = "http://127.0.0.1:8080"
    profile_fields: tuple[ProfileField, ...] = DEFAULT_PROFILE_FIELDS
    service_functions: tuple[str, ...] = SERVICE_FUNCTIONS + README_ADDED_FUNCTIONS
    participant_functions: tuple[str, ...] = SERVICE_FUNCTIONS + PARTICIPANT_EXTRA_FUNCTIONS
    enrolled_users_include_groups: bool = False
    token_seed: str = "bdtx-sandbox"
    with_template_course: bool = True
    template_d0: int = TEMPLATE_D0
    module_completed_activity: bool = False
    # The template as README "The schedule in Moodle" asks the IT team to set it: no
    # cut-off date, no "allow submissions from", no section restricted by date (the
    # recorded template has all three, and its dates cannot all be moved then).
    template_ready: bool = False
    extra_known_functions: tuple[str, ...] = field(default=())
