"""Public chat rooms: live-only messages plus REST history."""
