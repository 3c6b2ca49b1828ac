"""flow: comments, documents, activation date reasons, rejection exceptions

Revision ID: flow1
Revises: gql1
Create Date: 2026-12-01 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.store.tables

revision: str = 'flow1'
down_revision: str | None = 'gql1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('account_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('subject_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('author_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('date_created', app.store.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_sid'], ['accounts.sid'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sid')
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_account_sid'), ['account_sid'], unique=False)
        batch_op.create_index('ix_comments_subject_sid_id', ['subject_sid', 'id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('account_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('port_order_sid', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('document_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('date_created', app.store.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_sid'], ['accounts.sid'], ),
    sa.ForeignKeyConstraint(['port_order_sid'], ['port_orders.sid'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sid')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_account_sid'), ['account_sid'], unique=False)
        batch_op.create_index('ix_documents_port_order_sid_id', ['port_order_sid', 'id'], unique=False)

    with op.batch_alter_table('port_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activation_date_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('exception', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('submissions', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('port_orders', schema=None) as batch_op:
        batch_op.drop_column('submissions')
        batch_op.drop_column('exception')
        batch_op.drop_column('activation_date_reason')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_port_order_sid_id')
        batch_op.drop_index(batch_op.f('ix_documents_account_sid'))
    op.drop_table('documents')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_subject_sid_id')
        batch_op.drop_index(batch_op.f('ix_comments_account_sid'))
    op.drop_table('comments')
