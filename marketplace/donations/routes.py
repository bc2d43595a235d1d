"""HTTP routes of donations (being built)."""
from core.api import Blueprint

bp = Blueprint("donations", __name__, description="donations")
