"""`make bench`: NLU quality against baselines, serving latency and throughput, the
conversation suite, and the report (results/bench/, docs/benchmarks.md)."""
