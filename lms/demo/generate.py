"""`flask demo generate --learners N`: synthetic schools and classes of students, agencies and
departments of public servants, and their learners, in bulk (Core executemany, not row-by-row
ORM) so a million learners take minutes, not hours."""

from __future__ import annotations

import hashlib
import hmac
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from lms import signals
from lms.bulk import insert_rows
from lms.db import session
from lms.errors import Conflict, InvalidState
from lms.people.models import Role, RoleGrant, User
from lms.pii import mask_personal_id, pii_key
from lms.units import queries as unit_queries
from lms.units.models import Unit, UnitKind, child_path

from .names import random_name
from .people import random_birth, synthetic_personal_id

CLASS_SIZE = 40
SCHOOL_SIZE = 800
DEPARTMENT_SIZE = 20
AGENCY_SIZE = 400
SERVANTS_SHARE = 0.10  # of the learners; the rest are students
BATCH = 20_000
ISSUER = "urn:hocvuso:synthetic"


def generate(learners: int, *, province_code: str = "01", prefix: str = "GEN",
             seed: int = 1, servants_share: float = SERVANTS_SHARE) -> dict[str, int]:
    """`learners` people in all, one learner grant each: students in schools of 800 and
    classes of 40, and public servants (`servants_share` of them, rounded down) in agencies of
    400 and departments of 20, each kind spread over the province's communes in turn. Raises
    Conflict when `prefix` was used before, InvalidState without units."""
    province = unit_queries.find_unit_by_code(province_code)
    if province is None:
        raise InvalidState("load the official units first: flask units load-official")
    if unit_queries.find_unit_by_code(f"{prefix}-S1") is not None:
        raise Conflict(f"synthetic data with prefix {prefix} exists; choose another --prefix")
    communes = list(session.execute(select(Unit).where(Unit.parent_id == province.id)
                                    .order_by(Unit.code)).scalars())
    servants = min(learners - 1, int(learners * max(0.0, servants_share)))
    students = learners - servants
    schools = max(1, math.ceil(students / SCHOOL_SIZE))
    classes = _create_units(prefix, schools, students, communes)
    agencies = math.ceil(servants / AGENCY_SIZE)
    departments = _create_units(prefix, agencies, servants, communes, servants=True)
    now = datetime.now(UTC)
    rng = random.Random(seed)
    key = pii_key()
    made = 0
    users, grants = User.__table__, RoleGrant.__table__
    # Students first (indexes 0 .. students - 1), then servants: one stream, one code path.
    for chunk in _chunks(_learner_rows(rng, key, prefix, learners, students), BATCH):
        ids = insert_rows(users, [row for row, _ in chunk], key="subject")
        insert_rows(grants, [
            {"user_id": ids[row["subject"]], "role": Role.LEARNER,
             "unit_id": (classes[index // CLASS_SIZE] if index < students
                         else departments[(index - students) // DEPARTMENT_SIZE]),
             "granted_at": now}
            for row, index in chunk])
        made += len(chunk)
    return {"schools": schools, "classes": len(classes), "agencies": agencies,
            "departments": len(departments), "servants": servants, "learners": made}


def add_downstream_data(province_code: str, prefix: str) -> dict[str, int]:
    """Let downstream packages add their data for the generated learners (rosters,
    assignments, enrolments) through lms.signals.demo_generated; their counts, merged."""
    province = unit_queries.find_unit_by_code(province_code)
    added: dict[str, int] = {}
    for _receiver, counts in signals.demo_generated.send(
            current_app._get_current_object(), province=province, prefix=prefix):
        added.update(counts or {})
    return added


def _create_units(prefix: str, schools: int, learners: int, communes: list[Unit], *,
                  servants: bool = False) -> list[int]:
    """Schools (codes <prefix>-S<n>) and their classes (-L<n>), or with `servants` agencies
    (<prefix>-A<n>, one per commune before any commune gets a second) and their departments
    (-P<n>); the leaves' ids in order."""
    if servants:
        top, leaf, size, leaf_size = UnitKind.AGENCY, UnitKind.DEPARTMENT, AGENCY_SIZE, \
            DEPARTMENT_SIZE
        letters, top_name, leaf_name = ("A", "P"), "Cơ quan hành chính số {}", "Phòng {}"
    else:
        top, leaf, size, leaf_size = UnitKind.SCHOOL, UnitKind.CLASS, SCHOOL_SIZE, CLASS_SIZE
        letters, top_name, leaf_name = ("S", "L"), "Trường tổng hợp số {}", "Lớp {}"
    class_rows: list[dict] = []
    school_rows = []
    for s in range(1, schools + 1):
        commune = communes[(s - 1) % len(communes)]
        code = f"{prefix}-{letters[0]}{s}"
        school_rows.append({"code": code, "name": top_name.format(s), "kind": top,
                            "parent_id": commune.id, "path": child_path(commune, code),
                            "depth": commune.depth + 1, "is_active": True})
    school_ids = _insert_units(school_rows)
    per_school = math.ceil(size / leaf_size)
    total_classes = math.ceil(learners / leaf_size)
    for c in range(total_classes):
        s = c // per_school
        code = f"{prefix}-{letters[0]}{s + 1}-{letters[1]}{c % per_school + 1}"
        class_rows.append({"code": code, "name": leaf_name.format(c % per_school + 1),
                           "kind": leaf, "parent_id": school_ids[s],
                           "path": f"{school_rows[s]['path']}{code}/",
                           "depth": school_rows[s]["depth"] + 1, "is_active": True})
    return _insert_units(class_rows)


def _insert_units(rows: list[dict]) -> list[int]:
    """Ids in the order of `rows`."""
    ids: dict[str, int] = {}
    now = datetime.now(UTC)
    for chunk in _chunks(iter(rows), BATCH):
        ids.update(insert_rows(Unit.__table__, [{**r, "created_at": now} for r in chunk],
                               key="code"))
    return [ids[row["code"]] for row in rows]


def _learner_rows(rng: random.Random, key: bytes, prefix: str, count: int,
                  students: int) -> Iterator[tuple[dict, int]]:
    """Students (born 2008-2018) up to index `students`, then public servants (1966-2003)."""
    now = datetime.now(UTC)
    for index in range(count):
        female = rng.random() < 0.5
        born = random_birth(rng, 2008, 2018) if index < students else \
            random_birth(rng, 1966, 2003)
        pid = synthetic_personal_id(rng, "001", born, female, index)
        yield ({"issuer": ISSUER, "subject": f"{prefix}-{index}",
                "full_name": random_name(rng, female), "birth_on": born,
                # Keyed with the prefix: synthetic serials repeat between runs, and the
                # column is unique. Nobody signs in as these people.
                "personal_id_hash": hmac.new(key, f"{prefix}:{pid}".encode(),
                                             hashlib.sha256).hexdigest(),
                "personal_id_masked": mask_personal_id(pid), "is_active": True,
                "created_at": now}, index)


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
