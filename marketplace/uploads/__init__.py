"""Media uploads: sniffed, capped, stored on disk, served back."""
