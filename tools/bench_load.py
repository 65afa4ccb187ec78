"""Load client for `make bench`, run as its own process (tools/bench_serve.py starts it).

`conversations`: N concurrent users, each talking through the REST channel for a fixed
number of turns, cycling through scripted conversations that start guided flows,
move inside them (/guide_next, 戻って, /guide_all), pick a branch, answer
「解決しましたか？」, fill the unlock-request form, small talk; every user has its own sender id.
`parse`: sequential POST /model/parse (needs `rasa run --enable-api`).
`--think S` pauses 0.5-1.5 × S seconds between a user's turns (a person reading the
answer); the default 0 sends turns back to back, the harshest case.
Prints one JSON object on stdout. Bounded: fixed turns, 60 s timeout per request.

Without a mode (`python -m tools.bench_load`): the scale-out load run, 100 concurrent
conversations × 10 turns through two Rasa servers sharing PostgreSQL and Redis; starts
and stops everything itself, prints a table, writes results/bench/load.md and
load.json, and exits non-zero on any error or any lost turn. `--users`, `--turns`,
`--instances` change the size.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

# Each script is one conversation; a user plays them in turn, each with a new sender id.
SCRIPTS: list[list[str]] = [
    [  # the guided walkthrough of the e2e test: FAQ → steps → back → all → resolved?
        "秘密の質問を忘れました",
        "/guide_next",
        "/guide_next",
        "次へ",
        "/guide_back",
        "/guide_all",
        "/guide_next",
        "いいえ",
    ],
    [  # branch question answered by an entity, then the steps
        "GビズIDでログインしたらHTTP500の内部サーバーエラーが出ます",
        "Microsoftアカウントです",
        "はい",  # 別アカウントのメールアドレスを変更できましたか？
        "はい",  # 解決しましたか？
    ],
    [  # small talk, interruption mid-procedure, resume, stop
        "こんにちは",
        "機種変更したらワンタイムコードが見られなくなった",
        "/guide_next",
        "ありがとうございます",
        "/guide_resume",
        "/guide_next",
        "やめる",
        "さようなら",
    ],
    [  # support request: the unlock flow hands over to its form (validated by the action server)
        "何ができるの",
        "ロックを解除してもらいたいです",
        "電子申請",
        "taro.yamada@example.com",
        "はい",  # not one of the offered fields: the form asks again
        "やめる",  # stop the request
        "オペレーターと話したい",
        "週末のおすすめの映画は？",
    ],
]


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summary(latencies_ms: list[float], wall_s: float, errors: int, extra: dict | None = None) -> dict:
    ms = sorted(latencies_ms)
    return {
        "requests": len(ms) + errors,
        "ok": len(ms),
        "errors": errors,
        "wall_s": wall_s,
        "throughput_per_s": len(ms) / wall_s if wall_s else 0.0,
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": ms[-1] if ms else float("nan"),
        "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
        **(extra or {}),
    }


async def user(
    session: aiohttp.ClientSession, url: str, index: int, turns: int, out: list[float], problems: list[str], think: float = 0.0
) -> None:
    script_no, line, sender = index % len(SCRIPTS), 0, f"bench-{uuid.uuid4().hex[:10]}"
    rng = random.Random(index)  # the same pauses on every run
    if think:
        await asyncio.sleep(rng.uniform(0, think))  # users do not all start in the same millisecond
    for turn in range(turns):
        if think and turn:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        script = SCRIPTS[script_no]
        message = script[line]
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": message}) as reply:
                body = await reply.json(content_type=None) if reply.status == 200 else None
                elapsed = 1000 * (time.perf_counter() - start)
                if reply.status != 200:
                    problems.append(f"HTTP {reply.status} for {message!r}")
                elif not body or not any(m.get("text") for m in body):
                    problems.append(f"no answer to {message!r}")
                else:
                    out.append(elapsed)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            problems.append(f"{type(exc).__name__} for {message!r}")
        line += 1
        if line == len(script):  # next conversation, new sender
            script_no, line, sender = (script_no + 1) % len(SCRIPTS), 0, f"bench-{uuid.uuid4().hex[:10]}"


async def conversations(base: str, users: int, turns: int, think: float = 0.0) -> dict:
    url = f"{base}/webhooks/rest/webhook"
    latencies: list[float] = []
    problems: list[str] = []
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=users + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(user(session, url, i, turns, latencies, problems, think) for i in range(users)))
        wall = time.perf_counter() - start
    return summary(latencies, wall, len(problems), {"users": users, "turns_per_user": turns, "think_s": think, "problems": problems[:10]})


async def parse(base: str, token: str, texts: list[str], rounds: int) -> dict:
    url = f"{base}/model/parse?token={token}"
    latencies: list[float] = []
    problems: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for text in texts[:10]:  # warm-up
            async with session.post(url, json={"text": text}) as reply:
                await reply.read()
        start = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                t0 = time.perf_counter()
                async with session.post(url, json={"text": text}) as reply:
                    body = await reply.json(content_type=None)
                    if reply.status != 200 or "intent" not in body:
                        problems.append(f"HTTP {reply.status}")
                        continue
                latencies.append(1000 * (time.perf_counter() - t0))
        wall = time.perf_counter() - start
    return summary(latencies, wall, len(problems), {"problems": problems[:10]})


# --- the scale-out load run: `python -m tools.bench_load` (no mode) -------------------------
# 100 concurrent conversations × 10 turns through two Rasa servers that share a PostgreSQL
# tracker store and a Redis lock store (config/endpoints.scaleout.yml), one action server;
# every conversation's turns alternate between the two servers. Starts everything itself
# (scripts/services.sh in a temporary folder, free ports on 127.0.0.1) and stops it after.

ROOT = Path(__file__).resolve().parent.parent
LOAD_OUT = ROOT / "results" / "bench"

# Ten turns each, every one answered by the assistant; no message here falls back to
# "did you mean", so the stored user messages must equal the sent ones exactly.
LOAD_SCRIPTS: list[list[str]] = [
    [  # a procedure end to end, back and forth, the handoff
        "秘密の質問を忘れました",
        "/guide_next",
        "/guide_next",
        "次へ",
        "/guide_back",
        "/guide_all",
        "/guide_next",
        "いいえ",
        "ありがとうございます",
        "さようなら",
    ],
    [  # a branch question, then its steps, small talk, another topic
        "こんにちは",
        "GビズIDでログインしたらHTTP500の内部サーバーエラーが出ます",
        "Microsoftアカウントです",
        "/guide_next",
        "/guide_next",
        "はい",
        "何ができるの",
        "機種変更したらワンタイムコードが見られなくなった",
        "/guide_next",
        "やめる",
    ],
    [  # the unlock-request form, validated by the action server, to the inquiry text
        "アカウントのロックを解除してほしいです",
        '/inform{"unlock_service":"egov_application"}',
        "taro.yamada@example.jp",
        '/inform{"identity_choice":"arrival_number"}',
        "123456789012345678",
        '/inform{"identity_choice":"procedure_name"}',
        "雇用保険被保険者資格取得届",
        '/inform{"identity_choice":"done"}',
        "はい",
        "ありがとうございます",
    ],
    [  # interruption mid-procedure, resume, stop, another topic
        "こんにちは",
        "機種変更したらワンタイムコードが見られなくなった",
        "/guide_next",
        "ありがとうございます",
        "/guide_resume",
        "/guide_next",
        "やめる",
        "アカウントロック中ですと表示されます",
        "/guide_all",
        "さようなら",
    ],
]


def _cluster():
    """tests/reliability/cluster.py (tests/ is not a package): the reliability suite's harness."""
    spec = importlib.util.spec_from_file_location("reliability_cluster", ROOT / "tests" / "reliability" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@dataclass
class TurnRecord:
    conversation: int
    turn: int
    instance: int
    status: int
    ms: float
    answered: bool
    problem: str = ""


def stored_user_messages(events: list[tuple[int, str, dict]]) -> list[str]:
    """User messages as the conversation holds them. Rasa stores a message twice when it
    replays it after a "did you mean" (a `rewind` in between); the replay is not a turn."""
    texts: list[str] = []
    replay = False
    for _, type_name, event in events:
        if type_name == "rewind":
            replay = True
        elif type_name == "user":
            text = event.get("text") or ""
            if not (replay and texts and texts[-1] == text):
                texts.append(text)
            replay = False
    return texts


async def _talk(
    session: aiohttp.ClientSession, urls: list[str], index: int, turns: int, records: list[TurnRecord]
) -> tuple[str, list[str]]:
    script = LOAD_SCRIPTS[index % len(LOAD_SCRIPTS)]
    sender, sent = f"load-{index:03d}-{uuid.uuid4().hex[:8]}", []
    for turn in range(turns):
        message = script[turn % len(script)]
        instance = (index + turn) % len(urls)  # each turn on the other server than the one before
        start = time.perf_counter()
        status, answered, problem = 0, False, ""
        try:
            async with session.post(f"{urls[instance]}/webhooks/rest/webhook", json={"sender": sender, "message": message}) as reply:
                status = reply.status
                body = await reply.json(content_type=None)
                answered = status == 200 and bool(body) and all(m.get("text") or m.get("buttons") for m in body)
                if not answered:
                    problem = f"HTTP {status}: {str(body)[:120]}"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        records.append(TurnRecord(index, turn, instance, status, 1000 * (time.perf_counter() - start), answered, problem))
        sent.append(message)
    return sender, sent


async def _drive(urls: list[str], users: int, turns: int) -> tuple[list[TurnRecord], dict[str, list[str]], float]:
    records: list[TurnRecord] = []
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=users + 4)) as session:
        start = time.perf_counter()
        done = await asyncio.gather(*(_talk(session, urls, i, turns, records) for i in range(users)))
        wall = time.perf_counter() - start
    return records, dict(done), wall


