"""The one place logging, metrics and tracing are set up (Powertools). Every function, HTTP or
not, imports its logger, metrics and tracer from here."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
# X-Ray subsegments for the handler and for what waits on the network (the one SQL statement,
# PutEvents), placed by hand: patching libraries costs init time (every supported module +190-270 ms,
# botocore alone +70-130 ms) against +10-17 ms for this (bench/tracer_init.py, docs/operate.md).
# Disabled outside Lambda.
tracer = Tracer(auto_patch=False)
