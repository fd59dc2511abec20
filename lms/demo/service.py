"""`flask demo load`: one demo province subtree with schools, classes, agencies, departments,
learners and an admin and officer at every level. Idempotent. Flush, never commit."""

from __future__ import annotations

import random

from flask import current_app
from sqlalchemy import select

from lms import signals
from lms.auth.devidp.service import register_citizen
from lms.db import session
from lms.errors import InvalidState
from lms.people import service as people
from lms.people.models import Role, User
from lms.units import queries as unit_queries
from lms.units import service as units
from lms.units.models import Unit, UnitKind

from .names import random_name
from .people import random_birth, synthetic_personal_id

PROVINCE = "08"  # Tuyên Quang
ID_PREFIX = "008"  # its pre-2025 place-of-registration code
COMMUNES = 3
STUDENTS_PER_CLASS = 10
STAFF_PER_DEPARTMENT = 6
SCHOOLS = [  # (commune index or None for the province, name, classes)
    (0, "Trường Tiểu học {c}", ["Lớp 4A", "Lớp 5A"]),
    (0, "Trường Trung học cơ sở {c}", ["Lớp 6A", "Lớp 7A", "Lớp 8A", "Lớp 9A"]),
    (1, "Trường Tiểu học {c}", ["Lớp 4A", "Lớp 5A"]),
    (1, "Trường Trung học cơ sở {c}", ["Lớp 6A", "Lớp 9A"]),
    (1, "Trường Phổ thông Dân tộc bán trú {c}", ["Lớp 6A", "Lớp 8A"]),
    (2, "Trường Tiểu học {c}", ["Lớp 3A", "Lớp 5A"]),
    (2, "Trường Trung học cơ sở {c}", ["Lớp 7A", "Lớp 8A", "Lớp 9A"]),
    (2, "Trường Phổ thông Dân tộc bán trú {c}", ["Lớp 6A", "Lớp 7A"]),
    (None, "Trường Trung học phổ thông Chuyên {p}", ["Lớp 10 Toán", "Lớp 11 Văn", "Lớp 12 Anh"]),
    (None, "Trường Phổ thông Dân tộc nội trú {p}", ["Lớp 10A", "Lớp 11A", "Lớp 12A"]),
]
AGENCIES = [  # (commune index or None, name, departments)
    (None, "Sở Giáo dục và Đào tạo {p}", ["Văn phòng Sở", "Phòng Giáo dục phổ thông"]),
    (None, "Sở Nội vụ {p}", ["Văn phòng Sở", "Phòng Công chức, viên chức"]),
    (0, "Ủy ban nhân dân {c}", ["Văn phòng HĐND và UBND", "Phòng Văn hóa - Xã hội"]),
]


ROLE_LABELS = {Role.LEARNER: "Người học", Role.UNIT_ADMIN: "Quản trị đơn vị",
               Role.OFFICER: "Cán bộ quản lý", Role.SYSTEM_ADMIN: "Quản trị hệ thống"}


def _citizen(user: User, personal_ids: dict[str, str], description: str, level: int = 2) -> None:
    register_citizen(user.subject, user.full_name, user.birth_on, personal_ids[user.subject],
                     level=level, description=description[:200])


def demo_exists() -> bool:
    return unit_queries.find_unit_by_code(f"DEMO-{PROVINCE}-S01") is not None


def load_demo(seed: int = 2025) -> dict[str, int]:
    """Create the demo province's units and people once; a second call changes nothing.

    Raises InvalidState when the official units have not been loaded.
    """
    if demo_exists():
        return {"units": 0, "learners": 0, "staff": 0}
    province = unit_queries.find_unit_by_code(PROVINCE)
    root = unit_queries.find_unit_by_code(current_app.config["ROOT_UNIT_CODE"])
    if province is None or root is None:
        raise InvalidState("load the official units first: flask units load-official")
    rng = random.Random(seed)
    communes = list(session.execute(
        select(Unit).where(Unit.parent_id == province.id).order_by(Unit.code).limit(COMMUNES)
    ).scalars())
    issuer = current_app.config["DEV_IDP_ISSUER"]
    counter = iter(range(1, 1_000_000))
    learners: list[tuple[User, Unit]] = []
    staff: list[tuple[User, Role, Unit]] = []

    personal_ids: dict[str, str] = {}

    def person(adult: bool, female: bool | None = None) -> User:
        n = next(counter)
        female = rng.random() < 0.5 if female is None else female
        born = random_birth(rng, 1970, 1998) if adult else random_birth(rng, 2008, 2017)
        subject = f"demo-{n:05d}"
        personal_ids[subject] = synthetic_personal_id(rng, ID_PREFIX, born, female, n)
        return people.new_user(issuer=issuer, subject=subject, full_name=random_name(rng, female),
                               birth_on=born, personal_id=personal_ids[subject])

    def place(template: str, commune_index: int | None) -> tuple[Unit, str]:
        if commune_index is None:
            return province, template.format(p=province.name.removeprefix("Tỉnh ").strip())
        commune = communes[commune_index]
        return commune, template.format(c=commune.name)

    created = 0
    for number, (where, template, classes) in enumerate(SCHOOLS, start=1):
        parent, name = place(template, where)
        school = units.new_unit(f"DEMO-{PROVINCE}-S{number:02d}", name, UnitKind.SCHOOL, parent)
        created += 1
        staff.append((person(adult=True), Role.UNIT_ADMIN, school))
        for index, class_name in enumerate(classes, start=1):
            klass = units.new_unit(f"{school.code}-L{index}", class_name, UnitKind.CLASS, school)
            created += 1
            learners += [(person(adult=False), klass) for _ in range(STUDENTS_PER_CLASS)]
    for number, (where, template, departments) in enumerate(AGENCIES, start=1):
        parent, name = place(template, where)
        agency = units.new_unit(f"DEMO-{PROVINCE}-A{number:02d}", name, UnitKind.AGENCY, parent)
        created += 1
        staff.append((person(adult=True), Role.UNIT_ADMIN, agency))
        for index, dept_name in enumerate(departments, start=1):
            dept = units.new_unit(f"{agency.code}-P{index}", dept_name, UnitKind.DEPARTMENT,
                                  agency)
            created += 1
            learners += [(person(adult=True), dept) for _ in range(STAFF_PER_DEPARTMENT)]
    staff.append((person(adult=True), Role.SYSTEM_ADMIN, root))
    staff.append((person(adult=True), Role.OFFICER, root))
    staff.append((person(adult=True), Role.OFFICER, province))
    staff += [(person(adult=True), Role.OFFICER, commune) for commune in communes]
    session.flush()
    for user, unit in learners:
        people.grant_role(None, role=Role.LEARNER, unit_code=unit.code, user_id=user.id)
    for user, role, unit in staff:
        people.grant_role(None, role=role, unit_code=unit.code, user_id=user.id)
    # The development identity provider's register: the same people, able to sign in.
    for user, role, unit in staff:
        _citizen(user, personal_ids, f"{ROLE_LABELS[role]} · {unit.name}")
    for user, unit in learners:
        _citizen(user, personal_ids, f"{ROLE_LABELS[Role.LEARNER]} · {unit.name}", level=1)
    signals.demo_loaded.send(current_app._get_current_object(), province=province,
                             learners=learners, staff=staff)
    return {"units": created, "learners": len(learners), "staff": len(staff)}
