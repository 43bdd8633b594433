"""The one place logging and metrics are set up (Powertools). Every function, HTTP or not,
imports its logger and metrics from here."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
