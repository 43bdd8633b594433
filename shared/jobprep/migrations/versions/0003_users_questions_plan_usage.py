"""The original app's whole data layer: users (synced from Clerk) with tombstones of deleted
accounts, questions, per-user plan usage; lists ordered by updated_at as the original shows them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("image_url", sa.String(2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "deleted_users",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deleted_users"),
    )
    difficulty = postgresql.ENUM("easy", "medium", "hard", name="questions_difficulty")
    op.create_table(
        "questions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_info_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(20_000), nullable=False),
        sa.Column("difficulty", difficulty, nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
        sa.ForeignKeyConstraint(
            ["job_info_id"], ["job_infos.id"], name="fk_questions_job_info_id_job_infos", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_questions_job_info_id_created_at_id", "questions", ["job_info_id", "created_at", "id"])
    op.create_table(
        "plan_usage",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("interviews", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("questions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_plan_usage"),
    )
    # What the free plan has counted so far: every interview that reached Hume (there were no
    # questions before this revision).
    op.execute(
        """
        INSERT INTO plan_usage (user_id, interviews)
        SELECT job_infos.user_id, count(*)
        FROM interviews JOIN job_infos ON job_infos.id = interviews.job_info_id
        WHERE interviews.hume_chat_id IS NOT NULL
        GROUP BY job_infos.user_id
        """
    )
    # Lists as the original app shows them: most recently updated first.
    op.drop_index("ix_job_infos_user_id_created_at_id", table_name="job_infos")
    op.create_index(
        "ix_job_infos_user_id_updated_at_id", "job_infos", ["user_id", sa.text("updated_at DESC"), sa.text("id DESC")]
    )
    op.drop_index("ix_interviews_job_info_id_created_at_id", table_name="interviews")
    op.create_index(
        "ix_interviews_job_info_id_updated_at_id",
        "interviews",
        ["job_info_id", sa.text("updated_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_interviews_completed_job_info_id_updated_at_id",
        "interviews",
        ["job_info_id", sa.text("updated_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("hume_chat_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_interviews_completed_job_info_id_updated_at_id", table_name="interviews")
    op.drop_index("ix_interviews_job_info_id_updated_at_id", table_name="interviews")
    op.create_index(
        "ix_interviews_job_info_id_created_at_id",
        "interviews",
        ["job_info_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.drop_index("ix_job_infos_user_id_updated_at_id", table_name="job_infos")
    op.create_index(
        "ix_job_infos_user_id_created_at_id", "job_infos", ["user_id", sa.text("created_at DESC"), sa.text("id DESC")]
    )
    op.drop_table("plan_usage")
    op.drop_index("ix_questions_job_info_id_created_at_id", table_name="questions")
    op.drop_table("questions")
    postgresql.ENUM(name="questions_difficulty").drop(op.get_bind())
    op.drop_table("deleted_users")
    op.drop_table("users")
