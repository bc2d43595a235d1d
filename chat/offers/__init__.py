"""Offers in item groups: the buyer proposes a price, the seller accepts (reserving the listing) or declines."""
