"""Serving capacity for `make bench`: one Rasa server against N behind nginx, with the
project's speed-ups on and off, and a flood into one conversation.

- Throughput: closed loop (each user sends its next turn as soon as the last is
  answered), 10 and 50 users. One server is `make run`'s default (SQLite tracker store,
  in-memory lock store); N servers are `make run SERVERS=N` (nginx, PostgreSQL, Redis).
  "Stock" serves with EGOV_STOCK_RASA=1: none of serving/rasa_patches.py.
- Flood: three connections send as fast as they can, into one conversation or each
  message into a new one, while ten people hold normal conversations (a pause of about
  a second between turns); their turn latency is compared with the same people without
  the flood, with the limit that answers that flood on and off.
All clients run in another process (bench/load.py); every server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.serve import ROOT, run_client
from serving.harness import Services, Stack
from serving.rate_limit import Limits


@contextlib.contextmanager
def serving(model: Path, instances: int, env: dict[str, str]) -> Iterator[str]:
    """The URL users arrive at: one embedded server, or nginx in front of `instances`."""
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        if instances == 1:
            with Stack(Path(tmp), model=model, env=env) as stack:
                yield stack.url()
            return
        services = Services(db="rasa_throughput")
        try:
            services.start()
            with Stack(Path(tmp), rasa_count=instances, services=services, balanced=True, env=env, model=model) as stack:
                yield stack.url()
        finally:
            services.remove()


def servers(
    model: Path, counts: tuple[int, ...] = (1, 2), levels: tuple[int, ...] = (10, 50), turns: int = 20, log: Callable = print
) -> list[dict[str, Any]]:
    rows = []
    for stock in (False, True):
        for count in counts:
            env = {"EGOV_STOCK_RASA": "1"} if stock else {}
            with serving(model, count, env) as url:
                run_client("conversations", "--url", url, "--users", "4", "--turns", "8")  # warm-up
                for users in levels:
                    result = run_client("conversations", "--url", url, "--users", str(users), "--turns", str(turns))
                    label = f"{count} server{'s' if count > 1 else ''}, {'stock Rasa' if stock else 'patched'}"
                    log(
                        f"  {label}, {users} users: {result['throughput_per_s']:.1f} turns/s, "
                        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, errors {result['errors']}"
                    )
                    rows.append({"servers": count, "stock": stock, "users": users, **result})
    return rows


# (what the flood does, the limit that answers it, the environment with it on, and off);
# the limits are the defaults of serving/rate_limit.py
DEFAULT = Limits.from_environment({})
FLOODS = [
    ("one conversation", f"{DEFAULT.conversations.limit} a minute per conversation", {}, {"EGOV_RATE_PER_CONVERSATION": "0"}),
    (
        "a new conversation every message",
        f"{DEFAULT.addresses.limit} a minute per address",
        {"EGOV_RATE_PER_ADDRESS": str(DEFAULT.addresses.limit)},
        {"EGOV_RATE_PER_ADDRESS": "0"},
    ),
]


def flood(model: Path, seconds: float = 25.0, log: Callable = print) -> list[dict[str, Any]]:
    rows = []
    for target, limit, on, off in FLOODS:
        for limited in (True, False):
            with serving(model, 1, on if limited else off) as url:
                people = ("conversations", "--url", url, "--users", "10", "--turns", "12", "--think", "1.0")
                calm = run_client(*people)
                command = ["flood", "--url", url, "--seconds", str(seconds), "--clients", "3"]
                flooder = subprocess.Popen(
                    [sys.executable, "-m", "bench.load", *command, *(["--spread"] if target != "one conversation" else [])],
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                    stdout=subprocess.PIPE,
                    text=True,
                )
                time.sleep(2)
                during = run_client(*people)
                out, _ = flooder.communicate(timeout=seconds + 120)
                flooded = json.loads(out.strip().splitlines()[-1])
            row = {
                "target": target,
                "limit": limit if limited else "off",
                "calm_p50_ms": calm["p50_ms"],
                "calm_p95_ms": calm["p95_ms"],
                "flood_p50_ms": during["p50_ms"],
                "flood_p95_ms": during["p95_ms"],
                "errors": calm["errors"] + during["errors"],
                "flood_sent": flooded["sent"],
                "flood_statuses": flooded["statuses"],
            }
            log(
                f"  flood into {target}, limit {row['limit']}: normal conversations p50 {row['calm_p50_ms']:.0f} ms, "
                f"during the flood {row['flood_p50_ms']:.0f} ms (p95 {row['calm_p95_ms']:.0f} → {row['flood_p95_ms']:.0f} ms); "
                f"flood: {flooded['sent']} messages, {flooded['statuses']}"
            )
            rows.append(row)
    return rows
