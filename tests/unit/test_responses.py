"""actions/responses.py, what the code needs from domain.yml: declared once, enforced where
the actions send, and read by the content check (which no longer reads the code)."""

from __future__ import annotations

import json
import re

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import responses
from actions.guide import AWAIT_CHOICE, Engine, Say
from contentcheck.check import run
from contentcheck.files import copy_project

VARIABLE = re.compile(r"\{(\w+)\}")


def test_every_declared_response_is_in_the_domain_with_its_variables(domain):
    slots = set(domain["slots"])
    for name, declared in responses.RESPONSES.items():
        assert name in domain["responses"], name
        for variant in domain["responses"][name]:
            used = set(VARIABLE.findall(variant.get("text") or ""))
            assert declared.variables <= used and used - declared.variables <= slots, name


def test_every_declared_intent_is_in_the_domain(domain):
    assert set(responses.INTENTS) <= set(domain["intents"])


def test_send_takes_only_declared_responses_with_their_variables():
    dispatcher = CollectingDispatcher()
    responses.send(dispatcher, responses.FIELD_CLEARED, label="メールアドレス")
    responses.send(dispatcher, "utter_guide_message", text="…")
    assert [(m["response"], m.get("label") or m.get("text")) for m in dispatcher.messages] == [
        ("utter_field_cleared", "メールアドレス"),
        ("utter_guide_message", "…"),
    ]
    with pytest.raises(KeyError):
        responses.send(dispatcher, "utter_not_declared")
    with pytest.raises(ValueError):
        responses.send(dispatcher, responses.FIELD_CLEARED)
    with pytest.raises(ValueError):
        responses.send(dispatcher, responses.FIELD_CLEARED, label="x", extra="y")


def test_the_input_channel_uses_declared_names():
    from serving import channel

    assert channel.UNAVAILABLE_RESPONSE in responses.RESPONSES
    assert channel.TOO_LONG_PAYLOAD == f"/{responses.MESSAGE_TOO_LONG}"


def walk(engine: Engine, depth: int = 4) -> list[Say]:
    """Every Say of every move from every state reached in `depth` moves, over the real flows."""
    says: list[Say] = []
    seen: set[str] = set()
    frontier: list = [None]
    for _ in range(depth):
        following = []
        for state in frontier:
            key = json.dumps(state, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            turns = [engine.start(state, f, also=next(iter(engine.flows))) for f in [*engine.flows, "a_flow_removed_since"]]
            turns += [getattr(engine, move)(state) for move in set(responses.GUIDE_MOVES.values()) | {"offer_resume", "unsure"}]
            turns += [engine.answer(state, i, {}) for i in (responses.AFFIRM, responses.DENY, responses.SKIP_FIELD, responses.INFORM)]
            if state:
                turns.append(engine.not_understood(state))
            node = engine.flows[state["flow"]].nodes[state["node"]] if state and state.get("awaiting") == AWAIT_CHOICE else None
            turns += [engine.choose(state, f"{node.id}:{i}") for i in range(len(node.options))] if node else []
            says += [s for t in turns for s in t.says]
            following += [t.state for t in turns]
        frontier = following
    return says


def test_every_message_of_the_walkthrough_engine_is_declared(engine):
    """actions/guide.py names its responses itself; actions/actions.py sends them through responses.send."""
    sent = {s.response: s.values for s in walk(engine) if s.response}
    assert len(sent) >= 24  # each one actions/guide.py names
    for name, values in sent.items():
        assert name in responses.RESPONSES, name
        assert set(values) == responses.RESPONSES[name].variables, name


def test_the_check_reports_a_declared_response_missing_from_the_domain(tmp_path, monkeypatch):
    monkeypatch.setitem(responses.RESPONSES, "utter_new_notice", responses.Response("utter_new_notice", frozenset(), 7))
    problems = [str(p) for p in run(copy_project(tmp_path / "project"), rasa=False)]
    assert problems == [
        "actions/responses.py:7: プログラムが応答「utter_new_notice」を使いますが、domain.yml の responses にありません。"
        "domain.yml の responses に同じ名前で応答を追加してください。"
    ]
