"""Alembic environment for the audit store: runs on the connection the store hands over."""

from alembic import context

from services.audit.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("run audit migrations through services.audit.store.AuditStore.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
