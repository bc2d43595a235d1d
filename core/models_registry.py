"""Imports every domain's models so Base.metadata holds the whole schema (Alembic, tests)."""
from core.db import Base
import marketplace.models  # noqa: F401
import marketplace.moderation.models  # noqa: F401
import chat.models  # noqa: F401
import marketplace.listings.search_index  # noqa: F401 - the listings search index (DDL events)

metadata = Base.metadata
