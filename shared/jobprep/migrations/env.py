"""Alembic environment: migrations run on the engine handed over in config.attributes."""

from alembic import context

from jobprep.idempotency import idempotency_keys  # noqa: F401
from jobprep.interviews.models import interviews  # noqa: F401
from jobprep.job_infos.models import job_infos  # noqa: F401
from jobprep.metadata import metadata
from jobprep.outbox import outbox  # noqa: F401 - registers the table on metadata
from jobprep.rate_limit import rate_limit_buckets  # noqa: F401

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
