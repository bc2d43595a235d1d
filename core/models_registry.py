"""Imports every domain's models so Base.metadata holds the whole schema (Alembic, tests)."""
# isort: skip_file  (the domains register their models in this order)
import chat.models  # noqa: F401
import marketplace.listings.search_index  # noqa: F401 - the listings search index (DDL events)
import marketplace.models  # noqa: F401
import marketplace.moderation.models  # noqa: F401
from core.db import Base

metadata = Base.metadata
