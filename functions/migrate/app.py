"""Apply Alembic migrations.

On every deploy CloudFormation calls this as the SchemaMigration custom resource (Create and
Update migrate, Delete keeps the schema and its data). crhelper answers the pre-signed
ResponseURL on every path: success, an exception (FAILED with the reason), and an approaching
timeout (FAILED half a second before the deadline). Invoked directly with {"revision": ...}
it upgrades as before (`sam remote invoke MigrateFunction`).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from crhelper import CfnResource

from jobprep import snapstart  # noqa: F401 - registers the SnapStart restore hooks
from jobprep.db import engine as db
from jobprep.migrations import upgrade
from jobprep.migrations.on_deploy import migrate_to
from jobprep.observability import logger, tracer

# One physical id for the life of the stack: CloudFormation never sees a replacement, so it
# never sends a Delete for an "old" schema.
PHYSICAL_ID = "jobprep-schema"
# Time kept back from the deadline for PostgreSQL to cancel and roll back, and for the reply.
REPLY_MARGIN_MS = 3_000

# sleep_on_delete=0: the log groups are separate resources, nothing to wait for.
helper = CfnResource(log_level="INFO", boto_level="WARNING", sleep_on_delete=0)


@helper.create
@helper.update
def migrate(event: dict[str, Any], context: LambdaContext) -> str:
    requested = str(event["ResourceProperties"]["SchemaRevision"])
    revision = migrate_to(db.engine, requested, budget_ms=context.get_remaining_time_in_millis() - REPLY_MARGIN_MS)
    logger.info("schema migrated", extra={"requested": requested, "revision": revision})
    helper.Data["Revision"] = revision
    return PHYSICAL_ID


@helper.delete
def keep_schema(event: dict[str, Any], context: LambdaContext) -> None:
    logger.info("stack or resource deleted: the schema and its data are kept")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "ResponseURL" in event and "RequestType" in event:
        helper(event, context)
        return {}
    revision = str(event.get("revision", "head"))
    upgrade(db.engine, revision)
    return {"upgradedTo": revision}
