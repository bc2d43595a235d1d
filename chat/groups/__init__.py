"""Chat groups: item inquiries, direct chats, membership."""
