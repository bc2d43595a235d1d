"""Registration, tokens, profiles and blocks."""
