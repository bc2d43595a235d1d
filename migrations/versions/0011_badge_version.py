"""the badge's version; every badge counted again

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_inbox_counters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unread_version', sa.BigInteger(), server_default='0', nullable=False))
    # Before this revision a member who left a group, was removed from it or saw it dissolved kept what they had
    # unread there in their badge, with no chat left to read it in. Every badge is counted again from the
    # memberships: the unread of each item, direct and group chat that is not muted (rooms never count).
    op.execute(sa.text("""
        UPDATE chat_inbox_counters SET unread_total = COALESCE((
            SELECT SUM(CASE WHEN g.last_seq > s.seen THEN g.last_seq - s.seen ELSE 0 END)
            FROM (SELECT m.group_id,
                         CASE WHEN COALESCE(m.hidden_until_seq, 0) > m.last_read_seq
                              THEN m.hidden_until_seq ELSE m.last_read_seq END AS seen
                  FROM chat_members m
                  WHERE m.user_id = chat_inbox_counters.user_id AND m.muted = false) s
            JOIN chat_groups g ON g.id = s.group_id
            WHERE g.kind IN ('item', 'direct', 'group')), 0)
    """))


def downgrade() -> None:
    with op.batch_alter_table('chat_inbox_counters', schema=None) as batch_op:
        batch_op.drop_column('unread_version')
