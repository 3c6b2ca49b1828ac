"""access: API keys (hashed secrets, read-only flag, revocation) and persisted queries (APQ)

Revision ID: access1
Revises: flow1
Create Date: 2026-12-01 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.store.tables

revision: str = 'access1'
down_revision: str | None = 'flow1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
        sa.Column('account_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
        sa.Column('friendly_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('read_only', sa.Boolean(), nullable=False),
        sa.Column('date_created', app.store.tables.UTCDateTime(), nullable=False),
        sa.Column('date_revoked', app.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_sid'], ['accounts.sid']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sid'),
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_account_sid'), ['account_sid'], unique=False)
    op.create_table(
        'persisted_queries',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('document', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('date_created', app.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )


def downgrade() -> None:
    op.drop_table('persisted_queries')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_account_sid'))
    op.drop_table('api_keys')
