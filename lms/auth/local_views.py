"""Pages for school-issued accounts: the student's sign-in and first password, and the unit
admin's form that creates a class's accounts and prints their one-time codes."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from lms import limits, policy
from lms.auth import local, service
from lms.auth.redirects import safe_next
from lms.db import unit_of_work
from lms.errors import NotFound, ValidationFailed
from lms.pii import normalize_name
from lms.units import queries as unit_queries

bp = Blueprint("local_auth", __name__, template_folder="templates")
PENDING = "local_pending_change"
PENDING_NEXT = "local_pending_next"
LOCAL_LEVEL = 1  # a school-issued account is never more than level 1


@bp.route("/auth/local", methods=["GET", "POST"])
@limits.sign_in(methods=["POST"])
def sign_in():
    error = None
    if request.method == "POST":
        # A wrong code answers 401 but its count must stay: the lockout depends on it.
        unit_of_work()["commit_on_error"] = True
        found = local.authenticate(request.form.get("username", ""),
                                   request.form.get("code", ""))
        if found is None:
            error = _("The username or code is not right, or the account is locked for a "
                      "few minutes after too many attempts.")
        else:
            user, account = found
            session.clear()
            if account.must_change:
                session[PENDING] = account.id
                session[PENDING_NEXT] = safe_next(request.args.get("next"))
                return redirect(url_for("local_auth.first_password"), 303)
            return _open(user, request.args.get("next"))
    return render_template("auth/local_login.html", error=error), 401 if error else 200


@bp.route("/auth/local/password", methods=["GET", "POST"])
def first_password():
    account_id = session.get(PENDING)
    account = local.find_account_by_id(account_id) if account_id else None
    if account is None:
        return redirect(url_for("local_auth.sign_in"))
    errors = {}
    if request.method == "POST":
        new, again = request.form.get("password", ""), request.form.get("password_again", "")
        try:
            if new != again:
                raise ValidationFailed(errors={"password_again": [
                    _("The two passwords are not the same.")]})
            local.change_secret(account, new)
        except ValidationFailed as exc:
            errors = exc.errors or {}
        else:
            session.pop(PENDING, None)
            return _open(local.user_of(account), session.pop(PENDING_NEXT, None))
    return render_template("auth/local_password.html", errors=errors), 422 if errors else 200


def _open(user, next_url):
    token = service.open_session(user, LOCAL_LEVEL)
    session.clear()
    user.session_token, user.session_level = token, LOCAL_LEVEL
    login_user(user)
    return redirect(safe_next(next_url), 303)


def _date(text: str) -> date | None:
    """dd/mm/yyyy, the Vietnamese convention."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text.strip())
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


_SEPARATORS = re.compile(r"\s*[;\t|]\s*")


def parse_students(text: str) -> tuple[list[local.Student], dict[str, list[str]]]:
    """One student a line: "Full name; dd/mm/yyyy[; personal ID]". Errors name the line."""
    students, errors = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = _SEPARATORS.split(line.strip())
        name = normalize_name(parts[0]) if parts else ""
        problems = []
        if not name or len(name) > 200:
            problems.append(_("The name is required (at most 200 characters)."))
        birth = _date(parts[1]) if len(parts) > 1 else None
        if birth is None:
            problems.append(_("The birth date must be dd/mm/yyyy."))
        personal_id = parts[2] if len(parts) > 2 and parts[2] else None
        if len(parts) > 3:
            problems.append(_("Too many fields."))
        if problems:
            errors[_("Line %(n)s", n=number)] = problems
        else:
            students.append(local.Student(name, birth, personal_id))  # type: ignore[arg-type]
    if not students and not errors:
        errors[_("Students")] = [_("Enter at least one student.")]
    if len(students) > 200:
        errors[_("Students")] = [_("At most 200 students at a time.")]
    return students, errors


@bp.route("/units/<code>/accounts", methods=["GET", "POST"])
@login_required
def class_accounts(code: str):
    user = current_user._get_current_object()
    klass = unit_queries.get_unit(code, user)
    if not policy.can(user, policy.Permission.MANAGE_UNITS, klass):
        raise NotFound()
    errors, text = {}, ""
    if request.method == "POST":
        text = request.form.get("students", "")
        students, errors = parse_students(text)
        if not errors:
            try:
                issued = local.create_class_accounts(user, klass.code, students)
            except ValidationFailed as exc:
                errors = exc.errors or {}
            else:
                return render_template("auth/class_sheet.html", unit=klass, issued=issued)
    return render_template("auth/class_accounts.html", unit=klass, errors=errors,
                           text=text), 422 if errors else 200
