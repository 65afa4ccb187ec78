"""Serving figures for `make bench`.

Starts the action server and the Rasa server as every suite does (serving/harness.py:
same commands and arguments as `make run`, SQLite tracker store, in-memory lock store),
then drives conversations from a separate process (bench/load.py) at several
concurrency levels. Parse-only latency needs `rasa run --enable-api`, so a second Rasa
instance is started for it alone, with an auth token, after the first pair is stopped.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from serving.harness import WEBHOOK, Stack

ROOT = Path(__file__).resolve().parent.parent


def memory_mib(pid: int) -> dict[str, float]:
    """Resident set now and its peak, MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss_mib" if key == "VmRSS" else "peak_rss_mib"] = int(value.split()[0]) / 1024
    return out


def run_client(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bench.load", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"load client failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


LOAD_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from rasa.core.agent import Agent
t1 = time.perf_counter()
Agent.load(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1}))
"""


def model_load(model: Path) -> dict[str, float]:
    """Agent.load in a fresh process: Rasa's imports, then the model itself."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(model)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"model load probe failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def conversations(
    model: Path, levels: list[int], turns: int, log: callable = print, think: float = 2.0, think_users: int = 10
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-servers-") as tmp:
        start = time.perf_counter()
        with Stack(Path(tmp), model=model) as servers:
            ready_s = time.perf_counter() - start
            rasa_pid, actions_pid = servers.rasa[0].popen.pid, servers.actions.popen.pid
            idle = {"rasa": memory_mib(rasa_pid), "actions": memory_mib(actions_pid)}
            log(f"  servers up in {ready_s:.1f} s; warming up")
            run_client("conversations", "--url", servers.rasa_url, "--users", "2", "--turns", "16")
            results = []
            for users in levels:
                result = run_client("conversations", "--url", servers.rasa_url, "--users", str(users), "--turns", str(turns))
                log(
                    f"  {users:3d} users × {turns} turns: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
                    f"p99 {result['p99_ms']:.1f} ms, {result['throughput_per_s']:.1f} turns/s, errors {result['errors']}"
                )
                results.append(result)
            paced = run_client(
                "conversations", "--url", servers.rasa_url, "--users", str(think_users), "--turns", str(turns), "--think", str(think)
            )
            log(
                f"  {think_users:3d} users × {turns} turns, {think:g} s pauses: p50 {paced['p50_ms']:.1f} ms, "
                f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms, errors {paced['errors']}"
            )
            loaded = {"rasa": memory_mib(rasa_pid), "actions": memory_mib(actions_pid)}
    return {"ready_s": ready_s, "levels": results, "paced": paced, "memory_idle": idle, "memory_after_load": loaded}


LENGTH_CYCLE = ["秘密の質問の答えを忘れました"] + ["/guide_next"] * 7 + ["/affirm"]  # the 7-step procedure, again and again


def latency_by_length(model: Path, turns: int = 270, stock: bool = False, log: callable = print) -> dict[str, Any]:
    """One conversation walking the 7-step procedure again and again: each turn's latency
    by its position. stock=True serves with EGOV_STOCK_RASA=1 (serving/rasa_patches.py off)."""
    import requests

    env = {"EGOV_RATE_PER_CONVERSATION": "0", **({"EGOV_STOCK_RASA": "1"} if stock else {})}  # one conversation, back to back
    with tempfile.TemporaryDirectory(prefix="bench-length-") as tmp:
        with Stack(Path(tmp), model=model, env=env) as servers:
            session = requests.Session()
            url = f"{servers.rasa_url}{WEBHOOK}"
            times = []
            for i in range(turns):
                start = time.perf_counter()
                session.post(
                    url, json={"sender": "bench-length", "message": LENGTH_CYCLE[i % len(LENGTH_CYCLE)]}, timeout=60
                ).raise_for_status()
                times.append(1000 * (time.perf_counter() - start))
    early, late = statistics.median(times[:30]), statistics.median(times[-30:])
    label = "stock Rasa" if stock else "with the project's patches"
    log(f"  {label}: turns 1-30 p50 {early:.1f} ms, turns {turns - 29}-{turns} p50 {late:.1f} ms, ratio {late / early:.2f}")
    return {"stock": stock, "ms": times, "early_p50_ms": early, "late_p50_ms": late, "ratio": late / early}


def conversations_in_memory(model: Path, users: int, turns: int, log: callable = print) -> dict[str, Any]:
    """What-if: the same pair with Rasa's in-memory tracker store instead of SQLite.

    Not how `make run` serves (conversations would not survive a restart); measured to
    show what the tracker store costs per turn."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        endpoints = Path(tmp) / "endpoints.memory.yml"
        endpoints.write_text(
            "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\ntracker_store:\n  type: InMemoryTrackerStore\nlock_store:\n  type: in_memory\n",
            encoding="utf-8",
        )
        with Stack(Path(tmp), model=model, endpoints=endpoints) as servers:
            run_client("conversations", "--url", servers.rasa_url, "--users", "2", "--turns", "16")
            result = run_client("conversations", "--url", servers.rasa_url, "--users", str(users), "--turns", str(turns))
    log(
        f"  in-memory tracker store, {users} users: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
        f"{result['throughput_per_s']:.1f} turns/s, errors {result['errors']}"
    )
    return result


def parse_only(model: Path, texts: list[str], rounds: int = 3, log: callable = print) -> dict[str, Any]:
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        start = time.perf_counter()
        with Stack(Path(tmp), model=model, rasa_args=[["--enable-api", "--auth-token", token]]) as servers:
            ready_s = time.perf_counter() - start
            result = run_client("parse", "--url", servers.rasa_url, "--token", token, "--texts", str(texts_file), "--rounds", str(rounds))
            result["ready_s"] = ready_s
            result["memory"] = memory_mib(servers.rasa[0].popen.pid)
    log(
        f"  /model/parse: p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms over {result['ok']} requests, errors {result['errors']}"
    )
    return result
