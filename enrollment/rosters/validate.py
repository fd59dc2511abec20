"""Line-by-line checks of a roster file: every problem with its line, column and reason, in
the admin's language. Nothing here touches the database."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from lms.pii import check_personal_id, normalize_name

SYNONYMS = {
    "full_name": {"họ và tên", "họ tên", "họ và tên học sinh", "tên", "name", "full name"},
    "personal_id": {"số định danh cá nhân", "số định danh", "mã định danh", "số cccd", "cccd",
                    "căn cước", "số căn cước", "personal id", "id number"},
    "birth_date": {"ngày sinh", "ngày tháng năm sinh", "birth date", "date of birth"},
    "group_unit": {"lớp", "phòng ban", "phòng", "class", "department"},
    "sex": {"giới tính", "sex", "gender"},
    "group_label": {"nhóm", "tổ", "group"},
}
REQUIRED = {"full_name", "personal_id", "birth_date"}
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
SEXES = {"nam": "male", "nữ": "female", "male": "male", "female": "female", "m": "male",
         "f": "female"}


@dataclass
class Person:
    line: int
    full_name: str
    personal_id: str
    birth_on: date
    group_unit: str
    sex: str | None
    group_label: str | None


def parse_date(value: Any) -> date | None:
    """dd/mm/yyyy (the Vietnamese convention), ISO yyyy-mm-dd, or an XLSX date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if match := _DMY.fullmatch(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := _ISO.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def restore_number(value: int, birth_on: date | None) -> tuple[str | None, str | None]:
    """An ID Excel stored as a number lost its leading zeros. Put them back only when the
    result is the one consistent 12-digit ID; otherwise say why not."""
    digits = str(value)
    if len(digits) > 12:
        return None, _("has %(n)s digits, more than 12", n=len(digits))
    candidate = digits.zfill(12)
    if check_personal_id(candidate, birth_on):
        # The digits themselves are not repeated: the message goes to pages, CSV and the API.
        return None, _("was stored by Excel as a number of %(n)s digits: its leading zeros "
                       "are lost and cannot be restored with certainty; format the column as "
                       "Text and type the 12 digits", n=len(digits))
    return candidate, None


_TWELVE = re.compile(r"[0-9]{12}")


def check_id_text(value: str, birth_on: date | None) -> str | None:
    """Why a personal ID written as text is not acceptable, or None. The common case (a valid
    ID) costs one regex and one structure check; messages are built only for problems."""
    compact = value.strip()
    if _TWELVE.fullmatch(compact):
        problems = check_personal_id(compact, birth_on)
        return _explain(compact, problems) if problems else None
    if any(unicodedata.category(ch) == "Nd" and not ch.isascii() for ch in compact):
        return _("contains full-width or non-ASCII digits; type them again with ASCII digits")
    if re.fullmatch(r"[0-9Oo]{12}", compact) and re.search(r"[Oo]", compact):
        return _("contains the letter O instead of the digit 0")
    if not re.fullmatch(r"[0-9]*", compact):
        return _("may contain digits 0-9 only")
    return _("has %(n)s digits; a personal ID has 12", n=len(compact))


def _explain(compact: str, problems: list) -> str:
    messages = {
        "prefix": _("starts with %(code)s, which is not a place-of-registration code",
                    code=compact[:3]),
        "century": _("digit 4 (%(d)s) does not match the birth year: the ID or the birth date "
                     "has a typo", d=compact[3]),
        "year": _("digits 5-6 (%(d)s) do not match the birth year: the ID or the birth date "
                  "has a typo", d=compact[4:6]),
    }
    return "; ".join(messages.get(p.code, p.message) for p in problems) or None


def check_row(line: int, values: dict[str, Any], problems: list[dict]) -> Person | None:
    def bad(column: str, message: str) -> None:
        problems.append({"line": line, "column": column, "message": message})

    before = len(problems)
    name = normalize_name(str(values.get("full_name", "")))
    if not name:
        bad("full_name", _("The name is required."))
    elif len(name) > 200 or not name.isprintable():  # control characters are not printable
        bad("full_name", _("The name is too long or contains control characters."))
    elif name[0] in "=+-@":
        bad("full_name", _("A name may not start with =, +, - or @."))
    birth_on = parse_date(values.get("birth_date", ""))
    if birth_on is None:
        bad("birth_date", _("Not a date: use dd/mm/yyyy, e.g. 05/09/2012."))
    elif not date(1900, 1, 1) <= birth_on <= date.today():  # noqa: DTZ011 (a calendar date)
        bad("birth_date", _("The birth date is not plausible."))
    raw_id = values.get("personal_id", "")
    if isinstance(raw_id, int):
        personal_id, problem = restore_number(raw_id, birth_on)
    else:
        personal_id = str(raw_id).strip()
        problem = check_id_text(personal_id, birth_on) if personal_id else _(
            "The personal ID is required.")
    if problem:
        bad("personal_id", problem)
    sex_text = str(values.get("sex", "")).strip().casefold()
    if sex_text and sex_text not in SEXES:
        bad("sex", _("Write Nam or Nữ, or leave it empty."))
    if len(problems) > before:
        return None
    return Person(line=line, full_name=name, personal_id=personal_id or "",
                  birth_on=birth_on,  # type: ignore[arg-type]
                  group_unit=normalize_name(str(values.get("group_unit", ""))),
                  sex=SEXES.get(sex_text), group_label=str(values.get("group_label", "")
                                                           ).strip()[:100] or None)
