"""Fails the test run when held-out intent accuracy drops under the floor.

Reads the intent_report.json that `rasa test nlu` writes and prints the per-intent F1
table support staff look at. The floors are set from measurement (README, "Quality"):
a little under what the current model reaches, so a real regression fails CI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MIN_ACCURACY = 0.93
MIN_FAQ_F1 = 0.80  # any single FAQ topic under this fails too


def main(results_dir: str) -> int:
    report = json.loads((Path(results_dir) / "intent_report.json").read_text(encoding="utf-8"))
    from actions.content import load_flows

    faq = set(load_flows())
    accuracy = report["accuracy"]
    rows = sorted(
        (k, v) for k, v in report.items() if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")
    )
    print(f"{'intent':36} {'F1':>6} {'support':>8}")
    for name, v in rows:
        print(f"{name:36} {v['f1-score']:6.3f} {v['support']:8d}")
    print(f"accuracy {accuracy:.3f}  macro-F1 {report['macro avg']['f1-score']:.3f}  (floor: accuracy {MIN_ACCURACY}, FAQ F1 {MIN_FAQ_F1})")
    weak = [name for name, v in rows if name in faq and v["f1-score"] < MIN_FAQ_F1]
    if accuracy < MIN_ACCURACY or weak:
        print(
            f"FAILED: accuracy {accuracy:.3f} < {MIN_ACCURACY}"
            if accuracy < MIN_ACCURACY
            else f"FAILED: FAQ intents under F1 {MIN_FAQ_F1}: {', '.join(weak)}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/nlu"))
