"""Settings: TOML file, environment overrides, one clear message per bad setting."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from config.settings import DEFAULT_CONFIG_FILE, SettingsError, load_settings
from sync.service import thresholds


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "BDTX_CONFIG",
        "BDTX_LMS_URL",
        "BDTX_LMS_TOKEN",
        "BDTX_LMS_TOKEN_FILE",
        "BDTX_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bdtx.toml"
    path.write_text(text, "utf-8")
    return path


def test_shipped_config_defines_the_2023_runs_on_the_sandbox() -> None:
    settings = load_settings(DEFAULT_CONFIG_FILE)
    assert settings.lms.is_sandbox
    assert settings.database.url.startswith("sqlite:")
    assert [(r.id, r.module) for r in settings.runs] == [
        ("M4-2023", 4),
        ("M5-2023", 5),
        ("M9-2023", 9),
    ]
    starts = [r.start for r in settings.runs]
    # 16-day runs, one after the other: no two overlap for one audience.
    assert all((later - earlier).days >= 16 for earlier, later in itertools.pairwise(starts))


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[lms]\nurl = "https://a.example.vn"\nfield_budget = 4000\n')
    monkeypatch.setenv("BDTX_LMS_URL", "https://b.example.vn/")
    monkeypatch.setenv("BDTX_DATABASE_URL", "postgresql://bdtx@db/bdtx")
    settings = load_settings(path)
    assert settings.lms.url == "https://b.example.vn"
    assert settings.lms.field_budget == 4000
    assert settings.database.url == "postgresql+psycopg://bdtx@db/bdtx"


def test_bdtx_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDTX_CONFIG", str(write(tmp_path, "max_class_size = 46\n")))
    assert load_settings().max_class_size == 46


def test_token_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[lms]\nurl = "https://a.example.vn"\n')
    assert load_settings(path).lms_token() is None
    with pytest.raises(SettingsError, match="BDTX_LMS_TOKEN"):
        load_settings(path).require_lms_token()
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n", "utf-8")
    monkeypatch.setenv("BDTX_LMS_TOKEN_FILE", str(token_file))
    assert load_settings(path).require_lms_token().get_secret_value() == "from-file"
    monkeypatch.setenv("BDTX_LMS_TOKEN", "from-env")
    settings = load_settings(path)
    assert settings.require_lms_token().get_secret_value() == "from-env"
    assert "from-env" not in repr(settings)
    assert "from-env" not in str(settings.model_dump())


def test_unreadable_token_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDTX_LMS_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match=r"lms.token_file \(BDTX_LMS_TOKEN_FILE\): cannot read"):
        load_settings(write(tmp_path, "")).lms_token()


def test_token_in_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="must not be written"):
        load_settings(write(tmp_path, '[lms]\ntoken = "abc"\n'))


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (
            '[lms]\nurl = "ftp://x"\n',
            {},
            r"Setting lms.url \(BDTX_LMS_URL\): must start with https://",
        ),
        ("", {"BDTX_LMS_URL": "lms.example.vn"}, r"lms.url \(BDTX_LMS_URL\)"),
        (
            '[database]\nurl = "mysql://x"\n',
            {},
            r"database.url \(BDTX_DATABASE_URL\): must be a sqlite",
        ),
        ("[lms]\nfield_budget = 10\n", {}, r"lms.field_budget .*greater than or equal to 100"),
        ("[lms]\nurll = 1\n", {}, r"lms.urll .*unknown setting"),
        ("max_class_size = 'big'\n", {}, r"Setting max_class_size: "),
        ("[[runs]]\nid = 'M4'\nmodule = 4\n", {}, r"Setting runs\[M4\]\.start: Field required"),
        ("[[runs]]\nmodule = 4\n", {}, r"Setting runs\[1\]\.id: Field required"),
    ],
)
def test_one_message_names_the_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings(write(tmp_path, text))


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[lms\n"))
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_run_is_named() -> None:
    with pytest.raises(SettingsError, match="no run with id 'M7-2023'"):
        load_settings(DEFAULT_CONFIG_FILE).run("M7-2023")


def test_the_three_gates_read_their_thresholds_from_their_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[roster]\nmax_leavers = 7\nmax_leavers_percent = 1.5\n"
        "[classes]\nmax_moves = 8\nmax_moves_percent = 2.5\n"
        "[provisioning]\nmax_group_moves = 9\nmax_group_moves_percent = 3.5\n",
    )
    limits = thresholds(load_settings(path))
    assert (limits.max_leavers, limits.max_leavers_percent) == (7, 1.5)
    assert (limits.max_class_moves, limits.max_class_moves_percent) == (8, 2.5)
    assert (limits.max_group_moves, limits.max_group_moves_percent) == (9, 3.5)
    with pytest.raises(SettingsError, match=r"classes\.max_moves"):
        load_settings(write(tmp_path, "[classes]\nmax_moves = -1\n"))


def test_what_a_missing_modules_123_column_means(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "")).roster.assume_modules_123 is None
    done = load_settings(write(tmp_path, '[roster]\nassume_modules_123 = "not_done"\n'))
    assert done.roster.assume_modules_123 == "not_done"
    with pytest.raises(SettingsError, match=r"roster.assume_modules_123"):
        load_settings(write(tmp_path, '[roster]\nassume_modules_123 = "yes"\n'))


def test_concurrency_is_tuned_on_a_real_site_and_fixed_on_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = load_settings(write(tmp_path, '[lms]\nurl = "https://lms.example.vn"\n')).lms
    assert (real.auto_concurrency, real.read_concurrency, real.max_concurrency_ceiling) == (
        True,
        4,
        4,
    )
    sandbox = load_settings(write(tmp_path, "")).lms
    assert (sandbox.auto_concurrency, sandbox.read_concurrency) == (False, 1)
    monkeypatch.setenv("BDTX_LMS_MAX_CONCURRENCY", "3")
    fixed = load_settings(write(tmp_path, '[lms]\nurl = "https://lms.example.vn"\n')).lms
    assert (fixed.auto_concurrency, fixed.read_concurrency) == (False, 3)
    monkeypatch.setenv("BDTX_LMS_MAX_CONCURRENCY", "auto")
    assert load_settings(write(tmp_path, "")).lms.auto_concurrency
    monkeypatch.setenv("BDTX_LMS_MAX_CONCURRENCY", "17")
    with pytest.raises(SettingsError, match=r"lms.max_concurrency .*1 to 16, or 'auto'"):
        load_settings(write(tmp_path, ""))
