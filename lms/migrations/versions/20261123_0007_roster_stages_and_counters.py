"""Roster stages (a checked file's valid lines between the dry run and the save) and the
completion counters per leaf unit and course.

Revision ID: 20261123_0007
Revises: 20261123_0006
Create Date: 2026-11-23 00:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261123_0007'
down_revision: str | None = '20261123_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Stages are scratch data re-creatable from the kept upload: UNLOGGED on PostgreSQL skips
    # the write-ahead log for 100,000-row loads and deletes. After a crash PostgreSQL empties
    # both tables together, so a save never finds a stage without its rows (it checks again).
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table('roster_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_roster_stages_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_stages')),
    prefixes=unlogged,
    )
    op.create_index('ix_roster_stages_unit_id_file_sha256', 'roster_stages', ['unit_id', 'file_sha256'], unique=False)
    op.create_table('roster_stage_rows',
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('personal_id_hash', sa.String(length=64), nullable=False),
    sa.Column('personal_id_masked', sa.String(length=12), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('birth_on', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('group_label', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['stage_id'], ['roster_stages.id'], name=op.f('fk_roster_stage_rows_stage_id_roster_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_roster_stage_rows_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stage_id', 'line', name=op.f('pk_roster_stage_rows')),
    prefixes=unlogged,
    )


    op.create_table('completion_counters',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('course_code', sa.String(length=40), nullable=False),
    sa.Column('unit_path', sa.String(length=534).with_variant(sa.String(length=534, collation='C'), 'postgresql'), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('exempt', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_completion_counters_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'course_code', name=op.f('pk_completion_counters'))
    )
    op.create_index('ix_completion_counters_unit_path', 'completion_counters', ['unit_path'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_completion_counters_unit_path', table_name='completion_counters')
    op.drop_table('completion_counters')
    op.drop_table('roster_stage_rows')
    op.drop_index('ix_roster_stages_unit_id_file_sha256', table_name='roster_stages')
    op.drop_table('roster_stages')
