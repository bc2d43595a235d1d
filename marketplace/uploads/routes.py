"""HTTP routes of uploads (being built)."""
from core.api import Blueprint

bp = Blueprint("uploads", __name__, description="uploads")
