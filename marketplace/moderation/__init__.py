"""Moderation data of the marketplace: keyword rules applied to listings and chat messages."""
