"""The Core `Table` of each model the chat's SQL statements use (hot paths are SQLAlchemy Core)."""
from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from chat.models import ChatGroup, ChatMember, ChatMessage, ChatNotification, ChatReaction, InboxCounter, InboxEntry
from marketplace.models import Block, Listing, User

groups_t = cast(Table, ChatGroup.__table__)
members_t = cast(Table, ChatMember.__table__)
messages_t = cast(Table, ChatMessage.__table__)
counters_t = cast(Table, InboxCounter.__table__)
inbox_t = cast(Table, InboxEntry.__table__)
notifications_t = cast(Table, ChatNotification.__table__)
reactions_t = cast(Table, ChatReaction.__table__)
users_t = cast(Table, User.__table__)
listings_t = cast(Table, Listing.__table__)
blocks_t = cast(Table, Block.__table__)