def _percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(values)
    return {name: percentile(ms, q) for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))} | {
        "max": ms[-1] if ms else float("nan"),
        "mean": sum(ms) / len(ms) if ms else float("nan"),
    }


def load_run(users: int = 100, turns: int = 10, instances: int = 2, log: callable = print) -> dict[str, Any]:
    cluster = _cluster()
    services = cluster.Services(db="rasa_load")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        try:
            started = time.perf_counter()
            services.start()
            stack = cluster.Stack(Path(tmp), rasa_count=instances, endpoints=cluster.SCALEOUT_ENDPOINTS, env=services.values)
            try:
                stack.start()
                ready_s = time.perf_counter() - started
                urls = [stack.url(i) for i in range(instances)]
                log(f"  {instances} Rasa servers, 1 action server, PostgreSQL + Redis up in {ready_s:.0f} s; warming up")
                asyncio.run(_drive(urls, 2 * instances, 3))
                log(f"  {users} conversations × {turns} turns, alternating servers…")
                records, sent, wall = asyncio.run(_drive(urls, users, turns))
                lost = []
                for sender, messages in sent.items():
                    stored = stored_user_messages(services.events(sender))
                    if stored != messages:
                        lost.append({"conversation": sender, "sent": len(messages), "stored": len(stored)})
            finally:
                stack.stop()
        finally:
            services.remove()
    ok = [r.ms for r in records if r.answered]
    result = {
        "users": users,
        "turns_per_user": turns,
        "instances": instances,
        "requests": len(records),
        "answered": len(ok),
        "errors": sum(not r.answered for r in records),
        "conversations_checked": len(sent),
        "lost_or_duplicated_turns": sum(abs(x["sent"] - x["stored"]) or 1 for x in lost),
        "conversations_with_stored_mismatch": lost[:10],
        "wall_s": wall,
        "throughput_per_s": len(ok) / wall if wall else 0.0,
        "latency_ms": _percentiles(ok),
        "per_instance": {
            f"rasa-{i + 1}": {
                "turns": sum(r.instance == i for r in records),
                **_percentiles([r.ms for r in records if r.instance == i and r.answered]),
            }
            for i in range(instances)
        },
        "problems": sorted({r.problem for r in records if r.problem})[:10],
        "ready_s": ready_s,
    }
    return result


