"""Admin moderation: bans, the listing review queue and takedowns, user reports and the audit log."""
