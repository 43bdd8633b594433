"""SnapStart runtime hooks: with SnapStart on (template parameter SnapStart), Lambda runs the init
once when it publishes a version, snapshots the memory, and resumes any number of environments
from that one snapshot, possibly days later. Whatever init captured is then shared by all of
them and as old as the snapshot. These hooks drop what must not be shared:

* the pooled database connection: a socket in the snapshot is dead after a restore (or, worse,
  the same session in every clone); dropped before the snapshot and again after the restore,
  so each restored environment opens, and negotiates TLS for, a connection of its own;
* the ``random`` module's state, seeded once at import: every clone would draw the same
  sequence (botocore's retry jitter, Powertools' log sampling);
* cached AWS clients and cached secrets: their connections and credentials date from the snapshot.

Powertools' cold-start flags need nothing: they flip on the first invocation, which no
snapshot includes, so the first invocation after a restore reports a cold start.

The hooks are registered with ``snapshot_restore_py``, which the Lambda runtime provides (not the
layer); where it is absent registration is skipped, and the hooks stay callable (the tests call them).
Imported by every entrypoint (api.entrypoint, the relay, migrate) so every function registers them.
"""

from __future__ import annotations

import random
import sys

from jobprep.db import engine as db
from jobprep.db.credentials import rds_client
from jobprep.events.publisher import events_client
from jobprep.events.wakeup import sqs_client


def before_snapshot() -> None:
    db.engine.dispose()


def after_restore() -> None:
    db.engine.dispose()  # in case anything connected after the before-snapshot hook
    random.seed()  # from os.urandom, which the restored environment reseeds
    # Every cached AWS client (EventBridge, the relay's wake-up queue, aurora mode's token signer)
    # is replaced, and one the init had created is created again here, in the restore phase,
    # so the first invocation after a restore does not pay for it (as it would not after an INIT).
    for factory in (events_client, sqs_client, rds_client):
        existed = factory.cache_info().currsize > 0
        factory.cache_clear()
        if existed:
            factory()
    # Only if something imported it: importing it here would cost the restore more than it saves.
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()


def register() -> bool:
    """Register the hooks with the Lambda runtime; False where there is none (tests, `make dev`)."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ModuleNotFoundError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


registered = register()
