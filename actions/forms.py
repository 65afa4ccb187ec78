"""Support-request forms: the unlock request and the account deletion request.

The FAQ lists the facts the support desk needs for identity verification; these
forms collect them, check each as actions/fields.py declares, and hand the user a
ready-to-send inquiry (actions/inquiry.py). Texts: domain.yml and content/requests.yml.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from functools import partial
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import responses, validators
from actions.answers import parse_payload, read_reply
from actions.content import load_flows
from actions.fields import (
    BY_SLOT,
    CONFIRMATION,
    DELETION_FORM,
    EGOV,
    EMAIL,
    FAILURES,
    FORM_SLOTS,
    IDENTITY_CHOICE,
    IDENTITY_FIELDS,
    IDENTITY_MINIMUM,
    LABELLED,
    PERSONAL_SLOTS,
    SERVICE,
    SERVICE_FIELDS,
    SERVICE_SPECIFIC,
    SERVICES,
    UNLOCK_FORM,
    Field,
)
from actions.inquiry import load_requests, render_inquiry, summary_lines
from actions.responses import (
    AFFIRM,
    CORRECT_FIELD,
    DENY,
    GOODBYE,
    GUIDE_NEXT,
    GUIDE_STOP,
    GUIDE_UNSURE,
    HELP,
    INFORM,
    REQUEST_HUMAN,
    SKIP_FIELD,
    send,
)

IDENTITY_DONE = "done"
SKIP = "__skip__"  # 「わからない」 for the asked item

# Intents that, said clearly inside a form, are not a value but a wish to do something else.
CONTROL_INTENTS = {GUIDE_STOP, CORRECT_FIELD, REQUEST_HUMAN, HELP, GOODBYE}
INTERRUPT_CONFIDENCE = 0.7
MAX_FAILURES_BEFORE_OFFER = 2


def identity_count(tracker: Tracker) -> int:
    return sum(1 for f in IDENTITY_FIELDS if tracker.get_slot(f))


def is_interruption(tracker: Tracker) -> bool:
    """A clear FAQ question or a control wish (stop, correct…) rather than a value."""
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence") or 0.0
    if validators.looks_like_secret(tracker.latest_message.get("text")):
        return False  # a pasted key is answered by the field's validator, never acted on
    wish = name in CONTROL_INTENTS or name in load_flows() or ((name or "").startswith("guide_") and name != GUIDE_UNSURE)
    if (tracker.latest_message.get("text") or "").startswith("/"):
        return wish  # a button: no doubt about what was meant
    return wish and confidence >= INTERRUPT_CONFIDENCE


def value_shaped(field: Field, text: str) -> bool:
    """True when the text has the shape of the asked field (an address, a number, a
    date), even if wrong in detail: then it is an answer, not a new question."""
    if not (field.typed and field.typed.shaped):
        return False  # free text: any sentence would pass, so the NLU decides
    _, problem = field.typed.check(text)
    return problem is None or not problem.endswith(("_format", "_empty"))


def entity_value(tracker: Tracker, entity: str) -> str | None:
    return next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity), None)


def as_click(tracker: Tracker) -> bool:
    """A typed answer that names one of the question's buttons (「これで完了」, 「2」,
    「この内容で作成する」) becomes that button's intent and entities, as a click
    would; 「わからない」 becomes skip_field. The extractors then need no special case."""
    message = tracker.latest_message
    found = read_reply(message.get("text"), tracker.events, None, {}, (message.get("intent") or {}).get("name"))
    if found is None:
        return False
    _, choice = found
    intent, entities = parse_payload(choice.payload) if choice else (SKIP_FIELD, {})
    tracker.latest_message = {
        **message,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [{"entity": k, "value": v} for k, v in entities.items()],
    }
    return True


class RequestFormValidation(FormValidationAction, ABC):
    """Shared behaviour: take the typed text for the requested slot, count failures,
    and after repeated ones offer a way out (financial-demo's custom_forms pattern).

    rasa_sdk calls extract_<slot> and validate_<slot> by name; for the fields of
    actions/fields.py they are `extract` and `validate_typed` (see __getattr__). The
    methods written out in the subclasses are the fields with rules of their own."""

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk does not register this base class as an action."""

    def __getattr__(self, name: str) -> Any:
        kind, _, slot = name.partition("_")
        field = BY_SLOT.get(slot)
        if field and slot in FORM_SLOTS[self.form_name()]:
            if kind == "extract":
                return partial(self.extract, field)
            if kind == "validate" and field.typed:
                return partial(self.validate_typed, field)
        raise AttributeError(name)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if as_click(tracker) and tracker.latest_message["intent"]["name"] == CORRECT_FIELD:
            # a typed field name at 「修正する項目を選んでください」: the rules only see the NLU's intent
            return correction(dispatcher, tracker, entity_value(tracker, "field"))
        return await super().run(dispatcher, tracker, domain)

    # --- extraction ------------------------------------------------------------

    def extract(self, field: Field, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """The answer to the field's question, read as the table says: typed text, a button's entity, or yes/no."""
        if field.typed:
            return self._text_for(tracker, field)
        if field.entity:
            if not self._requested(tracker, field.slot) or is_interruption(tracker):
                return {}
            return {field.slot: entity_value(tracker, field.entity) or "unknown"}
        return self._yes_no(tracker, field.slot)

    def _requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _text_for(self, tracker: Tracker, field: Field) -> dict[str, Any]:
        slot = field.slot
        if not self._requested(tracker, slot):
            return {}
        text = tracker.latest_message.get("text") or ""
        if value_shaped(field, text):
            return {slot: text}  # 「2099/01/01 10:00」 is an answer, whatever the NLU thinks
        if is_interruption(tracker):
            return {}
        intent = tracker.latest_message.get("intent") or {}
        if intent.get("name") in (SKIP_FIELD, GUIDE_UNSURE) and (intent.get("confidence") or 0) >= INTERRUPT_CONFIDENCE:
            return {slot: SKIP}
        return {slot: tracker.latest_message.get("text") or ""}

    def _yes_no(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if not self._requested(tracker, slot):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in (AFFIRM, DENY):
            return {slot: intent == AFFIRM}
        return {} if is_interruption(tracker) else {slot: "unclear"}

    # --- validation --------------------------------------------------------------

    def _failures(self, tracker: Tracker) -> dict[str, int]:
        return dict(tracker.get_slot(FAILURES) or {})

    def _reject(self, slot: str, problem: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        send(dispatcher, responses.INVALID[problem])
        failures = self._failures(tracker)
        failures[slot] = failures.get(slot, 0) + 1
        if failures[slot] >= MAX_FAILURES_BEFORE_OFFER:
            send(dispatcher, responses.OFFER_OTHER_ITEM if slot in IDENTITY_FIELDS else responses.OFFER_STOP)
        return {slot: None, FAILURES: failures}

    def _accept(self, slot: str, value: Any, tracker: Tracker) -> dict[str, Any]:
        failures = self._failures(tracker)
        failures.pop(slot, None)
        return {slot: value, FAILURES: failures or None}

    def validate_typed(
        self, field: Field, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if field.identity:
            return self._validate_identity(field, value, dispatcher, tracker)
        return self._validate_text(field, value, dispatcher, tracker)

    def _validate_text(self, field: Field, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        slot, typed = field.slot, field.typed
        assert typed is not None, "validate_typed is bound only to typed fields (see __getattr__)"
        if value == SKIP and typed.refuses_skip:  # every field outside the 2-of-4 choice is required by the FAQ
            send(dispatcher, responses.CANNOT_SKIP)
            send(dispatcher, responses.OFFER_STOP)
            return {slot: None}
        clean, problem = typed.check(value)
        if problem:
            return self._reject(slot, problem, dispatcher, tracker)
        if typed is EMAIL and clean != validators.nfkc(value).replace(" ", ""):
            send(dispatcher, responses.EMAIL_LOWERCASED, email=clean)
        return self._accept(slot, clean, tracker)

    def _validate_identity(self, field: Field, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        slot = field.slot
        if value == SKIP:  # the user does not have this item: choose another
            return {slot: None, IDENTITY_CHOICE: None}
        result = self._validate_text(field, value, dispatcher, tracker)
        if result.get(slot):
            result[IDENTITY_CHOICE] = None  # ask which one next, or whether that is all
            have = identity_count(tracker) + 1
            if have < IDENTITY_MINIMUM:
                send(dispatcher, responses.IDENTITY_MORE_NEEDED, needed=IDENTITY_MINIMUM - have)
        elif self._failures(tracker).get(slot, 0) + 1 >= MAX_FAILURES_BEFORE_OFFER:
            result[IDENTITY_CHOICE] = None  # let the user pick another item instead
        return result

    def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {CONFIRMATION: True}
        if value is False:
            send(dispatcher, responses.WHICH_FIELD_TO_FIX, buttons=fix_buttons(tracker))
            return {CONFIRMATION: None}
        send(dispatcher, responses.INVALID_YES_NO)
        return {CONFIRMATION: None}


class ValidateUnlockRequestForm(RequestFormValidation):
    def name(self) -> str:
        return "validate_unlock_request_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        service = tracker.get_slot(SERVICE)
        slots = [SERVICE] + SERVICE_FIELDS.get(service, [])
        if service == EGOV:
            # The user picks items one by one (identity_choice), then gives each value.
            chosen = [f for f in IDENTITY_FIELDS if tracker.get_slot(f)]
            slots += chosen
            if len(chosen) < len(IDENTITY_FIELDS):
                slots.append(IDENTITY_CHOICE)  # None: ask which; "done": enough
            pending = tracker.get_slot(IDENTITY_CHOICE)
            if pending in IDENTITY_FIELDS and pending not in chosen:
                slots.append(pending)
        return slots + [CONFIRMATION]

    async def extract_identity_choice(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, IDENTITY_CHOICE) or is_interruption(tracker):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        entity = BY_SLOT[IDENTITY_CHOICE].entity
        assert entity is not None, "identity_choice is picked by button: actions/fields.py names its entity"
        chosen = entity_value(tracker, entity) or entity_value(tracker, "field")
        if not chosen and intent in (DENY, GUIDE_NEXT, SKIP_FIELD):
            chosen = IDENTITY_DONE  # 「これで完了」 / 「ない」
        return {IDENTITY_CHOICE: chosen or "unknown"}

    def validate_unlock_service(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in SERVICES:
            return self._accept(SERVICE, value, tracker)
        return self._reject(SERVICE, "service", dispatcher, tracker)

    def validate_identity_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        have = identity_count(tracker)
        if value == IDENTITY_DONE:
            if have >= IDENTITY_MINIMUM:
                return {IDENTITY_CHOICE: IDENTITY_DONE}
            send(dispatcher, responses.IDENTITY_TOO_FEW, needed=IDENTITY_MINIMUM - have)
            return {IDENTITY_CHOICE: None}
        if value in IDENTITY_FIELDS and not tracker.get_slot(value):
            return {IDENTITY_CHOICE: value}
        return self._reject(IDENTITY_CHOICE, "identity_choice", dispatcher, tracker)


class ValidateDeletionRequestForm(RequestFormValidation):
    def name(self) -> str:
        return "validate_deletion_request_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("deletion_confirmed") is False:
            return [s for s in FORM_SLOTS[DELETION_FORM] if s != CONFIRMATION]  # declined: the form ends and nothing is sent
        return list(FORM_SLOTS[DELETION_FORM])

    def validate_deletion_account_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in load_requests()["account_types"]:
            return self._accept("deletion_account_type", value, tracker)
        return self._reject("deletion_account_type", "account_type", dispatcher, tracker)

    def validate_deletion_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"deletion_confirmed": True}
        if value is False:
            return {"deletion_confirmed": False}  # action_submit_request says so and forgets everything
        send(dispatcher, responses.INVALID_YES_NO)
        return {"deletion_confirmed": None}


def fix_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """One button per value entered so far, to correct it."""
    labels = load_requests()["fields"]
    return [{"title": labels[s], "payload": f"/{CORRECT_FIELD}" + json.dumps({"field": s})} for s in LABELLED if tracker.get_slot(s)]


# --- custom questions ----------------------------------------------------------------


class ActionAskIdentityChoice(Action):
    """Asks which identity item the user will give next, with the remaining ones as buttons."""

    def name(self) -> str:
        return "action_ask_identity_choice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        labels = load_requests()["fields"]
        have = identity_count(tracker)
        buttons = [
            {"title": labels[f], "payload": f"/{INFORM}" + json.dumps({IDENTITY_CHOICE: f})}
            for f in IDENTITY_FIELDS
            if not tracker.get_slot(f)
        ]
        if have >= IDENTITY_MINIMUM:
            done = responses.text(domain, responses.IDENTITY_DONE_BUTTON, IDENTITY_DONE)
            buttons.append({"title": done, "payload": f"/{INFORM}" + json.dumps({IDENTITY_CHOICE: IDENTITY_DONE})})
            send(dispatcher, responses.ASK_IDENTITY_CHOICE_MORE, buttons=buttons)
        else:
            send(dispatcher, responses.ASK_IDENTITY_CHOICE, buttons=buttons, needed=IDENTITY_MINIMUM - have)
        return []


class ActionAskRequestConfirmed(Action):
    """Shows everything collected and asks the user to confirm it."""

    def name(self) -> str:
        return "action_ask_request_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        send(dispatcher, responses.ASK_REQUEST_CONFIRMED, summary="\n".join(summary_lines(tracker.current_slot_values())))
        return []


def forget() -> list[EventType]:
    return [SlotSet(s, None) for s in PERSONAL_SLOTS]


class ActionSubmitRequest(Action):
    """Hands over the inquiry text, then forgets the personal values."""

    def name(self) -> str:
        return "action_submit_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        slots = tracker.current_slot_values()
        form = DELETION_FORM if slots.get("deletion_account_type") else UNLOCK_FORM
        if not slots.get(CONFIRMATION):
            # The user declined the irreversible deletion: nothing to send, nothing kept.
            send(dispatcher, responses.DELETION_DECLINED)
            return forget() + [SlotSet("guide_outcome", {"flow": form, "result": "declined"})]
        subject, body = render_inquiry(form, slots)
        send(dispatcher, responses.INQUIRY, subject=subject, body=body)
        send(dispatcher, responses.INQUIRY_WHERE)
        return forget() + [SlotSet("guide_outcome", {"flow": form, "result": "inquiry_ready"})]


class ActionStopForm(Action):
    """やめる / キャンセル inside a form: stop it and forget what was entered."""

    def name(self) -> str:
        return "action_stop_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        send(dispatcher, responses.FORM_STOPPED)
        outcome = {"flow": tracker.active_loop.get("name"), "result": "form_stopped"}
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("guide_outcome", outcome)] + forget()


class ActionCorrectField(Action):
    """「メールアドレスを直したい」: forget that value so the form asks it again."""

    def name(self) -> str:
        return "action_correct_field"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return correction(dispatcher, tracker, entity_value(tracker, "field"))


def correction(dispatcher: CollectingDispatcher, tracker: Tracker, field: str | None) -> list[EventType]:
    """Forget one entered value so the form asks it again (or ask which one)."""
    if field == "email" and tracker.get_slot("deletion_account_type"):
        field = "deletion_email"  # the deletion form calls its address deletion_email
    if field not in [s for s in LABELLED if tracker.get_slot(s)]:
        send(dispatcher, responses.WHICH_FIELD_TO_FIX, buttons=fix_buttons(tracker))
        return [SlotSet(CONFIRMATION, None)]
    send(dispatcher, responses.FIELD_CLEARED, label=load_requests()["fields"][field])
    events: list[EventType] = [SlotSet(field, None), SlotSet(CONFIRMATION, None)]
    if field in IDENTITY_FIELDS:
        events.append(SlotSet(IDENTITY_CHOICE, field))  # ask the same item again
    if field == SERVICE:  # another service needs other fields
        events += [SlotSet(s, None) for s in SERVICE_SPECIFIC]
    return events
