"""The one error a user sees when a file is not a roster.

``RosterFormatError`` is raised for the whole file (wrong sheet, no recognisable header,
missing required columns, an empty or binary file, an undecodable CSV). Problems of
single rows are never exceptions: they become reasons on the row's outcome.
"""

from __future__ import annotations

__all__ = ["BadHeaderError", "RosterFormatError"]


class RosterFormatError(Exception):
    """A file that cannot be read as the expected list.

    ``problem`` is a Vietnamese sentence for the user; ``file`` and ``sheet`` say where.
    ``str(error)`` joins them into one message, ready to print.
    """

    def __init__(self, problem: str, *, file: str, sheet: str | None = None) -> None:
        self.problem = problem
        self.file = file
        self.sheet = sheet
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"Tệp “{self.file}”" + (f", trang tính “{self.sheet}”" if self.sheet else "")
        return f"{where}: {self.problem}"

    def __str__(self) -> str:
        return self.message


class BadHeaderError(RosterFormatError):
    """The header row was found, but cannot be used as it is (repeated columns...).

    Unlike other format errors, trying the file as another kind of list is pointless.
    """
