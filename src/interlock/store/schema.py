"""The log's tables (SQLAlchemy Core).  One database holds several logs, one per agreement.

Every row below `logs` is append-only: the store inserts, never updates or deletes (only
`cosignatures` may gain rows for an old checkpoint).  Columns that repeat what the envelope
says (`author`, `key_id`, `nonce`, `type`) exist for indexing and the unique-nonce backstop;
`interlock verify` checks that they agree with the signed envelope.

- `logs`: id (text, the agreement's id by default), origin (checkpoint origin line), the
  agreement document as registered (bytes) and its `sha256:` hash, the log's note verifier
  key (`name+hexid+base64`), registration time.
- `entries`: (log, idx) primary key; `integrated_at` exactly as committed in the leaf
  (RFC 3339 text); the envelope as RFC 8785 JSON text; the RFC 9162 leaf hash.
- `nodes`: every complete subtree hash `(level, idx)`, level 0 included (= leaf hashes), so a
  root or proof costs O(log n) rows read by primary key.
- `checkpoints`: one per committed batch, `(log, size)`, root and the signed note text.
- `cosignatures`: witness lines for a checkpoint, one per witness key name.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
    }
)

logs = Table(
    "logs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("origin", Text, nullable=False, unique=True),
    Column("agreement", LargeBinary, nullable=False),
    Column("agreement_hash", Text, nullable=False),
    Column("public_key", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("log_id", Text, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("integrated_at", Text, nullable=False),
    Column("envelope", Text, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("author", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("type", Text, nullable=False),
    PrimaryKeyConstraint("log_id", "idx"),
    UniqueConstraint("log_id", "author", "nonce"),
    ForeignKeyConstraint(["log_id"], ["logs.id"]),
)

nodes = Table(
    "nodes",
    metadata,
    Column("log_id", Text, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    PrimaryKeyConstraint("log_id", "level", "idx"),
    ForeignKeyConstraint(["log_id"], ["logs.id"]),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("log_id", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("log_id", "size"),
    ForeignKeyConstraint(["log_id"], ["logs.id"]),
)

cosignatures = Table(
    "cosignatures",
    metadata,
    Column("log_id", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("key_name", Text, nullable=False),
    Column("line", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    PrimaryKeyConstraint("log_id", "size", "key_name"),
    ForeignKeyConstraint(["log_id", "size"], ["checkpoints.log_id", "checkpoints.size"]),
)
