"""DatabaseMode=external end to end: the engine reaches the real test PostgreSQL with nothing but
the name (or ARN) of a Secrets Manager secret holding its URL."""

from typing import Any

import boto3
from moto import mock_aws
from sqlalchemy import make_url, text

from jobprep.config import Settings
from jobprep.db.engine import build_engine
from tests.unit.test_config_and_credentials import TEMPLATE_EXTERNAL


@mock_aws
def test_engine_connects_through_a_url_secret(database: Any) -> None:
    """External mode end to end: the engine's URL is empty and the real test PostgreSQL is
    reached with what the secret holds (its URL by name, looked up at connect time)."""
    from tests import pg

    real = pg.server_url().set(drivername="postgresql", database=pg.TEST_DB)
    secret_url = real.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="jobprep/test/database-url", SecretString=secret_url
    )["ARN"]
    for secret_id in ("jobprep/test/database-url", arn):
        engine = build_engine(Settings.model_validate({**TEMPLATE_EXTERNAL, "DATABASE_URL_SECRET": secret_id}))
        assert make_url(str(engine.url)).host is None
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_database()")).scalar() == pg.TEST_DB
        finally:
            engine.dispose()
