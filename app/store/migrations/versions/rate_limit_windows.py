"""rate limit windows: points each account used per clock hour, shared by replicas

Revision ID: gql1
Revises: requests1
Create Date: 2026-12-01 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'gql1'
down_revision: str | None = 'requests1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_windows',
    sa.Column('account_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('window_start', sa.Integer(), nullable=False),
    sa.Column('points_limit', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('last_ok', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_sid', 'window_start')
    )


def downgrade() -> None:
    op.drop_table('rate_limit_windows')
