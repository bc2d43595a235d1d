"""The index behind keyword search of listings, per database, and the predicate that uses it.

`q` matches a substring of the title or the description, ASCII case folded, `%` and `_` literal
(`substring_match`, the definition: icontains, i.e. lower() LIKE on SQLite and ILIKE on PostgreSQL).
Alone it scans every listing in reach of the other filters, so each database gets an index that
finds candidate rows first; the definition then runs on those only, so results are exactly its own:
- SQLite: a contentless FTS5 table with the trigram tokenizer, kept in step by triggers. A `q` of 3+
  characters is one phrase; 2 characters match every indexed trigram that starts with them (found
  in the fts5vocab table of its terms), which is why each column is indexed with a character after it.
- PostgreSQL: pg_trgm GIN indexes for 3+ characters, a GIN index of each listing's bigrams for 2.
Made by DDL events on the listings table (create_all) and, with the same statements, by the
migration (`create_search_index`); `include_object` keeps them out of Alembic's comparison.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, and_, column, event, func, or_, text
from sqlalchemy.dialects import postgresql

from marketplace.models import Listing

FTS_TABLE = "listings_fts"
FTS_TERMS = "listings_fts_terms"  # the trigrams of FTS_TABLE with their counts (fts5vocab), for 2-character q
END = "char(31)"  # appended to each indexed column: a pair of characters at the end still starts a trigram

_ADD = f"INSERT INTO {FTS_TABLE}(rowid, title, description) " \
       f"VALUES (new.id, new.title || {END}, new.description || {END})"
_REMOVE = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description) VALUES " \
          f"('delete', old.id, old.title || {END}, old.description || {END})"
SQLITE_CREATE = (
    # Contentless: the index alone, the text stays in `listings`; a delete names the values indexed.
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, description, content='', tokenize='trigram')",
    f"CREATE VIRTUAL TABLE {FTS_TERMS} USING fts5vocab({FTS_TABLE}, 'row')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON listings BEGIN {_ADD}; END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON listings BEGIN {_REMOVE}; END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF title, description ON listings BEGIN {_REMOVE}; {_ADD}; END",
    # Rows already there (the migration of a filled database).
    f"INSERT INTO {FTS_TABLE}(rowid, title, description) SELECT id, title || {END}, description || {END} FROM listings",
)
SQLITE_DROP = (*(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}" for name in ("insert", "delete", "update")),
               f"DROP TABLE IF EXISTS {FTS_TERMS}", f"DROP TABLE IF EXISTS {FTS_TABLE}")

# PostgreSQL: pg_trgm GIN indexes on (category, text) serve `q` of 3 characters or more (the ILIKE
# that icontains renders there uses them; btree_gin lets the category share the index, without it the planner
# preferred scanning the category); trigrams cannot serve 2 characters, so a GIN index of each
# listing's bigrams does. pg_trgm and btree_gin are trusted extensions (PostgreSQL 13+): the database
# owner may create them, no superuser needed. gin_trgm_ops is named with its schema, so this works
# wherever `listings` is, even outside the search_path's schemas (tests' private schemas).
BIGRAMS = "listing_bigrams"
POSTGRESQL_CREATE = (f"""
CREATE OR REPLACE FUNCTION {BIGRAMS}(title text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{{}}')
  FROM unnest(ARRAY[lower(title), lower(description)]) AS t, generate_series(1, length(t) - 1) AS i
$$""", """
DO $$
DECLARE trgm text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE EXTENSION pg_trgm SCHEMA public;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN
    CREATE EXTENSION btree_gin SCHEMA public;
  END IF;
  SELECT quote_ident(n.nspname) || '.gin_trgm_ops' INTO trgm
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  EXECUTE format('CREATE INDEX ix_listings_title_trgm ON listings USING gin (category, title %s)', trgm);
  EXECUTE format('CREATE INDEX ix_listings_description_trgm ON listings USING gin (category, description %s)', trgm);
END $$""", f"CREATE INDEX ix_listings_bigrams ON listings USING gin ({BIGRAMS}(title, description))")
POSTGRESQL_INDEXES = ("ix_listings_title_trgm", "ix_listings_description_trgm", "ix_listings_bigrams")
POSTGRESQL_DROP = (f"DROP INDEX IF EXISTS {', '.join(POSTGRESQL_INDEXES)}",)


def substring_match(q: str) -> ColumnElement[bool]:
    """The definition: `q` in the title or the description (icontains: lower() LIKE on SQLite, ILIKE on
    PostgreSQL; `%`/`_` literal)."""
    return or_(Listing.title.icontains(q, autoescape=True), Listing.description.icontains(q, autoescape=True))


def keyword_filter(dialect: str, q: str) -> ColumnElement[bool]:
    """The predicate for `q` on this database, using its index where one applies."""
    if dialect == "postgresql":
        if len(q) >= 3:
            return substring_match(q)  # the trigram indexes serve this ILIKE directly
        bigrams = getattr(func, BIGRAMS)(Listing.title, Listing.description)  # q is its own one bigram
        # The definition on `title || ''`: the same text, but out of the trigram indexes' reach, which
        # cannot narrow 2 characters and would make every candidate's bigrams be computed again.
        unindexed = or_(*((column + "").icontains(q, autoescape=True)
                          for column in (Listing.title, Listing.description)))
        return and_(bigrams.op("@>")(postgresql.array([func.lower(q)])), unindexed)
    if dialect != "sqlite":
        return substring_match(q)
    if len(q) >= 3:
        hits = text(f"{_HITS} :phrase").bindparams(phrase=_phrase(q))  # q's trigrams, one after another
    elif all(ch.isascii() or ch.lower() == ch.upper() for ch in q):
        # Two characters: rows with any trigram that starts with them (folded as lower() folds them).
        hits = text(f"{_HITS} {_STARTING}").bindparams(lo=q.lower(), hi=q.lower() + "\U0010ffff")
    else:
        return substring_match(q)
    return and_(Listing.id.in_(hits.columns(column("rowid", Integer))), substring_match(q))


_HITS = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH"
_STARTING = (f"(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), '\"\"') "
             f"FROM {FTS_TERMS} WHERE term >= :lo AND term < :hi)")  # "t1" OR "t2" ...; "" matches nothing


def _phrase(q: str) -> str:
    """An FTS5 phrase of exactly these characters."""
    return '"' + q.replace('"', '""') + '"'


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """For Alembic's comparison: leave out the search index, which the models do not declare."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name in POSTGRESQL_INDEXES)


def create_search_index(connection) -> None:
    """Make the search index of `listings` on this connection's database (indexing the rows there)."""
    for statement in {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}.get(connection.dialect.name, ()):
        connection.execute(text(statement))


def drop_search_index(connection) -> None:
    """Remove the search index (SQLite: its tables and triggers; PostgreSQL: its indexes)."""
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(connection.dialect.name, ()):
        connection.execute(text(statement))


event.listen(Listing.__table__, "after_create", lambda _table, connection, **_kw: create_search_index(connection))
event.listen(Listing.__table__, "before_drop", lambda _table, connection, **_kw: drop_search_index(connection))
