"""Per-school account sheets: the first passwords the Sở hands to each school.

Written only when the software generates passwords (``credentials = "generate"``): one
workbook per school, in Vietnamese, readable by the owner only (mode 600). Accounts must
change the password at first login (the sync sets Moodle's force-change preference).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from reports.xlsx import SafeWorkbook
from sync.apply import Credential

WIDTHS = (6, 14, 30, 24, 18, 34)
HEADERS = ("STT", "Mã định danh", "Họ và tên", "Tên đăng nhập", "Mật khẩu lần đầu", "Email")
NOTE = "Lưu ý: mật khẩu chỉ dùng một lần; hệ thống yêu cầu đổi mật khẩu khi đăng nhập lần đầu."


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "khong-ro-truong"


def write_account_sheets(
    credentials: Iterable[Credential],
    people: Mapping[str, tuple[str, str]],
    schools: Mapping[str, str],
    folder: Path,
) -> list[Path]:
    """One workbook per school; ``people``: identity -> (full name, e-mail).

    Returns the files written. Existing sheets of a school get a numbered sibling, so a
    second batch of new accounts never overwrites the first.
    """
    by_school: dict[str, list[Credential]] = {}
    for credential in credentials:
        by_school.setdefault(credential.school_code, []).append(credential)
    if not by_school:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    written = []
    for school_code, rows in sorted(by_school.items()):
        workbook = SafeWorkbook()
        sheet = workbook.sheet("Tài khoản", widths=WIDTHS, freeze="A4")
        sheet.title_block([f"{school_code} — {schools.get(school_code, '')}", NOTE])
        sheet.header(HEADERS)
        for number, credential in enumerate(sorted(rows, key=lambda c: c.identity_code), start=1):
            name, email = people.get(credential.identity_code, ("", ""))
            sheet.row(
                [
                    number,
                    credential.identity_code,
                    name,
                    credential.username,
                    credential.password,
                    email,
                ]
            )
        path = folder / f"tai-khoan-{_safe(school_code)}.xlsx"
        suffix = 2
        while path.exists():
            path = folder / f"tai-khoan-{_safe(school_code)}-{suffix}.xlsx"
            suffix += 1
        workbook.save(path)
        os.chmod(path, 0o600)
        written.append(path)
    return written
