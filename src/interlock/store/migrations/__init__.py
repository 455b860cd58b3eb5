"""Alembic migrations of the log's schema, run in code by `interlock.store.database.migrate`."""
