"""Where a user is in a guided flow: the engine's state, kept in the slot `guide_state`.

A plain dict (slots hold JSON), typed here so every key the engine reads and writes
is named in one place.
"""

from __future__ import annotations

from typing import Any, TypedDict, TypeGuard

# What the bot waits for: 次へ at a step, an option, 「解決しましたか？」, or yes/no to the
# offer of a second topic. None: nothing (the flow has handed over or ended).
AWAIT_STEP, AWAIT_CHOICE, AWAIT_RESOLVED, AWAIT_TOPIC = "step", "choice", "resolved", "topic"
ACTIVE = (AWAIT_STEP, AWAIT_CHOICE)


class _Place(TypedDict):
    flow: str
    node: str | None
    step: int  # 1-based inside a procedure, 0 elsewhere
    awaiting: str | None
    history: list[list[Any]]  # [flow, node, step] of each place the user waited at, for 「戻る」
    trail: list[str]  # what was shown or answered, in order: the handoff lists it
    paused: GuideState | None  # the flow a new topic interrupted, offered again when this one ends
    also: str | None  # a second topic named in the first message, offered after this flow


class GuideState(_Place, total=False):
    offered: bool  # the bot asked whether to resume this (paused) flow
    misses: int  # answers not understood at the current question


def new_state(flow_id: str, trail: list[str] | None = None, paused: GuideState | None = None, also: str | None = None) -> GuideState:
    return {
        "flow": flow_id,
        "node": None,
        "step": 0,
        "awaiting": None,
        "history": [],
        "trail": trail or [],
        "paused": paused,
        "also": also,
    }


def is_question(state: Any) -> TypeGuard[GuideState]:
    """The bot waits for the answer to a question of its own (not a step's 次へ).
    True only for a state (a dict), so a caller's `state` is one after the check."""
    return isinstance(state, dict) and (state.get("awaiting") in (AWAIT_CHOICE, AWAIT_RESOLVED, AWAIT_TOPIC) or bool(state.get("offered")))
