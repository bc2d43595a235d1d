"""The conversation list: each group of a user with its listing, peer, last message and unread count."""
