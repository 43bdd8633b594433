"""Alembic environment: migrations run on the engine handed over in config.attributes, each in
a real transaction (the application's engine is in autocommit)."""

from alembic import context

from jobprep.migrations.target import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    connection.execution_options(isolation_level="READ COMMITTED")
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
