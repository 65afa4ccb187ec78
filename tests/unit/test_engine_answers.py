"""The engine when answers are missing, unclear or twofold, on a small fixture flows file."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.content import parse_flows
from actions.guide import Engine
from actions.guide_state import AWAIT_CHOICE, AWAIT_RESOLVED, AWAIT_TOPIC

FIXTURE = Path(__file__).parent / "fixtures" / "dialogue_flows.yml"
WAY_OUT = [{"title": "わからない", "payload": "/guide_unsure"}, {"title": "問い合わせ先", "payload": "/request_human"}]


@pytest.fixture
def engine() -> Engine:
    return Engine(parse_flows(FIXTURE), way_out_buttons=WAY_OUT, unsure_format="{question} → ?")


def said(turn):
    return [s.values.get("text") or s.text or s.response for s in turn.says]


def test_unsure_shows_every_remedy_in_faq_order_then_support_and_asks_if_solved(engine):
    state = engine.start(None, "topic_a").state
    turn = engine.unsure(state)
    assert said(turn) == ["utter_unsure_remedies", "甲の対処", "乙の対処", "さらに深い対処", "utter_support_contact", "utter_ask_resolved"]
    assert turn.state["awaiting"] == AWAIT_RESOLVED
    assert "種類は？ → ?" in turn.state["trail"]  # the handoff will say the user could not tell


def test_misses_ask_again_differently_then_offer_a_way_out_then_go_on(engine):
    state = engine.start(None, "topic_a").state
    first = engine.not_understood(state)
    assert said(first) == ["utter_answer_not_understood", "種類は？"]
    assert [b["title"] for b in first.says[-1].buttons] == ["①甲", "②乙"]
    second = engine.not_understood(first.state)
    assert said(second) == ["utter_answer_not_understood_again", "種類は？"]
    assert [b["title"] for b in second.says[-1].buttons] == ["①甲", "②乙", "わからない", "問い合わせ先"]
    third = engine.not_understood(second.state)
    assert said(third)[0] == "utter_unsure_remedies" and third.state["awaiting"] == AWAIT_RESOLVED


def test_an_answer_resets_the_misses(engine):
    state = engine.not_understood(engine.start(None, "topic_a").state).state
    turn = engine.choose(state, "ask_kind:0")
    assert "misses" not in turn.state and said(turn)[0] == "甲の対処"


def test_next_at_a_question_is_a_miss_not_a_loop(engine):
    state = engine.start(None, "topic_a").state
    turns = [engine.next(state)]
    turns.append(engine.next(turns[-1].state))
    turns.append(engine.next(turns[-1].state))
    assert [said(t)[0] for t in turns] == ["utter_answer_not_understood", "utter_answer_not_understood_again", "utter_unsure_remedies"]


def test_triage_starts_where_the_users_words_point(engine):
    assert engine.start(None, "triage").state["node"] == "ask_symptom"
    assert engine.start(None, "triage", text="B系でエラーです").state["node"] == "ask_b"


def test_triage_question_always_offers_the_way_out(engine):
    turn = engine.start(None, "triage")
    assert [b["title"] for b in turn.says[-1].buttons][-2:] == ["わからない", "問い合わせ先"]


def test_triage_answer_starts_the_topic_at_its_start_or_at_a_node(engine):
    state = engine.start(None, "triage").state
    to_a = engine.choose(state, "ask_symptom:0")
    assert to_a.state["flow"] == "topic_a" and to_a.state["awaiting"] == AWAIT_CHOICE
    to_steps = engine.choose(state, "ask_symptom:1")
    assert to_steps.state["node"] == "b_steps" and said(to_steps)[0] == "Bの手順"
    back = engine.back(to_a.state)
    assert back.state["flow"] == "triage" and back.state["node"] == "ask_symptom"


def test_unsure_at_the_triage_lists_the_topics_and_the_support_contact(engine):
    turn = engine.unsure(engine.start(None, "triage").state)
    assert said(turn) == ["utter_topics", "utter_support_contact"] and turn.state is None
    assert [b["payload"] for b in turn.says[0].buttons] == ["/topic_a", "/topic_b"]  # the triage is no topic


def test_a_topic_chosen_away_from_the_triage_does_not_pause_it(engine):
    state = engine.start(None, "triage").state
    assert engine.start(state, "topic_b").state["paused"] is None
    inside_a = engine.start(None, "topic_a").state
    assert engine.start(inside_a, "topic_b").state["paused"]["flow"] == "topic_a"


def test_two_topics_first_one_then_the_offer_of_the_other(engine):
    turn = engine.start(None, "topic_a", also="topic_b")
    assert turn.says[0].response == "utter_two_topics" and turn.says[0].values == {"first": "A", "second": "B"}
    state = engine.choose(turn.state, "ask_kind:0").state
    state = engine.choose(state, "ask_done:0").state
    assert state["awaiting"] == AWAIT_RESOLVED
    solved = engine.answer(state, "affirm", {})
    assert said(solved) == ["utter_glad_resolved", "utter_offer_other_topic"]
    assert solved.state["awaiting"] == AWAIT_TOPIC and solved.says[-1].values == {"title": "B"}
    accepted = engine.answer(solved.state, "affirm", {})
    assert accepted.state["flow"] == "topic_b" and said(accepted)[0] == "Bの説明"
    declined = engine.answer(solved.state, "deny", {})
    assert said(declined) == ["utter_other_topic_declined"] and declined.state is None


def test_the_other_topic_is_offered_after_a_handoff_too(engine):
    state = engine.start(None, "topic_a", also="topic_b").state
    turn = engine.unsure(state)
    handoff = engine.answer(turn.state, "deny", {})
    assert said(handoff)[-1] == "utter_offer_other_topic"


def test_same_topic_as_second_is_ignored(engine):
    turn = engine.start(None, "topic_a", also="topic_a")
    assert turn.says[0].response != "utter_two_topics" and turn.state["also"] is None


def test_did_you_mean_without_a_topic_asks_to_rephrase(domain, tracker_for):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.actions import ActionDidYouMean

    dispatcher = CollectingDispatcher()
    ranking = [{"name": "greet", "confidence": 0.2}, {"name": "affirm", "confidence": 0.1}]
    ActionDidYouMean().run(dispatcher, tracker_for("nlu_fallback", ranking=ranking), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]  # never a list of only 「どれにも当てはまらない」
    dispatcher = CollectingDispatcher()
    ranking = [{"name": "account_locked", "confidence": 0.2}]
    ActionDidYouMean().run(dispatcher, tracker_for("nlu_fallback", ranking=ranking), domain)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/account_locked", "/out_of_scope"]


def test_nothing_to_answer_is_never_said_twice_in_a_row(domain, tracker_for):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.actions import ActionGuide

    def answer(previous_bot_text):
        dispatcher = CollectingDispatcher()
        tracker = tracker_for("affirm")
        tracker.events = [{"event": "bot", "text": previous_bot_text}, {"event": "user", "text": "はい"}]
        ActionGuide().run(dispatcher, tracker, domain)
        return [m["response"] for m in dispatcher.messages]

    assert answer("こんにちは") == ["utter_nothing_to_answer"]
    asked = domain["responses"]["utter_nothing_to_answer"][0]["text"]
    assert answer(asked) == ["utter_topics", "utter_support_contact"]
