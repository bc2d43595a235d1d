"""Listings: sale and donation items, search, favorites and reviews."""
