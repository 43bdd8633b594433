"""Invoke after a deploy (`sam remote invoke MigrateFunction`): applies Alembic migrations."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep.db import engine as db
from jobprep.migrations import upgrade
from jobprep.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    revision = str(event.get("revision", "head"))
    upgrade(db.engine, revision)
    return {"upgradedTo": revision}