def load_report(result: dict[str, Any]) -> str:
    lat, inst = result["latency_ms"], result["per_instance"]
    rows = [
        ("set-up", f"{result['instances']} Rasa servers + 1 action server, PostgreSQL tracker store, Redis lock store, 127.0.0.1"),
        ("conversations × turns", f"{result['users']} concurrent × {result['turns_per_user']} (turns alternate between the servers)"),
        ("requests / answered", f"{result['requests']} / {result['answered']}"),
        ("errors", str(result["errors"])),
        ("turns lost, duplicated or reordered (checked in PostgreSQL)", str(result["lost_or_duplicated_turns"])),
        ("wall time", f"{result['wall_s']:.1f} s"),
        ("throughput", f"{result['throughput_per_s']:.1f} turns/s"),
        ("latency p50 / p90 / p95 / p99 / max", " / ".join(f"{lat[k]:.0f}" for k in ("p50", "p90", "p95", "p99", "max")) + " ms"),
    ]
    rows += [(f"{name}: turns, p50 / p95", f"{v['turns']}, {v['p50']:.0f} / {v['p95']:.0f} ms") for name, v in inst.items()]
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)
    return (
        "# Load: 100 conversations × 10 turns on two Rasa servers\n\n"
        "`python -m tools.bench_load` (machine: 2 cores; everything on this machine, loopback only).\n\n"
        f"| {'measure'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|\n{table}\n"
        + ("\nProblems: " + "; ".join(result["problems"]) + "\n" if result["problems"] else "")
    )


