"""What every reliability test checks after its bad input or fault: the server is up, the
conversation's stored events are readable and whole, and the conversation carries on."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

import requests
import yaml

from actions.content import load_flows
from serving import harness
from serving.harness import PAGE_ORIGINS, ROOT, Stack  # noqa: F401  (PAGE_ORIGINS: re-exported for the tests)

API_TOKEN = secrets.token_hex(16)  # the second Rasa server of the `pair` runs its HTTP API with it
REPORT_DIR = ROOT / "results" / "reliability"

FLOWS = load_flows()
PROCEDURE_FLOW = "phone_changed"
PROCEDURE_QUESTION = "機種変更でワンタイムコードが確認できない"
STEPS = FLOWS[PROCEDURE_FLOW].nodes[FLOWS[PROCEDURE_FLOW].start].steps
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CONTACT = ("e-Govの問い合わせフォーム", "e-Gov利用者サポートデスク")
NOT_FOR_USERS = ("Traceback", "Exception", "Error", "error", "exception", "stack")


def step_text(n: int) -> str:
    return f"手順 {n}/{len(STEPS)}\n{STEPS[n - 1]}"


def response_text(name: str) -> str:
    """A response's first text in domain.yml."""
    return DOMAIN["responses"][name][0]["text"]


APOLOGY = response_text("utter_service_unavailable")  # a turn that could not be completed
TOO_LONG = response_text("utter_message_too_long")


def texts_of(reply: list[dict]) -> list[str]:
    return [m.get("text", "") for m in reply]


def start_procedure(stack: Stack, sender: str, instance: int = 0) -> None:
    texts = stack.texts(sender, PROCEDURE_QUESTION, instance)
    assert step_text(1) in texts, texts


def server_up(stack: Stack, instance: int = 0) -> None:
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


def conversation_intact(stack: Stack, sender: str, db: Path | None, expected_step: int = 1, instance: int = 0) -> list[str]:
    """The tracker is readable and whole, and the procedure continues at the expected step.

    Returns the user messages as stored."""
    server_up(stack, instance)
    texts = stack.texts(sender, "/guide_resume", instance)
    assert step_text(expected_step) in texts, texts
    if db is None:
        return []
    events = harness.sqlite_events(db, sender)
    assert events, "nothing stored for this conversation"
    whole_turns(events)
    return harness.user_texts(events)


def new_sender(prefix: str = "rel") -> str:
    """A fresh conversation id without runs of digits: the log masking hides 6+ digits as
    a personal number, and tests that look for the id in a log must find it."""
    return f"{prefix}-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))


def write_figures(name: str, figures: dict) -> None:
    """Evidence for the resolution note: results/reliability/<name>.json (not in git)."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
