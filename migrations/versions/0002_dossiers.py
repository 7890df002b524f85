"""Dossiers, their status history and the failed-verification log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = (
    "received",
    "processing",
    "supplement_requested",
    "completed",
    "returned",
    "rejected",
    "cancelled",
)


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("procedure_code", sa.String(40), server_default="", nullable=False),
        sa.Column("procedure_name", sa.Text(), nullable=False),
        sa.Column("applicant_name", sa.Text(), nullable=False),
        sa.Column("applicant_phone", sa.String(20), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name=op.f("ck_dossiers_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("code", name=op.f("uq_dossiers_code")),
    )
    op.create_table(
        "dossier_status_history",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", _id(), nullable=False),
        sa.Column("previous_status", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_status_history_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_status_history")),
    )
    op.create_index(
        "ix_dossier_status_history_dossier_id_changed_at",
        "dossier_status_history",
        ["dossier_id", "changed_at"],
    )
    op.create_table(
        "verification_failures",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    op.create_index(
        "ix_verification_failures_key_hash_failed_at",
        "verification_failures",
        ["key_hash", "failed_at"],
    )
    op.create_index(
        "ix_verification_failures_failed_at", "verification_failures", ["failed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_verification_failures_failed_at", table_name="verification_failures")
    op.drop_index(
        "ix_verification_failures_key_hash_failed_at", table_name="verification_failures"
    )
    op.drop_table("verification_failures")
    op.drop_index(
        "ix_dossier_status_history_dossier_id_changed_at", table_name="dossier_status_history"
    )
    op.drop_table("dossier_status_history")
    op.drop_table("dossiers")
