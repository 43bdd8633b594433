"""Alembic environment: migrations run on the engine handed over in config.attributes."""

from alembic import context

from jobprep.migrations.env_tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
