"""Procedure catalogue.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("issuing_ministry", sa.Text(), server_default="", nullable=False),
        sa.Column("agencies", sa.Text(), server_default="[]", nullable=False),
        sa.Column("field", sa.Text(), server_default="", nullable=False),
        sa.Column("portal_url", sa.Text(), server_default="", nullable=False),
        sa.Column("slug", sa.String(80), nullable=True),
        sa.Column("aliases", sa.Text(), server_default="[]", nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_procedures")),
        sa.UniqueConstraint("slug", name=op.f("uq_procedures_slug")),
    )
    op.create_table(
        "catalogue_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("procedure_count", sa.Integer(), nullable=False),
        sa.Column("extras", sa.Text(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_meta")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_meta")
    op.drop_table("procedures")