def load_main(args: argparse.Namespace) -> int:
    print(f"Load run: {args.users} conversations × {args.turns} turns, {args.instances} Rasa servers")
    result = load_run(args.users, args.turns, args.instances)
    report = load_report(result)
    print(report)
    LOAD_OUT.mkdir(parents=True, exist_ok=True)
    (LOAD_OUT / "load.md").write_text(report, encoding="utf-8")
    (LOAD_OUT / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"Written: {(LOAD_OUT / 'load.md').relative_to(ROOT)}, {(LOAD_OUT / 'load.json').relative_to(ROOT)}")
    return 0 if result["errors"] == 0 and result["lost_or_duplicated_turns"] == 0 else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100, help="scale-out load run: concurrent conversations (default 100)")
    ap.add_argument("--turns", type=int, default=10, help="scale-out load run: turns per conversation (default 10)")
    ap.add_argument("--instances", type=int, default=2, help="scale-out load run: Rasa servers (default 2)")
    sub = ap.add_subparsers(dest="mode")
    c = sub.add_parser("conversations")
    c.add_argument("--url", required=True)
    c.add_argument("--users", type=int, required=True)
    c.add_argument("--turns", type=int, required=True)
    c.add_argument("--think", type=float, default=0.0, help="mean pause between a user's turns, seconds (0: back to back)")
    p = sub.add_parser("parse")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--texts", required=True, help="JSON file with a list of messages")
    p.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.mode is None:
        sys.exit(load_main(args))
    if args.mode == "conversations":
        result = asyncio.run(conversations(args.url, args.users, args.turns, args.think))
    else:
        with open(args.texts, encoding="utf-8") as fh:
            texts = json.load(fh)
        result = asyncio.run(parse(args.url, args.token, texts, args.rounds))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
