"""Per-recipient bookkeeping of item and direct chats: unread totals (the badge) and arrivals."""
