"""users (the original Drizzle schema: Clerk's id, name, email, image, Clerk's times) and the
tombstones of deleted accounts.

No foreign key points here from job_infos: a signed-in user may act before Clerk's
user.created webhook has arrived.
"""

from sqlalchemy import Column, DateTime, String, Table, func

from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX

NAME_MAX = 500  # first and last name joined
EMAIL_MAX = 320  # RFC 5321: 64 + 1 + 255
IMAGE_URL_MAX = 2048

users = Table(
    "users",
    metadata,
    Column("id", String(USER_ID_MAX), primary_key=True),  # Clerk's user id (the JWT's `sub`)
    Column("name", String(NAME_MAX), nullable=False),
    Column("email", String(EMAIL_MAX), nullable=False, unique=True),
    Column("image_url", String(IMAGE_URL_MAX), nullable=False),
    # Clerk's own created_at / updated_at: an upsert older than the stored one is ignored
    # (Svix may deliver user.updated events out of order).
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# An account deleted here: a user.created / user.updated delivered after its user.deleted
# (out of order, or a retry) must not bring the deleted person's data back. Clerk never
# reuses a user id.
deleted_users = Table(
    "deleted_users",
    metadata,
    Column("id", String(USER_ID_MAX), primary_key=True),
    Column("deleted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
