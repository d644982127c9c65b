"""Alembic environment of every service: run by `qsr_kit.db.migrate` on its connection."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=config.attributes["target_metadata"])
with context.begin_transaction():
    context.run_migrations()
