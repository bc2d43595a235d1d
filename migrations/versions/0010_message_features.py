"""message features: replies, mentions, edits, reactions

Revision ID: 0010
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0010'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reply_to', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('mentions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_chat_messages_reply_to_id'), ['reply_to_id'], unique=False)
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mention_seq', sa.Integer(), nullable=True))
    with op.batch_alter_table('chat_inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=1), server_default='m', nullable=False))
    op.create_table('chat_reactions',
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('emoji', sa.String(length=32), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'], name=op.f('fk_chat_reactions_message_id_chat_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chat_reactions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'user_id', 'emoji', name=op.f('pk_chat_reactions'))
    )


def downgrade() -> None:
    op.drop_table('chat_reactions')
    with op.batch_alter_table('chat_inbox', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.drop_column('mention_seq')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_messages_reply_to_id'))
        batch_op.drop_column('revision')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('mentions')
        batch_op.drop_column('reply_to')
        batch_op.drop_column('reply_to_id')
