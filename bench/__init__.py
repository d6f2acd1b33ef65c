"""Benchmarks against the SPEC §5 budgets: `make bench` (python -m bench) prints one table."""
