"""What `make bench` measures against (the report's targets table and charts)."""

TARGETS = {
    "top1": 0.95,
    "oos_recall": 0.90,
    "false_fallback": 0.03,
    "parse_p50_ms": 5.0,
    "turn_p95_ms_10": 50.0,
    "train_s": 120.0,
}
