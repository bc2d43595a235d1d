"""groups: the `group` kind, member mutes, room kicks

Revision ID: 0004
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0004'
down_revision = '0006'
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('item', 'direct', 'room')"
KINDS_AFTER = "kind IN ('item', 'direct', 'room', 'group')"


def _kinds(condition: str) -> None:
    # SQLite recreates the table (batch mode); the reflected copy keeps the other constraints.
    with op.batch_alter_table('chat_groups', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_chat_groups_kind'), type_='check')
        batch_op.create_check_constraint('kind', condition)


def upgrade() -> None:
    _kinds(KINDS_AFTER)
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('muted_until', core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('chat_kicks',
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('until', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_chat_kicks_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['chat_groups.id'], name=op.f('fk_chat_kicks_group_id_chat_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chat_kicks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_chat_kicks'))
    )


def downgrade() -> None:
    op.drop_table('chat_kicks')
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.drop_column('muted_until')
    op.execute("DELETE FROM chat_groups WHERE kind = 'group'")
    _kinds(KINDS_BEFORE)
