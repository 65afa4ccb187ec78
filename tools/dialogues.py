"""The dialogue suite: conversations typed as real users type them (tests/dialogues/).

Each dialogue is a list of user turns with what the bot's reply must (or must not)
contain, and the FAQ remedy the conversation must reach. `run` plays one through
any `talk(sender, text) -> messages` function (the REST channel of real servers in
tests/e2e/test_dialogues.py and in `make bench`) and says whether it reached its
remedy, after how many turns, and what went wrong.

Two parts: tuning/ (the bot is tuned against it) and holdout/ (written before
tuning, only measured).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from usertext import squash

DIALOGUES_DIR = Path(__file__).resolve().parent.parent / "tests" / "dialogues"
PARTS = ("tuning", "holdout")
LOOP = 3  # the same bot message this many times in a row is a loop

Talk = Callable[[str, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Turn:
    user: str
    expect: str | None = None
    expect_not: str | None = None


@dataclass(frozen=True)
class Dialogue:
    name: str
    part: str
    path: Path
    turns: tuple[Turn, ...]
    reaches: str


@dataclass
class Result:
    dialogue: Dialogue
    reached_at: int | None = None  # the user turn (1-based) whose reply contained the remedy
    problems: list[str] = field(default_factory=list)
    transcript: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load(part: str, root: Path = DIALOGUES_DIR) -> list[Dialogue]:
    dialogues = []
    for path in sorted((root / part).glob("*.yml")):
        for raw in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("dialogues") or []:
            turns = tuple(Turn(str(t["user"]), t.get("expect"), t.get("expect_not")) for t in raw["turns"])
            dialogues.append(Dialogue(str(raw["name"]), part, path, turns, str(raw["reaches"])))
    return dialogues


def reply_texts(messages: list[dict[str, Any]]) -> list[str]:
    """Each bot message as the user sees it: its text and its buttons' titles."""
    return [" ".join([m.get("text") or "", *(b.get("title", "") for b in m.get("buttons") or [])]) for m in messages]


def run(dialogue: Dialogue, talk: Talk) -> Result:
    result = Result(dialogue)
    sender = f"dialogue-{uuid.uuid4().hex[:12]}"
    sent: list[str] = []  # every bot message text, in order, for the loop check
    for number, turn in enumerate(dialogue.turns, 1):
        try:
            messages = talk(sender, turn.user)
        except Exception as exc:  # a server error is a failed dialogue, not a crashed suite
            result.problems.append(f"turn {number}: {type(exc).__name__}: {exc}")
            break
        replies = reply_texts(messages)
        result.transcript.append((turn.user, replies))
        joined = squash(" ".join(replies))
        if turn.expect and squash(turn.expect) not in joined:
            result.problems.append(f"turn {number} 「{turn.user}」: expected 「{turn.expect}」")
        if turn.expect_not and squash(turn.expect_not) in joined:
            result.problems.append(f"turn {number} 「{turn.user}」: did not expect 「{turn.expect_not}」")
        if result.reached_at is None and squash(dialogue.reaches) in joined:
            result.reached_at = number
        sent += [m.get("text") or "" for m in messages]
        if len(sent) >= LOOP and len(set(sent[-LOOP:])) == 1:
            result.problems.append(f"turn {number}: the same message {LOOP} times in a row: 「{sent[-1][:40]}」")
    if result.reached_at is None:
        result.problems.append(f"never reached 「{dialogue.reaches}」")
    return result


def summary(results: list[Result]) -> dict[str, Any]:
    """Share that reached the remedy, share fully passing, and mean turns to the remedy."""
    reached = [r for r in results if r.reached_at is not None]
    return {
        "dialogues": len(results),
        "reached": len(reached),
        "passed": sum(r.ok for r in results),
        "reach_rate": len(reached) / len(results) if results else 0.0,
        "pass_rate": sum(r.ok for r in results) / len(results) if results else 0.0,
        "mean_turns": sum(r.reached_at or 0 for r in reached) / len(reached) if reached else 0.0,
    }


def report(results: list[Result]) -> str:
    """Failures, one block each, for a test failure message or the bench log."""
    lines = []
    for r in results:
        if r.ok:
            continue
        lines.append(f"✗ [{r.dialogue.part}] {r.dialogue.name} ({r.dialogue.path.name})")
        lines += [f"    {p}" for p in r.problems]
        for user, replies in r.transcript:
            lines.append(f"    > {user}")
            lines += [f"      < {text[:90]}" for text in replies]
    return "\n".join(lines)
