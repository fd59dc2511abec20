"""Units of the two-level government, users and role grants.

Revision ID: 20261122_0001
Revises: 
Create Date: 2026-11-22 21:45:43.941567
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '20261122_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('ministry', 'province', 'commune', 'school', 'class', 'agency', 'department', name='unit_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('division_type', sa.String(length=40), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=534).with_variant(sa.String(length=534, collation='C'), 'postgresql'), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('depth >= 0 AND depth <= 12', name=op.f('ck_units_depth_in_range')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code')),
    sa.UniqueConstraint('path', name=op.f('uq_units_path'))
    )
    op.create_index('ix_units_kind_parent_id', 'units', ['kind', 'parent_id'])
    op.create_index(op.f('ix_units_parent_id'), 'units', ['parent_id'])

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('birth_on', sa.Date(), nullable=True),
    sa.Column('personal_id_hash', sa.String(length=64), nullable=True),
    sa.Column('personal_id_masked', sa.String(length=12), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_users_issuer_subject')),
    sa.UniqueConstraint('personal_id_hash', name=op.f('uq_users_personal_id_hash'))
    )
    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('learner', 'unit_admin', 'officer', 'system_admin', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_role_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_role_grants_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants')),
    sa.UniqueConstraint('user_id', 'role', 'unit_id', name=op.f('uq_role_grants_user_id_role_unit_id'))
    )
    op.create_index('ix_role_grants_unit_id_role', 'role_grants', ['unit_id', 'role'])


def downgrade() -> None:
    op.drop_index('ix_role_grants_unit_id_role', table_name='role_grants')
    op.drop_table('role_grants')
    op.drop_table('users')
    op.drop_index(op.f('ix_units_parent_id'), table_name='units')
    op.drop_index('ix_units_kind_parent_id', table_name='units')
    op.drop_table('units')
