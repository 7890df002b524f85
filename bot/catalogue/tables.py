"""Tables of the procedure catalogue."""

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from bot.db import metadata

procedures = Table(
    "procedures",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("issuing_ministry", Text, nullable=False, server_default=""),
    Column("agencies", Text, nullable=False, server_default="[]"),  # JSON list
    Column("field", Text, nullable=False, server_default=""),
    Column("portal_url", Text, nullable=False, server_default=""),
    Column("slug", String(80), nullable=True, unique=True),
    Column("aliases", Text, nullable=False, server_default="[]"),  # JSON list, from curated data
    Column("detail", Text, nullable=True),  # JSON curated record, when there is one
)

catalogue_meta = Table(
    "catalogue_meta",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("procedure_count", Integer, nullable=False),
    Column("extras", Text, nullable=False, server_default="{}"),  # JSON: life events, synonyms
)
