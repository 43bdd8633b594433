"""The peer: create_job_info as an idiomatic FastAPI + Mangum + SQLAlchemy Lambda.

Same table, same validation models and limits, same work (job info + outbox row in one
transaction, publish, mark sent), but FastAPI routing and validation, Mangum's event adapter,
SQLAlchemy's ORM-free Core with stock pool_pre_ping. Self-contained apart from the request and
response models, so it does not follow jobprep's internal layout.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from mangum import Mangum
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Uuid, create_engine, func, insert, update
from sqlalchemy.dialects.postgresql import ENUM, JSONB

from jobprep.job_infos.schemas import JobInfoCreate, JobInfoOut

metadata = MetaData()
job_infos = Table(
    "job_infos",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=func.gen_random_uuid()),
    Column("user_id", String(255), nullable=False),
    Column("name", String(200), nullable=False),
    Column("title", String(200)),
    Column(
        "experience_level",
        ENUM("junior", "mid-level", "senior", name="job_infos_experience_level", create_type=False),
        nullable=False,
    ),
    Column("description", String(20_000), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("detail_type", String(64), nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=1,
    max_overflow=0,
    pool_pre_ping=True,
    connect_args={"prepare_threshold": None, "application_name": "job-prep-peer"},
)
app = FastAPI()


@cache
def events_client() -> Any:
    import boto3

    return boto3.client("events")


@app.post("/job-infos", status_code=201, response_model=JobInfoOut, response_model_by_alias=True)
def create_job_info(body: JobInfoCreate, request: Request, response: Response) -> dict[str, Any]:
    claims = request.scope["aws.event"]["requestContext"].get("authorizer", {}).get("jwt", {}).get("claims", {})
    user_id = claims.get("sub")
    if not user_id:
        raise HTTPException(status_code=401)
    event_id = uuid.uuid4()
    with engine.begin() as conn:
        row = (
            conn.execute(insert(job_infos).values(user_id=user_id, **body.model_dump()).returning(*job_infos.c))
            .mappings()
            .one()
        )
        detail = {
            "eventId": str(event_id),
            "occurredAt": datetime.now(UTC).isoformat(),
            "id": str(row["id"]),
            "userId": user_id,
            "tags": ["global:jobInfos", f"user:{user_id}:jobInfos", f"id:{row['id']}:jobInfos"],
        }
        conn.execute(
            insert(outbox).values(
                id=event_id,
                source="job-prep.job-infos",
                detail_type="JobInfoCreated",
                detail=detail,
                next_attempt_at=func.now() + timedelta(seconds=30),  # the relay's grace period, as ours
            )
        )
    events_client().put_events(
        Entries=[
            {
                "Source": "job-prep.job-infos",
                "DetailType": "JobInfoCreated",
                "Detail": json.dumps(detail),
                "EventBusName": os.environ["EVENT_BUS_NAME"],
            }
        ]
    )
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == event_id).values(sent_at=func.now()))
    response.headers["Location"] = f"/job-infos/{row['id']}"
    return dict(row)


handler = Mangum(app, lifespan="off", api_gateway_base_path="/")
