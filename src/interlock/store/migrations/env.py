"""Alembic environment: always online, on the connection `interlock.store.database` hands in.

No alembic.ini: the Config is built in code and carries the open connection in
`config.attributes["connection"]`, already inside a transaction that holds the write lock.
"""

from __future__ import annotations

from alembic import context

from interlock.store.schema import metadata

VERSION_TABLE = "interlock_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
