"""Every table on the shared MetaData: what the migrations must produce (Alembic's target,
and the schema test's reference)."""

from jobprep.create_once import idempotency_keys
from jobprep.db.metadata import metadata
from jobprep.events.outbox import outbox
from jobprep.interviews.tables import interviews
from jobprep.job_infos.tables import job_infos
from jobprep.plan_usage import plan_usage
from jobprep.questions.tables import questions
from jobprep.rate_limit import rate_limit_buckets
from jobprep.users.tables import deleted_users, users
from jobprep.webhook_deliveries import webhook_deliveries

TABLES = (
    job_infos,
    interviews,
    questions,
    users,
    deleted_users,
    plan_usage,
    outbox,
    idempotency_keys,
    rate_limit_buckets,
    webhook_deliveries,
)

__all__ = ["TABLES", "metadata"]
