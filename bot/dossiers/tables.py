"""Tables of the dossier database (schema owned by migrations/versions/0002_dossiers.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

from bot.db import metadata
from bot.dossiers.status import STATUS_VALUES

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

STATUS_CHECK = "status IN (" + ", ".join(f"'{value}'" for value in STATUS_VALUES) + ")"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - raw SQL paths
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


dossiers = Table(
    "dossiers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("procedure_code", String(40), nullable=False, server_default=""),
    Column("procedure_name", Text, nullable=False),
    Column("applicant_name", Text, nullable=False),
    Column("applicant_phone", String(20), nullable=False),
    Column("agency", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    # When this service last wrote the row (not the one-stop system's time).
    Column("synced_at", UTCDateTime, nullable=False),
    CheckConstraint(STATUS_CHECK, name="status"),
)

dossier_status_history = Table(
    "dossier_status_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "dossier_id",
        BigId,
        ForeignKey("dossiers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("previous_status", String(32), nullable=True),
    Column("status", String(32), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("source", String(16), nullable=False),  # csv, api, demo
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_dossier_status_history_dossier_id_changed_at", "dossier_id", "changed_at"),
)

# Failed verifications (per conversation, per dossier code); keys are SHA-256 hashes, never raw ids.
verification_failures = Table(
    "verification_failures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Index("ix_verification_failures_key_hash_failed_at", "key_hash", "failed_at"),
    Index("ix_verification_failures_failed_at", "failed_at"),
)
