"""Members of user groups and rooms: roles, invites, removals, kicks, mutes, ownership, and their events."""
