"""The plain, frozen inputs of report documents (the monthly completion report). No database
access here: queries build these, the renderers in enrollment/reports/pdf.py read them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Figures:
    """Completion counts against the roster. expected = completed + in_progress + not_started
    (exempt people are not expected); overdue counts those not completed after the due date.
    Raises ValueError when the counts do not add up."""

    expected: int
    completed: int
    in_progress: int
    not_started: int
    overdue: int
    exempt: int

    def __post_init__(self) -> None:
        counts = (self.expected, self.completed, self.in_progress, self.not_started,
                  self.overdue, self.exempt)
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in counts):
            raise ValueError(f"counts must be non-negative integers: {counts}")
        if self.completed + self.in_progress + self.not_started != self.expected:
            raise ValueError(f"completed + in progress + not started != expected: {counts}")
        if self.overdue > self.expected - self.completed:
            raise ValueError(f"more overdue than not completed: {counts}")

    @property
    def rate(self) -> Decimal | None:
        """Completed as a percentage of expected, one decimal, None when nobody is expected.
        Rounded down, so that "100,0" is only ever printed when everyone has completed."""
        if not self.expected:
            return None
        return (Decimal(100 * self.completed) / self.expected).quantize(_TENTH, ROUND_DOWN)

    @property
    def gap(self) -> int:
        """People still to complete before the unit reaches the 100% target."""
        return self.expected - self.completed


@dataclass(frozen=True)
class ChildRow:
    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class MonthlyReport:
    """One unit's monthly completion report, as frozen in a snapshot.

    governing_body: the body above the issuing unit ("UBND TỈNH TUYÊN QUANG"); unit_name: the
    issuing unit; number: the document number ("15/BC-SGDĐT"); place: the place name of the
    date line; period: "YYYY-MM"; courses: course titles the figures cover; recipients: the
    "Nơi nhận" list without the filing line "Lưu: VT", which is always added."""

    governing_body: str
    unit_name: str
    unit_code: str
    number: str
    place: str
    issued_on: date
    period: str
    courses: tuple[str, ...]
    figures: Figures
    children: tuple[ChildRow, ...]
    snapshot_id: str
    content_hash: str
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]

    def __post_init__(self) -> None:
        if not _PERIOD.fullmatch(self.period):
            raise ValueError(f"period must be YYYY-MM: {self.period!r}")

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def month(self) -> int:
        return int(self.period[5:])
