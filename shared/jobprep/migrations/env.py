"""Alembic environment: migrations run on the engine (or connection) handed over in
config.attributes, each in a real transaction (the application's engine is in autocommit)."""

from alembic import context
from sqlalchemy import Connection

from jobprep.migrations.target import metadata


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    with context.config.attributes["engine"].connect() as connection:
        connection.execution_options(isolation_level="READ COMMITTED")
        run(connection)
        connection.commit()
