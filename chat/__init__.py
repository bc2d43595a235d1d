"""Chat: groups, messages, sync, the broker and the WebSocket relay."""
