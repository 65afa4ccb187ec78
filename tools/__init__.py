"""Project commands run through the Makefile (checks, reports, benchmarks)."""
