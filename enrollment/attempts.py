"""Quiz attempts as a state machine: in progress → graded (on submit) or abandoned (time ran
out). The server draws the questions and option order, grades, and keeps the clock; correct
answers leave the server only once released. Flush only."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from courses import queries as course_queries
from courses.models import AnswerRelease, QuestionType, Quiz
from enrollment import service
from enrollment.models import Attempt, AttemptQuestion, AttemptState, Enrollment
from lms.db import session, utcnow
from lms.errors import InvalidState, NotFound, ValidationFailed
from lms.people.models import User

GRACE = timedelta(seconds=5)  # a submit sent as the timer hits zero still counts


def in_progress(enrollment: Enrollment, quiz: Quiz) -> Attempt | None:
    return session.execute(select(Attempt).where(
        Attempt.enrollment_id == enrollment.id, Attempt.quiz_id == quiz.id,
        Attempt.state == AttemptState.IN_PROGRESS).options(selectinload(Attempt.questions))
    ).scalar_one_or_none()


def attempts_of(enrollment: Enrollment, quiz: Quiz) -> list[Attempt]:
    return list(session.execute(select(Attempt).where(
        Attempt.enrollment_id == enrollment.id, Attempt.quiz_id == quiz.id)
        .order_by(Attempt.number)).scalars())


def start(user: User, enrollment: Enrollment) -> Attempt:
    """The running attempt, or a new one with freshly drawn questions.

    Raises NotFound (no quiz), InvalidState (lessons unread, no attempts left, passed).
    """
    course = course_queries.get_course(enrollment.course_id)
    if course.quiz is None:
        raise NotFound()
    quiz = course_queries.quiz_with_pool(course.quiz.id)
    # One read decides: a running attempt is resumed, else the limits apply to the same rows
    # (two separate reads could straddle another request's commit).
    previous = attempts_of(enrollment, quiz)
    if any(a.state is AttemptState.IN_PROGRESS for a in previous):
        return expire_if_late(in_progress(enrollment, quiz))  # type: ignore[arg-type]
    if quiz.requires_all_lessons and service.count_read(enrollment) < len(
            course_queries.lessons_of(course.id)):
        raise InvalidState(_("Read every lesson before the quiz."))
    if any(a.passed for a in previous):
        raise InvalidState(_("You have already passed this quiz."))
    if quiz.attempts_allowed and len(previous) >= quiz.attempts_allowed:
        raise InvalidState(_("No attempts left."))
    number = (max((a.number for a in previous), default=0)) + 1
    try:
        # The unique (user, quiz, number) makes a second concurrent start fail here.
        with session.begin_nested():
            attempt = _draw(user, enrollment, quiz, number)
            session.add(attempt)
    except IntegrityError:
        running = in_progress(enrollment, quiz)
        if running is None:
            raise InvalidState(_("No attempts left.")) from None
        return running
    return attempt


def _draw(user: User, enrollment: Enrollment, quiz: Quiz, number: int) -> Attempt:
    rng = random.Random(secrets.randbits(64))
    always = [q for q in quiz.questions if q.always_included]
    others = [q for q in quiz.questions if not q.always_included]
    drawn = always + rng.sample(others, quiz.questions_per_attempt - len(always))
    if quiz.shuffle_questions:
        rng.shuffle(drawn)
    now = utcnow()
    attempt = Attempt(enrollment_id=enrollment.id, user_id=user.id, quiz_id=quiz.id,
                      number=number, state=AttemptState.IN_PROGRESS, started_at=now,
                      total=len(drawn), deadline_at=now + timedelta(
                          seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None)
    for position, question in enumerate(drawn, start=1):
        order = [o.id for o in question.options]
        if quiz.shuffle_options and question.type is not QuestionType.TRUE_FALSE:
            rng.shuffle(order)
        attempt.questions.append(AttemptQuestion(position=position, question_id=question.id,
                                                 option_order=order, selected=[]))
    return attempt


def get_attempt(user: User, attempt_id: int, *, for_update: bool = False) -> Attempt:
    """The user's own attempt. Raises NotFound for anybody else's."""
    query = select(Attempt).where(Attempt.id == attempt_id, Attempt.user_id == user.id)
    if for_update:
        query = query.with_for_update()
    attempt = session.execute(query.options(selectinload(Attempt.questions))
                              ).scalar_one_or_none()
    if attempt is None:
        raise NotFound()
    return attempt


def expire_if_late(attempt: Attempt) -> Attempt:
    """Close an attempt whose time is up, grading what was saved (state abandoned)."""
    if (attempt.state is AttemptState.IN_PROGRESS and attempt.deadline_at is not None
            and utcnow() > attempt.deadline_at + GRACE):
        _grade(attempt, AttemptState.ABANDONED)
    return attempt


def save_answer(user: User, attempt_id: int, position: int, selected: list[int]) -> Attempt:
    """Autosave one answer. Raises InvalidState once the attempt is closed or out of time,
    ValidationFailed for an option that was not shown for this question."""
    attempt = expire_if_late(get_attempt(user, attempt_id, for_update=True))
    if attempt.state is not AttemptState.IN_PROGRESS:
        raise InvalidState(_("This attempt is closed."))
    slot = next((q for q in attempt.questions if q.position == position), None)
    if slot is None:
        raise NotFound()
    _apply(slot, selected, position)
    session.flush()
    return attempt


def _apply(slot: AttemptQuestion, selected: list[int], position: int) -> None:
    if not set(selected) <= set(slot.option_order) or len(set(selected)) != len(selected):
        raise ValidationFailed(errors={f"answers.{position}": [_("Not an option of this "
                                                                "question.")]})
    slot.selected, slot.saved_at = sorted(selected), utcnow()


def submit(user: User, attempt_id: int, answers: dict[int, list[int]], key: str) -> Attempt:
    """Grade and close an attempt once. A retried submit with the same key returns the first
    result; another key on a closed attempt raises InvalidState."""
    attempt = get_attempt(user, attempt_id, for_update=True)
    if attempt.state is not AttemptState.IN_PROGRESS:
        if attempt.submit_key == key:
            return attempt
        raise InvalidState(_("This attempt is closed."))
    if expire_if_late(attempt).state is not AttemptState.IN_PROGRESS:
        return attempt  # too late: graded on what was saved before the deadline
    for position, selected in answers.items():
        slot = next((q for q in attempt.questions if q.position == position), None)
        if slot is None:
            raise ValidationFailed(errors={f"answers.{position}": [_("No such question.")]})
        _apply(slot, selected, position)
    attempt.submit_key = key
    _grade(attempt, AttemptState.GRADED)
    return attempt


def _grade(attempt: Attempt, state: AttemptState) -> None:
    quiz = course_queries.get_quiz(attempt.quiz_id)
    asked = course_queries.questions_with_options([s.question_id for s in attempt.questions])
    correct_by_question = {q.id: {o.id for o in q.options if o.is_correct}
                           for q in asked.values()}
    right = 0
    for slot in attempt.questions:
        slot.is_correct = set(slot.selected) == correct_by_question[slot.question_id]
        right += slot.is_correct
    attempt.correct = right
    attempt.score_percent = round(100 * right / attempt.total) if attempt.total else 0
    attempt.passed = attempt.score_percent >= quiz.pass_mark
    attempt.state, attempt.closed_at = state, utcnow()
    session.flush()
    if attempt.passed:
        service.complete_if_done(session.get(Enrollment, attempt.enrollment_id))


def answers_released(attempt: Attempt, quiz: Quiz) -> bool:
    if attempt.state is AttemptState.IN_PROGRESS or quiz.show_answers is AnswerRelease.NEVER:
        return False
    if quiz.show_answers is AnswerRelease.AFTER_CLOSE:
        return True
    return bool(session.execute(select(func.count()).select_from(Attempt).where(
        Attempt.enrollment_id == attempt.enrollment_id, Attempt.quiz_id == quiz.id,
        Attempt.passed.is_(True))).scalar_one())
