"""The first tables: logs, entries, nodes, checkpoints, cosignatures.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("agreement", sa.LargeBinary(), nullable=False),
        sa.Column("agreement_hash", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_logs"),
        sa.UniqueConstraint("origin", name="uq_logs_origin"),
    )
    op.create_table(
        "entries",
        sa.Column("log_id", sa.Text(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("integrated_at", sa.Text(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "idx", name="pk_entries"),
        sa.UniqueConstraint("log_id", "author", "nonce", name="uq_entries_log_id_author_nonce"),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name="fk_entries_logs"),
    )
    op.create_table(
        "nodes",
        sa.Column("log_id", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "level", "idx", name="pk_nodes"),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name="fk_nodes_logs"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("log_id", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", name="pk_checkpoints"),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name="fk_checkpoints_logs"),
    )
    op.create_table(
        "cosignatures",
        sa.Column("log_id", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("key_name", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", "key_name", name="pk_cosignatures"),
        sa.ForeignKeyConstraint(
            ["log_id", "size"], ["checkpoints.log_id", "checkpoints.size"],
            name="fk_cosignatures_checkpoints",
        ),
    )


def downgrade() -> None:
    for table in ("cosignatures", "checkpoints", "nodes", "entries", "logs"):
        op.drop_table(table)
