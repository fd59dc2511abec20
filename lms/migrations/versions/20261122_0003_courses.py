"""Courses: versions, modules, lessons, quizzes, question pools, package images.

Revision ID: 20261122_0003
Revises: 20261122_0002
Create Date: 2026-11-22 22:26:23.736719
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261122_0003'
down_revision: str | None = '20261122_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('description_vi', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('audience', sa.Enum('students', 'public_servants', 'everyone', name='audience', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('estimated_minutes', sa.Integer(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('package_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version > 0', name=op.f('ck_courses_version_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_courses_code_version'))
    )
    op.create_table('course_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_assets_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_assets')),
    sa.UniqueConstraint('course_id', 'path', name=op.f('uq_course_assets_course_id_path'))
    )
    op.create_table('course_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_modules_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_modules')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_course_modules_course_id_position'))
    )
    op.create_table('quizzes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('questions_per_attempt', sa.Integer(), nullable=False),
    sa.Column('attempts_allowed', sa.Integer(), nullable=False),
    sa.Column('time_limit_seconds', sa.Integer(), nullable=False),
    sa.Column('shuffle_questions', sa.Boolean(), nullable=False),
    sa.Column('shuffle_options', sa.Boolean(), nullable=False),
    sa.Column('show_answers', sa.Enum('after_close', 'after_pass', 'never', name='answer_release', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('requires_all_lessons', sa.Boolean(), nullable=False),
    sa.CheckConstraint('pass_mark BETWEEN 0 AND 100', name=op.f('ck_quizzes_pass_mark_percent')),
    sa.CheckConstraint('questions_per_attempt > 0', name=op.f('ck_quizzes_draws_questions')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_quizzes_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes')),
    sa.UniqueConstraint('course_id', name=op.f('uq_quizzes_course_id'))
    )
    op.create_table('lessons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('source_vi', sa.Text(), nullable=False),
    sa.Column('source_en', sa.Text(), nullable=True),
    sa.Column('html_vi', sa.Text(), nullable=False),
    sa.Column('html_en', sa.Text(), nullable=True),
    sa.Column('min_seconds', sa.Integer(), nullable=False),
    sa.Column('video_url', sa.String(length=500), nullable=True),
    sa.CheckConstraint('min_seconds >= 0', name=op.f('ck_lessons_min_seconds_not_negative')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_lessons_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['course_modules.id'], name=op.f('fk_lessons_module_id_course_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lessons')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_lessons_course_id_position')),
    sa.UniqueConstraint('course_id', 'slug', name=op.f('uq_lessons_course_id_slug'))
    )
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('single', 'multiple', 'true_false', name='question_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('text_vi', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('explanation_vi', sa.Text(), nullable=False),
    sa.Column('explanation_en', sa.Text(), nullable=True),
    sa.Column('always_included', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_questions_quiz_id_quizzes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('quiz_id', 'key', name=op.f('uq_questions_quiz_id_key'))
    )
    op.create_table('question_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text_vi', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('is_correct', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_options_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_options')),
    sa.UniqueConstraint('question_id', 'key', name=op.f('uq_question_options_question_id_key'))
    )


def downgrade() -> None:
    op.drop_table('question_options')
    op.drop_table('questions')
    op.drop_table('lessons')
    op.drop_table('quizzes')
    op.drop_table('course_modules')
    op.drop_table('course_assets')
    op.drop_table('courses')
