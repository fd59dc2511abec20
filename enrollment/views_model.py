"""What a learner may see of an attempt, as plain data for the page and the API alike: the
right answers and explanations appear only once the attempt is closed and the quiz allows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from courses import queries as course_queries
from enrollment import attempts
from enrollment.models import Attempt, AttemptState
from lms.db import utcnow
from lms.i18n import localized


def seconds_left(attempt: Attempt, now: datetime | None = None) -> int | None:
    if attempt.deadline_at is None or attempt.state is not AttemptState.IN_PROGRESS:
        return None
    return max(0, int((attempt.deadline_at - (now or utcnow())).total_seconds()))


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    quiz = course_queries.get_quiz(attempt.quiz_id)
    released = attempts.answers_released(attempt, quiz)
    questions = course_queries.questions_with_options(
        [slot.question_id for slot in attempt.questions])
    items = []
    for slot in attempt.questions:
        question = questions[slot.question_id]
        options = {o.id: o for o in question.options}
        item: dict[str, Any] = {
            "position": slot.position, "type": question.type.value,
            "text": localized(question.text_vi, question.text_en),
            "options": [{"id": oid, "text": localized(options[oid].text_vi,
                                                      options[oid].text_en)}
                        for oid in slot.option_order],
            "selected": slot.selected}
        if released:
            item["is_correct"] = slot.is_correct
            item["correct_options"] = [oid for oid in slot.option_order
                                       if options[oid].is_correct]
            item["explanation"] = localized(question.explanation_vi, question.explanation_en)
        items.append(item)
    return {"id": attempt.id, "number": attempt.number, "state": attempt.state.value,
            "started_at": attempt.started_at, "deadline_at": attempt.deadline_at,
            "seconds_left": seconds_left(attempt), "total": attempt.total,
            "correct": attempt.correct, "score_percent": attempt.score_percent,
            "passed": attempt.passed, "pass_mark": quiz.pass_mark,
            "answers_released": released, "questions": items}
