"""Invoke after a deploy (`sam remote invoke MigrateFunction`): applies Alembic migrations."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep import snapstart  # noqa: F401 - registers the SnapStart restore hooks
from jobprep.db import engine as db
from jobprep.migrations import upgrade
from jobprep.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    revision = str(event.get("revision", "head"))
    upgrade(db.engine, revision)
    return {"upgradedTo": revision}
