"""ContextFirstPolicy: which message goes to the pending question, on Rasa's own trackers."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.answers import choice_payload
from components.context_first import ContextFirstPolicy
from tests.conftest import ROOT as ROOT_DIR

AT_HTTP500_QUESTION = {"flow": "gbizid_http500", "node": "ask_other_account", "awaiting": "choice", "step": 0, "history": [], "trail": []}
OPTION_BUTTONS = [{"title": f"option {i}", "payload": choice_payload("ask_other_account", i)} for i in range(4)]


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT_DIR / "domain.yml"))


@pytest.fixture
def policy(tmp_path, rasa_domain) -> ContextFirstPolicy:
    from rasa.engine.graph import ExecutionContext, GraphSchema

    context = ExecutionContext(GraphSchema({}), "test")
    config = {**ContextFirstPolicy.get_default_config()}
    return ContextFirstPolicy.create(config, LocalModelStorage(tmp_path), Resource("context_first"), context)


def tracker(domain: Domain, text: str, intent: str, confidence: float = 0.95, state=AT_HTTP500_QUESTION, loop=None, buttons=OPTION_BUTTONS):
    events = [ActionExecuted("action_listen"), UserUttered("opening", {"name": "gbizid_http500", "confidence": 1.0})]
    events += [ActionExecuted("action_guide"), SlotSet("guide_state", state)]
    events += [BotUttered("question", {"buttons": buttons})]
    if loop:
        events += [ActiveLoop(loop)]
    events += [ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": confidence})]
    return DialogueStateTracker.from_events("u", events, domain.slots)


@pytest.mark.parametrize(
    "text,intent,confidence",
    [
        ("③です", "affirm", 0.33),  # an option by its marker
        ("2", "nlu_fallback", 1.0),  # a bare number is never a new topic
        ("Googleです", "gbizid_duplicate_email", 0.9),  # the option's words beat a confident other topic
        ("わかりません", "guide_unsure", 0.96),
        ("あ", "nlu_fallback", 1.0),  # not understood: the question asks again
        ("なんのことですか", "out_of_scope", 0.9),  # an answer intent, never a topic here
        ("HTTP500が出ます", "gbizid_http500", 0.99),  # the same topic again: not an answer, asked again
        ("よくわからない文です", "greet", 0.4),  # not confident enough to leave the question
    ],
)
def test_answers_go_to_the_question(policy, rasa_domain, text, intent, confidence):
    assert policy.next_action(tracker(rasa_domain, text, intent, confidence)) == "action_guide"


@pytest.mark.parametrize(
    "text,intent",
    [
        ("秘密の質問の答えを忘れてしまいました", "secret_question_forgotten"),  # a clear new topic interrupts
        ("こんにちは", "greet"),  # a clear greeting: answered, then the flow is offered again
        ("問い合わせ先を教えてください", "request_human"),
    ],
)
def test_clear_topics_and_requests_are_left_to_the_rules(policy, rasa_domain, text, intent):
    assert policy.next_action(tracker(rasa_domain, text, intent, 0.95)) is None


def test_nothing_pending_means_the_rules_decide(policy, rasa_domain):
    assert policy.next_action(tracker(rasa_domain, "③です", "affirm", state=None)) is None
    at_step = {**AT_HTTP500_QUESTION, "awaiting": "step"}
    assert policy.next_action(tracker(rasa_domain, "③です", "affirm", state=at_step)) is None


def test_forms_read_their_own_answers(policy, rasa_domain):
    assert policy.next_action(tracker(rasa_domain, "③です", "affirm", loop="unlock_request_form")) is None


def test_a_click_is_left_to_its_intent(policy, rasa_domain):
    assert policy.next_action(tracker(rasa_domain, "/greet", "greet", 1.0)) is None


def test_after_action_guide_the_bot_listens_unless_a_form_starts(policy, rasa_domain):
    t = tracker(rasa_domain, "③です", "affirm")
    t.update(ActionExecuted("action_guide"))
    t.update(SlotSet("pending_form", None))
    assert policy.next_action(t) == "action_listen"
    t.update(SlotSet("pending_form", "deletion_request_form"))
    assert policy.next_action(t) is None


def test_prediction_outranks_the_rule_policy(policy, rasa_domain):
    prediction = policy.predict_action_probabilities(tracker(rasa_domain, "2", "nlu_fallback", 1.0), rasa_domain)
    assert prediction.max_confidence == 1.0 and prediction.policy_priority > 6
    assert rasa_domain.action_names_or_texts[prediction.max_confidence_index] == "action_guide"
    abstained = policy.predict_action_probabilities(tracker(rasa_domain, "こんにちは", "greet", 1.0), rasa_domain)
    assert abstained.max_confidence == 0.0
