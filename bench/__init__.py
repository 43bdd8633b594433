"""Benchmarks: cold init, warm latency and connections held, each against a floor measured in the same run."""
