"""Rasa actions for the guided flows and the low-confidence fallback.

Behaviour only: every word users see comes from domain.yml or content/flows.yml.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import responses
from actions.answers import parse_payload, read_reply
from actions.content import Flow, load_flows
from actions.guide import Engine, Reply, Say
from actions.guide_state import GuideState, is_question
from actions.responses import GUIDE_CHOOSE, GUIDE_MOVES, GUIDE_UNSURE, NOTHING_TO_ANSWER, OUT_OF_SCOPE

STATE_SLOT = "guide_state"
OUTCOME_SLOT = "guide_outcome"
PENDING_FORM_SLOT = "pending_form"

NOT_UNDERSTOOD = "not_understood"  # no intent: the same topic again while its question waits


def make_engine(domain: dict[str, Any]) -> Engine:
    return Engine(
        load_flows(),
        tried_format=responses.text(domain, responses.TRIED_LINE, "- {summary}"),
        progress_format=responses.text(domain, responses.PROGRESS, "{summary} ({step}/{total})"),
        way_out_buttons=responses.buttons(domain, responses.WAY_OUT),
        unsure_format=responses.text(domain, responses.UNSURE_LINE, "{question} → ?"),
    )


def typed_answer(tracker: Tracker, state: GuideState | None, flows: dict[str, Flow]) -> tuple[str, dict[str, Any]] | None:
    """A typed message read as the bot's last question's button (intent and entities
    of its payload), or as 「わからない」 (guide_unsure). None for a click or no match."""
    message = tracker.latest_message
    found = read_reply(message.get("text"), tracker.events, state, flows, (message.get("intent") or {}).get("name"))
    if found is None:
        return None
    _, choice = found
    return parse_payload(choice.payload) if choice else (GUIDE_UNSURE, {})


def last_bot_text(tracker: Tracker) -> str | None:
    return next((e.get("text") for e in reversed(tracker.events) if e.get("event") == "bot"), None)


def second_topic(tracker: Tracker) -> str | None:
    """The other FAQ topic of a two-problem message (components/two_topics.py found it)."""
    return next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "second_topic"), None)


def latest_entities(tracker: Tracker) -> dict[str, str]:
    return {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity")}


def render(turn: Reply, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list[EventType]:
    """Send the turn's messages and return the events that store its state."""
    for say in turn.says:
        _utter(dispatcher, say)
    events: list[EventType] = [SlotSet(STATE_SLOT, turn.state)]
    if turn.outcome:
        events.append(SlotSet(OUTCOME_SLOT, turn.outcome))
    # A rule (data/rules/forms.yml) starts the form this slot names. It is reset on
    # every turn, so a value left from an earlier turn never starts a form by itself.
    has_form = turn.form in (domain.get("forms") or {})
    events.append(SlotSet(PENDING_FORM_SLOT, turn.form if has_form else None))
    if turn.form and not has_form:
        responses.send(dispatcher, responses.SUPPORT_CONTACT)  # no such form here: the desk is the way on
    return events


def _utter(dispatcher: CollectingDispatcher, say: Say) -> None:
    if say.response:
        responses.send(dispatcher, say.response, buttons=say.buttons, **say.values)
    else:
        dispatcher.utter_message(text=say.text, buttons=say.buttons)


class ActionGuide(Action):
    """Starts a FAQ flow or moves inside the current one."""

    def name(self) -> str:
        return "action_guide"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        engine = make_engine(domain)
        state = engine.checked(tracker.get_slot(STATE_SLOT))
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        entities = latest_entities(tracker)
        text = tracker.latest_message.get("text") or ""
        typed = typed_answer(tracker, state, engine.flows) if is_question(state) else None
        if typed:
            intent, entities = typed  # a typed answer takes the path of the button it names
        elif is_question(state) and intent == state.get("flow") and not text.startswith("/"):
            intent = NOT_UNDERSTOOD  # the same topic again while its question waits: not an answer
        if intent == GUIDE_UNSURE:
            turn = engine.unsure(state)
        elif intent == NOT_UNDERSTOOD:
            assert state is not None, "set above only while a question waits"
            turn = engine.not_understood(state)
        elif intent in engine.flows:
            turn = engine.start(state, intent, text=text, also=second_topic(tracker))
        elif intent in GUIDE_MOVES:
            turn = getattr(engine, GUIDE_MOVES[intent])(state)
        elif intent == GUIDE_CHOOSE:
            turn = engine.choose(state, entities.get("guide_option", ""))
        else:  # affirm, deny, or an entity answering a choice
            turn = engine.answer(state, intent, entities)
        if [s.response for s in turn.says] == [NOTHING_TO_ANSWER.name] and last_bot_text(tracker) == responses.text(
            domain, NOTHING_TO_ANSWER, ""
        ):
            turn.says = engine.unsure(None).says  # asked that just now: the topics and the support contact instead
        return render(turn, dispatcher, domain)


class ActionOfferResume(Action):
    """After an answer outside the flow (greeting, support contact…), offer to continue."""

    def name(self) -> str:
        return "action_offer_resume"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        engine = make_engine(domain)
        turn = engine.offer_resume(engine.checked(tracker.get_slot(STATE_SLOT)))
        return render(turn, dispatcher, domain) if turn.says else []


class ActionDidYouMean(Action):
    """First stage of the two-stage fallback: the likeliest topics as Japanese buttons."""

    MAX_CANDIDATES = 3

    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        flows = load_flows()
        ranking = tracker.latest_message.get("intent_ranking") or []
        buttons = [{"title": flows[item["name"]].title, "payload": f"/{item['name']}"} for item in ranking if item.get("name") in flows][
            : self.MAX_CANDIDATES
        ]
        if not buttons:  # nothing to offer: a list of only 「どれにも当てはまらない」 helps nobody
            responses.send(dispatcher, responses.ASK_REPHRASE)
            return []
        buttons.append(
            {"title": responses.text(domain, responses.NONE_OF_THESE, "-"), "payload": f"/{OUT_OF_SCOPE}"}
        )  # the two-stage fallback reads out_of_scope as "none of these"
        responses.send(dispatcher, responses.DID_YOU_MEAN, buttons=buttons)
        return []


class ActionShowTopics(Action):
    """What the assistant can help with: one button per FAQ flow, in content order."""

    def name(self) -> str:
        return "action_show_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        _utter(dispatcher, make_engine(domain).topics_say())
        return []
