"""Donation claims and their state machine."""
