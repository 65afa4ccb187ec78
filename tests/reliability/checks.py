"""What every reliability test checks after its bad input or fault: the server is up, the
conversation's stored events are readable and whole, and the conversation carries on."""

from __future__ import annotations

from pathlib import Path

import cluster
import requests
import yaml

from actions.content import load_flows

FLOWS = load_flows()
PROCEDURE_FLOW = "phone_changed"
PROCEDURE_QUESTION = "機種変更でワンタイムコードが確認できない"
STEPS = FLOWS[PROCEDURE_FLOW].nodes[FLOWS[PROCEDURE_FLOW].start].steps
DOMAIN = yaml.safe_load((cluster.ROOT / "domain.yml").read_text(encoding="utf-8"))
CONTACT = ("e-Govの問い合わせフォーム", "e-Gov利用者サポートデスク")
NOT_FOR_USERS = ("Traceback", "Exception", "Error", "error", "exception", "stack")


def step_text(n: int) -> str:
    return f"手順 {n}/{len(STEPS)}\n{STEPS[n - 1]}"


def response_text(name: str) -> str:
    """A response's text: domain.yml, else the channel's fallback file (until domain.yml has it)."""
    variants = (DOMAIN.get("responses") or {}).get(name)
    if not variants:
        fallback = yaml.safe_load((cluster.ROOT / "channels" / "fallback_responses.yml").read_text(encoding="utf-8"))
        variants = fallback[name]
    return variants[0]["text"]


def texts_of(reply: list[dict]) -> list[str]:
    return [m.get("text", "") for m in reply]


def start_procedure(stack: cluster.Stack, sender: str, instance: int = 0) -> None:
    texts = stack.texts(sender, PROCEDURE_QUESTION, instance)
    assert step_text(1) in texts, texts


def server_up(stack: cluster.Stack, instance: int = 0) -> None:
    assert requests.get(stack.url(instance) + "/", timeout=10).ok
    assert stack.rasa[instance].alive()


def whole_turns(events: list[tuple[int, str, dict]]) -> None:
    """Each stored user message is followed by the bot's turn, ending in action_listen,
    before the next user message: no turn lost half-way, none interleaved."""
    open_turn = False
    for _, type_name, event in events:
        if type_name == "user":
            assert not open_turn, "a user message was stored inside another turn"
            open_turn = True
        elif type_name == "action" and event.get("name") == "action_listen":
            open_turn = False
    assert not open_turn, "the last turn was not finished"


def conversation_intact(stack: cluster.Stack, sender: str, db: Path | None, expected_step: int = 1, instance: int = 0) -> list[str]:
    """The tracker is readable and whole, and the procedure continues at the expected step.

    Returns the user messages as stored."""
    server_up(stack, instance)
    texts = stack.texts(sender, "/guide_resume", instance)
    assert step_text(expected_step) in texts, texts
    if db is None:
        return []
    events = cluster.sqlite_events(db, sender)
    assert events, "nothing stored for this conversation"
    whole_turns(events)
    return cluster.user_texts(events)
