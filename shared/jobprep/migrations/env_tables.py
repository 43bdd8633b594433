"""Every table registered on the shared MetaData, for Alembic's environment and schema checks."""

from jobprep.idempotency import idempotency_keys
from jobprep.interviews.models import interviews
from jobprep.job_infos.models import job_infos
from jobprep.metadata import metadata
from jobprep.outbox import outbox
from jobprep.rate_limit import rate_limit_buckets

TABLES = (job_infos, interviews, outbox, idempotency_keys, rate_limit_buckets)

__all__ = ["TABLES", "metadata"]
