"""The Core `Table` of each model the chat's SQL statements use (hot paths are SQLAlchemy Core)."""
from __future__ import annotations

from chat.models import ChatGroup, ChatMember, ChatMessage, InboxCounter, InboxEntry
from marketplace.models import Block, Listing, User

groups_t = ChatGroup.__table__
members_t = ChatMember.__table__
messages_t = ChatMessage.__table__
counters_t = InboxCounter.__table__
inbox_t = InboxEntry.__table__
users_t = User.__table__
listings_t = Listing.__table__
blocks_t = Block.__table__
