"""Plumbing shared by the marketplace and chat domains."""
