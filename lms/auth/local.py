"""School-issued accounts for minors without VNeID: created by a unit admin for a class, signed
in with a username and a one-time code that must be replaced at first sign-in. Flush only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from lms import policy
from lms.auth.models import LocalAccount
from lms.db import session, utcnow
from lms.errors import NotFound, ValidationFailed
from lms.people import service as people
from lms.people.models import Role, User
from lms.pii import check_personal_id, hash_personal_id
from lms.units import queries as unit_queries
from lms.units.models import UnitKind

LOCAL_ISSUER = "urn:hocvuso:local"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# No 0/O, 1/I/L: a code copied from a printed sheet by a child must not be misread.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Student:
    full_name: str
    birth_on: date
    personal_id: str | None = None


@dataclass(frozen=True)
class IssuedAccount:
    full_name: str
    username: str
    one_time_code: str


def _code(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def create_class_accounts(actor: User, class_code: str,
                          students: list[Student]) -> list[IssuedAccount]:
    """Accounts (learners of the class) with one-time codes, returned once for the sheet.

    Raises NotFound (class outside the actor's scope), ValidationFailed (not a class, or a
    personal ID that is malformed or already belongs to someone).
    """
    klass = unit_queries.get_unit(class_code, actor)
    if not policy.can(actor, policy.Permission.MANAGE_UNITS, klass):
        raise NotFound()
    if klass.kind is not UnitKind.CLASS:
        raise ValidationFailed(errors={"unit": [_("Accounts are created for a class.")]})
    errors: dict[str, list[str]] = {}
    for index, student in enumerate(students, start=1):
        if student.personal_id:
            if check_personal_id(student.personal_id, student.birth_on):
                errors[f"line {index}"] = [_("The personal ID does not match the birth date.")]
            elif _holder(student.personal_id) is not None:
                errors[f"line {index}"] = [_("This person already has an account.")]
    if errors:
        raise ValidationFailed(errors=errors)
    issued = []
    for student in students:
        username = f"{klass.code[:24]}-{_code(5)}".lower()
        code = _code(8)
        user = people.new_user(issuer=LOCAL_ISSUER, subject=username,
                               full_name=student.full_name, birth_on=student.birth_on,
                               personal_id=student.personal_id)
        session.flush()
        session.add(LocalAccount(user_id=user.id, username=username,
                                 secret_hash=generate_password_hash(code),
                                 created_by_id=actor.id))
        people.grant_role(None, role=Role.LEARNER, unit_code=klass.code, user_id=user.id)
        issued.append(IssuedAccount(user.full_name, username, code))
    session.flush()
    return issued


def _holder(personal_id: str) -> User | None:
    return session.execute(select(User).where(
        User.personal_id_hash == hash_personal_id(personal_id))).scalar_one_or_none()


def authenticate(username: str, secret: str) -> tuple[User, LocalAccount] | None:
    """The account if the secret is right and the account is neither locked nor disabled.
    Failures count towards a lockout, so a class sheet cannot be guessed."""
    account = session.execute(select(LocalAccount).where(
        LocalAccount.username == username.strip().lower())).scalar_one_or_none()
    now = utcnow()
    if account is None or account.disabled_at is not None:
        check_password_hash(generate_password_hash("x"), secret)  # same time as a real check
        return None
    if account.locked_until and account.locked_until > now:
        return None
    if not check_password_hash(account.secret_hash, secret):
        account.failed_attempts += 1
        if account.failed_attempts >= MAX_FAILURES:
            account.locked_until, account.failed_attempts = now + LOCKOUT, 0
        session.flush()
        return None
    account.failed_attempts, account.locked_until = 0, None
    user = session.get(User, account.user_id)
    if user is None or not user.is_active:
        return None
    session.flush()
    return user, account


def change_secret(account: LocalAccount, new_secret: str) -> None:
    """Replace the one-time code. Raises ValidationFailed for a weak password."""
    if len(new_secret) < MIN_PASSWORD or (new_secret.isdigit() and len(set(new_secret)) < 3):
        raise ValidationFailed(errors={"password": [
            _("Use at least %(n)s characters.", n=MIN_PASSWORD)]})
    account.secret_hash = generate_password_hash(new_secret)
    account.must_change = False
    session.flush()


def find_account(user_id: int) -> LocalAccount | None:
    return session.execute(select(LocalAccount).where(LocalAccount.user_id == user_id)
                           ).scalar_one_or_none()


def take_over(user: User, issuer: str, subject: str) -> None:
    """A VNeID sign-in with the ID of a school-issued account becomes that account: same user,
    same progress; the school-issued credential stops working."""
    user.issuer, user.subject = issuer, subject
    account = find_account(user.id)
    if account is not None:
        account.disabled_at = utcnow()
    session.flush()


def find_account_by_id(account_id: int) -> LocalAccount | None:
    return session.get(LocalAccount, account_id)


def user_of(account: LocalAccount) -> User:
    user = session.get(User, account.user_id)
    if user is None:
        raise NotFound()
    return user
