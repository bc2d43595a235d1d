"""HTTP routes of listings (being built)."""
from core.api import Blueprint

bp = Blueprint("listings", __name__, description="listings")
