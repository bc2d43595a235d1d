"""abuse resistance: single-use WebSocket tickets

Revision ID: 0009
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0009'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ws_tickets',
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['tokens.id'], name=op.f('fk_ws_tickets_token_id_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_hash', name=op.f('pk_ws_tickets'))
    )
    with op.batch_alter_table('ws_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_tickets_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_tickets_token_id'), ['token_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ws_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_tickets_token_id'))
        batch_op.drop_index(batch_op.f('ix_ws_tickets_expires_at'))
    op.drop_table('ws_tickets')
