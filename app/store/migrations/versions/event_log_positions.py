"""event log positions: the writing transaction's id beside each event

Revision ID: events2
Revises: work1
Create Date: 2026-12-01 11:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'events2'
down_revision: str | None = 'work1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('xact_id', sa.BigInteger(), nullable=False, server_default='0')
        )
        batch_op.create_index('ix_events_xact_id_id', ['xact_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_xact_id_id')
        batch_op.drop_column('xact_id')
