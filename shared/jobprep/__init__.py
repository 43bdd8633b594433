"""Shared code for the job-prep Lambda functions (deployed as one layer)."""
