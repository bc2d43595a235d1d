"""Admin moderation: bans, the listing review queue and takedowns, user reports, the audit log, and the keyword
rules applied to listings and chat messages."""
