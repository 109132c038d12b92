"""Alembic migrations: the event log, read models, checkpoints and tokens."""
