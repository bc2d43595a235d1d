"""Chat messages: types and bodies, the send path, history, read markers, recall."""
