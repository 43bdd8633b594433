"""`python -m jobprep_local.moto_process PARENT_PID [moto.server options]`: moto's own server
(`python -m moto.server`) in a process of its own, which exits when the process that started it
is gone (a `make dev` killed with SIGKILL must not leave it behind)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(0)


def main(argv: list[str]) -> None:
    parent_pid, *moto_args = argv
    threading.Thread(target=_exit_with_parent, args=(int(parent_pid),), name="parent-watch", daemon=True).start()
    logging.basicConfig()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    from moto.server import main as moto_server

    moto_server(moto_args)


if __name__ == "__main__":
    main(sys.argv[1:])
