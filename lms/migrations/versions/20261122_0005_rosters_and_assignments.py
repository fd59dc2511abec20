"""Rosters (entries, imports, link conflicts) and course assignments.

Revision ID: 20261122_0005
Revises: 20261122_0004
Create Date: 2026-11-22 22:57:46.742133
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261122_0005'
down_revision: str | None = '20261122_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('course_code', sa.String(length=40), nullable=False),
    sa.Column('audience', sa.Enum('students', 'public_servants', 'everyone', name='assignment_audience', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('due_on >= start_on', name=op.f('ck_assignments_due_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assignments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assignments_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_unit_id', ['unit_id'], unique=False)

    op.create_table('roster_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_roster_imports_imported_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_roster_imports_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_roster_imports_idempotency_key'))
    )
    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('roster_unit_id', sa.Integer(), nullable=False),
    sa.Column('personal_id_hash', sa.String(length=64), nullable=False),
    sa.Column('personal_id_masked', sa.String(length=12), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('birth_on', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('group_label', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('active', 'exempt', 'left', name='entry_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('exempt_reason', sa.Enum('left_unit', 'long_illness', 'duplicate', 'other', name='exempt_reason', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('exempt_note', sa.Text(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['roster_imports.id'], name=op.f('fk_roster_entries_import_id_roster_imports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['roster_unit_id'], ['units.id'], name=op.f('fk_roster_entries_roster_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_roster_entries_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_entries_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries')),
    sa.UniqueConstraint('roster_unit_id', 'personal_id_hash', name=op.f('uq_roster_entries_roster_unit_id_personal_id_hash'))
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index('ix_roster_entries_personal_id_hash', ['personal_id_hash'], unique=False)
        batch_op.create_index('ix_roster_entries_unit_id_status', ['unit_id', 'status'], unique=False)
        batch_op.create_index('ix_roster_entries_user_id', ['user_id'], unique=False)

    op.create_table('link_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('personal_id_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['roster_entries.id'], name=op.f('fk_link_conflicts_entry_id_roster_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_link_conflicts_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_link_conflicts_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_conflicts'))
    )


def downgrade() -> None:
    op.drop_table('link_conflicts')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_entries_user_id')
        batch_op.drop_index('ix_roster_entries_unit_id_status')
        batch_op.drop_index('ix_roster_entries_personal_id_hash')

    op.drop_table('roster_entries')
    op.drop_table('roster_imports')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_unit_id')

    op.drop_table('assignments')
