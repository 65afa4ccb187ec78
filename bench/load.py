"""Load client for `make bench`, run as its own process (bench/serve.py starts it).

`conversations`: N concurrent users, each talking through the REST channel for a fixed
number of turns, cycling through scripted conversations that start guided flows,
move inside them (/guide_next, 戻って, /guide_all), pick a branch, answer
「解決しましたか？」, fill the unlock-request form, small talk; every user has its own sender id.
`parse`: sequential POST /model/parse (needs `rasa run --enable-api`).
`flood`: a few connections sending into one conversation as fast as they can.
`--think S` pauses 0.5-1.5 × S seconds between a user's turns (a person reading the
answer); the default 0 sends turns back to back, the harshest case.
Prints one JSON object on stdout. Bounded: fixed turns, 60 s timeout per request.

The scale-out load run through the load balancer is bench/scaleout.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid

import aiohttp

from serving.harness import WEBHOOK

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
    url = f"{base}{WEBHOOK}"
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


FLOOD_ADDRESS = "198.51.100.7"  # RFC 5737 documentation range


async def flood(base: str, seconds: float, clients: int, spread: bool = False) -> dict:
    """`clients` connections sending as fast as they can into one conversation, or
    (spread) each message into a new one, all as one client address: a documentation
    address in X-Forwarded-For, as the load balancer would pass it (the normal users of
    the same run come from 127.0.0.1)."""
    url, sender = f"{base}{WEBHOOK}", f"flood-{uuid.uuid4().hex[:10]}"
    statuses: dict[str, int] = {}
    end = time.perf_counter() + seconds

    async def one(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < end:
            try:
                to = f"flood-{uuid.uuid4().hex[:10]}" if spread else sender
                async with session.post(url, json={"sender": to, "message": "/guide_next"}) as reply:
                    await reply.read()
                    key = str(reply.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                key = type(exc).__name__
            statuses[key] = statuses.get(key, 0) + 1

    headers = {"X-Forwarded-For": FLOOD_ADDRESS}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), headers=headers) as session:
        await asyncio.gather(*(one(session) for _ in range(clients)))
    return {"sent": sum(statuses.values()), "statuses": statuses, "seconds": seconds, "clients": clients}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("conversations")
    c.add_argument("--url", required=True)
    c.add_argument("--users", type=int, required=True)
    c.add_argument("--turns", type=int, required=True)
    c.add_argument("--think", type=float, default=0.0, help="mean pause between a user's turns, seconds (0: back to back)")
    f = sub.add_parser("flood")
    f.add_argument("--url", required=True)
    f.add_argument("--seconds", type=float, default=20.0)
    f.add_argument("--clients", type=int, default=3)
    f.add_argument("--spread", action="store_true", help="every message into a new conversation")
    p = sub.add_parser("parse")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--texts", required=True, help="JSON file with a list of messages")
    p.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.mode == "conversations":
        result = asyncio.run(conversations(args.url, args.users, args.turns, args.think))
    elif args.mode == "flood":
        result = asyncio.run(flood(args.url, args.seconds, args.clients, args.spread))
    else:
        with open(args.texts, encoding="utf-8") as fh:
            texts = json.load(fh)
        result = asyncio.run(parse(args.url, args.token, texts, args.rounds))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
