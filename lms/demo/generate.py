"""`flask demo generate --learners N`: synthetic schools, classes and learners in bulk
(Core executemany, not row-by-row ORM) so a million learners take minutes, not hours."""

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
BATCH = 20_000
ISSUER = "urn:hocvuso:synthetic"


def generate(learners: int, *, province_code: str = "01", prefix: str = "GEN",
             seed: int = 1) -> dict[str, int]:
    """Schools of 800 and classes of 40 spread over the province's communes, one learner
    grant each. Raises Conflict when `prefix` was used before, InvalidState without units."""
    province = unit_queries.find_unit_by_code(province_code)
    if province is None:
        raise InvalidState("load the official units first: flask units load-official")
    if unit_queries.find_unit_by_code(f"{prefix}-S1") is not None:
        raise Conflict(f"synthetic data with prefix {prefix} exists; choose another --prefix")
    communes = list(session.execute(select(Unit).where(Unit.parent_id == province.id)
                                    .order_by(Unit.code)).scalars())
    schools = max(1, math.ceil(learners / SCHOOL_SIZE))
    classes = _create_units(prefix, schools, learners, communes)
    now = datetime.now(UTC)
    rng = random.Random(seed)
    key = pii_key()
    made = 0
    users, grants = User.__table__, RoleGrant.__table__
    for chunk in _chunks(_learner_rows(rng, key, prefix, learners), BATCH):
        ids = insert_rows(users, [row for row, _ in chunk], key="subject")
        insert_rows(grants, [
            {"user_id": ids[row["subject"]], "role": Role.LEARNER,
             "unit_id": classes[index // CLASS_SIZE], "granted_at": now}
            for row, index in chunk])
        made += len(chunk)
    return {"schools": schools, "classes": len(classes), "learners": made}


def add_downstream_data(province_code: str, prefix: str) -> dict[str, int]:
    """Let downstream packages add their data for the generated learners (rosters,
    assignments, enrolments) through lms.signals.demo_generated; their counts, merged."""
    province = unit_queries.find_unit_by_code(province_code)
    added: dict[str, int] = {}
    for _receiver, counts in signals.demo_generated.send(
            current_app._get_current_object(), province=province, prefix=prefix):
        added.update(counts or {})
    return added


def _create_units(prefix: str, schools: int, learners: int, communes: list[Unit]) -> list[int]:
    class_rows: list[dict] = []
    school_rows = []
    for s in range(1, schools + 1):
        commune = communes[(s - 1) % len(communes)]
        school_rows.append({"code": f"{prefix}-S{s}", "name": f"Trường tổng hợp số {s}",
                            "kind": UnitKind.SCHOOL, "parent_id": commune.id,
                            "path": child_path(commune, f"{prefix}-S{s}"),
                            "depth": commune.depth + 1, "is_active": True})
    school_ids = _insert_units(school_rows)
    per_school = math.ceil(SCHOOL_SIZE / CLASS_SIZE)
    total_classes = math.ceil(learners / CLASS_SIZE)
    for c in range(total_classes):
        s = c // per_school
        code = f"{prefix}-S{s + 1}-L{c % per_school + 1}"
        class_rows.append({"code": code, "name": f"Lớp {c % per_school + 1}",
                           "kind": UnitKind.CLASS, "parent_id": school_ids[s],
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


def _learner_rows(rng: random.Random, key: bytes, prefix: str,
                  count: int) -> Iterator[tuple[dict, int]]:
    now = datetime.now(UTC)
    for index in range(count):
        female = rng.random() < 0.5
        born = random_birth(rng, 2008, 2018)
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
