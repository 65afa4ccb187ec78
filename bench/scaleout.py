"""The scale-out load run: `make bench-load` (`python -m bench.scaleout`).

100 concurrent conversations × 10 turns through nginx in front of two Rasa servers that
share a PostgreSQL tracker store and a Redis lock store (config/endpoints.scaleout.yml),
one action server: the set-up of `make run SERVERS=2`. Starts everything itself
(serving/harness.py: scripts/services.sh in a temporary folder, free ports on 127.0.0.1)
and stops it after; prints a table, writes results/bench/load.md and load.json, and
exits non-zero on any error or any lost turn. nginx's access log tells which server
answered each turn. `--users`, `--turns`, `--instances` change the size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import SCRIPTS, percentile
from serving.harness import WEBHOOK, Services, Stack

ROOT = Path(__file__).resolve().parent.parent
LOAD_OUT = ROOT / "results" / "bench"

# Ten turns each, every one answered by the assistant; no message here falls back to
# "did you mean", so the stored user messages must equal the sent ones exactly.
LOAD_SCRIPTS: list[list[str]] = [
    [*SCRIPTS[0], "ありがとうございます", "さようなら"],  # a procedure end to end, back and forth, the handoff
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
    [*SCRIPTS[2][:-1], "アカウントロック中ですと表示されます", "/guide_all", "さようなら"],  # interruption, resume, stop, another topic
]


@dataclass
class TurnRecord:
    conversation: int
    turn: int
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


async def _talk(session: aiohttp.ClientSession, url: str, index: int, turns: int, records: list[TurnRecord]) -> tuple[str, list[str]]:
    script = LOAD_SCRIPTS[index % len(LOAD_SCRIPTS)]
    sender, sent = f"load-{index:03d}-{uuid.uuid4().hex[:8]}", []
    for turn in range(turns):
        message = script[turn % len(script)]
        start = time.perf_counter()
        status, answered, problem = 0, False, ""
        try:
            async with session.post(f"{url}{WEBHOOK}", json={"sender": sender, "message": message}) as reply:
                status = reply.status
                body = await reply.json(content_type=None)
                answered = status == 200 and bool(body) and all(m.get("text") or m.get("buttons") for m in body)
                if not answered:
                    problem = f"HTTP {status}: {str(body)[:120]}"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        records.append(TurnRecord(index, turn, status, 1000 * (time.perf_counter() - start), answered, problem))
        sent.append(message)
    return sender, sent


async def _drive(url: str, users: int, turns: int) -> tuple[list[TurnRecord], dict[str, list[str]], float]:
    records: list[TurnRecord] = []
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=users + 4)) as session:
        start = time.perf_counter()
        done = await asyncio.gather(*(_talk(session, url, i, turns, records) for i in range(users)))
        wall = time.perf_counter() - start
    return records, dict(done), wall


def _percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(values)
    return {name: percentile(ms, q) for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))} | {
        "max": ms[-1] if ms else float("nan"),
        "mean": sum(ms) / len(ms) if ms else float("nan"),
    }


def load_run(users: int = 100, turns: int = 10, instances: int = 2, log: callable = print) -> dict[str, Any]:
    services = Services(db="rasa_load")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        try:
            started = time.perf_counter()
            services.start()
            stack = Stack(Path(tmp), rasa_count=instances, services=services, balanced=True)
            try:
                stack.start()
                ready_s = time.perf_counter() - started
                log(f"  nginx + {instances} Rasa servers, 1 action server, PostgreSQL + Redis up in {ready_s:.0f} s; warming up")
                asyncio.run(_drive(stack.url(), 2 * instances, 3))
                measured_from = len(services.balancer_log())
                log(f"  {users} conversations × {turns} turns through the load balancer…")
                records, sent, wall = asyncio.run(_drive(stack.url(), users, turns))
                served = [line for line in services.balancer_log()[measured_from:] if line.path == WEBHOOK]
                servers = {f"127.0.0.1:{proc.port}": f"rasa-{i + 1}" for i, proc in enumerate(stack.rasa)}
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
            name: {
                "turns": sum(line.upstream == address for line in served),
                **_percentiles([1000 * line.seconds for line in served if line.upstream == address and line.status == 200]),
            }
            for address, name in servers.items()
        },
        "problems": sorted({r.problem for r in records if r.problem})[:10],
        "ready_s": ready_s,
    }
    return result


def load_report(result: dict[str, Any]) -> str:
    lat, inst = result["latency_ms"], result["per_instance"]
    rows = [
        ("set-up", f"nginx + {result['instances']} Rasa servers + 1 action server, PostgreSQL tracker store, Redis lock store, 127.0.0.1"),
        ("conversations × turns", f"{result['users']} concurrent × {result['turns_per_user']} (through nginx, round robin)"),
        ("requests / answered", f"{result['requests']} / {result['answered']}"),
        ("errors", str(result["errors"])),
        ("turns lost, duplicated or reordered (checked in PostgreSQL)", str(result["lost_or_duplicated_turns"])),
        ("wall time", f"{result['wall_s']:.1f} s"),
        ("throughput", f"{result['throughput_per_s']:.1f} turns/s"),
        ("latency p50 / p90 / p95 / p99 / max", " / ".join(f"{lat[k]:.0f}" for k in ("p50", "p90", "p95", "p99", "max")) + " ms"),
    ]
    rows += [
        (f"{name}: turns, p50 / p95 (nginx's timing)", f"{v['turns']}, {v['p50']:.0f} / {v['p95']:.0f} ms") for name, v in inst.items()
    ]
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)
    return (
        "# Load: 100 conversations × 10 turns through nginx on two Rasa servers\n\n"
        "`python -m bench.scaleout` (machine: 2 cores; everything on this machine, loopback only).\n\n"
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100, help="concurrent conversations (default 100)")
    ap.add_argument("--turns", type=int, default=10, help="turns per conversation (default 10)")
    ap.add_argument("--instances", type=int, default=2, help="Rasa servers behind nginx (default 2)")
    return load_main(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
