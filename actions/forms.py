"""Support-request forms: the unlock request and the account deletion request.

The FAQ lists the facts the support desk needs for identity verification; these
forms collect them, check each with actions/validators.py, and hand the user a
ready-to-send inquiry (actions/inquiry.py). Texts: domain.yml and content/requests.yml.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import validators
from actions.answers import parse_payload, read_reply
from actions.content import load_flows
from actions.inquiry import load_requests, render_inquiry, summary_lines

JST = timezone(timedelta(hours=9))  # e-Gov's users write Japanese local time; Japan has no DST

IDENTITY_FIELDS = ["arrival_number", "procedure_name", "corporation_name", "applicant_name"]
IDENTITY_MINIMUM = 2  # FAQ: 「いずれか2つ以上」
IDENTITY_DONE = "done"
SKIP = "__skip__"  # 「わからない」 for the asked item

SERVICE_FIELDS = {
    "egov_application": ["email"],  # + the identity fields the user chooses
    "developer_portal": ["email", "software_id", "organization_name"],
    "policy_proposal": ["email", "reception_number", "agency"],
}
DELETION_FIELDS = ["deletion_account_type", "deletion_email", "error_datetime", "deletion_confirmed"]

# Every slot that may hold personal data: cleared after the inquiry is shown or the form stops.
PERSONAL_SLOTS = [
    "unlock_service",
    "email",
    *IDENTITY_FIELDS,
    "software_id",
    "organization_name",
    "reception_number",
    "agency",
    "deletion_account_type",
    "deletion_email",
    "error_datetime",
    "identity_choice",
    "deletion_confirmed",
    "request_confirmed",
    "form_failures",
]

# Intents that, said clearly inside a form, are not a value but a wish to do something else.
CONTROL_INTENTS = {"guide_stop", "correct_field", "request_human", "help", "goodbye"}
INTERRUPT_CONFIDENCE = 0.7
MAX_FAILURES_BEFORE_OFFER = 2

# Responses named at run time as f"utter_invalid_{problem}": listed so the content
# check can prove each exists (and a test proves every problem code is listed).
INVALID_RESPONSES = (
    "utter_invalid_email_empty",
    "utter_invalid_email_too_long",
    "utter_invalid_email_format",
    "utter_invalid_number_empty",
    "utter_invalid_number_too_long",
    "utter_invalid_number_format",
    "utter_invalid_text_empty",
    "utter_invalid_text_too_long",
    "utter_invalid_text_format",
    "utter_invalid_software_id_format",
    "utter_invalid_secret",
    "utter_invalid_service",
    "utter_invalid_account_type",
    "utter_invalid_identity_choice",
    "utter_invalid_datetime_empty",
    "utter_invalid_datetime_format",
    "utter_invalid_datetime_no_time",
    "utter_invalid_datetime_future",
    "utter_invalid_datetime_too_old",
)

VALIDATORS: dict[str, Callable[[str | None], validators.Result]] = {
    "email": validators.validate_email,
    "deletion_email": validators.validate_email,
    "arrival_number": validators.validate_number,
    "reception_number": validators.validate_number,
    "procedure_name": validators.validate_name,
    "corporation_name": validators.validate_name,
    "applicant_name": validators.validate_name,
    "organization_name": validators.validate_name,
    "agency": validators.validate_name,
    "software_id": validators.validate_software_id,
}


VALUE_SHAPED_FIELDS = {"email", "deletion_email", "arrival_number", "reception_number", "software_id"}


def now_jst() -> datetime:
    return datetime.now(JST).replace(tzinfo=None)


def identity_count(tracker: Tracker) -> int:
    return sum(1 for f in IDENTITY_FIELDS if tracker.get_slot(f))


def is_interruption(tracker: Tracker) -> bool:
    """A clear FAQ question or a control wish (stop, correct…) rather than a value."""
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence") or 0.0
    if validators.looks_like_secret(tracker.latest_message.get("text")):
        return False  # a pasted key is answered by the field's validator, never acted on
    wish = name in CONTROL_INTENTS or name in load_flows() or ((name or "").startswith("guide_") and name != "guide_unsure")
    if (tracker.latest_message.get("text") or "").startswith("/"):
        return wish  # a button: no doubt about what was meant
    return wish and confidence >= INTERRUPT_CONFIDENCE


def value_shaped(slot: str, text: str) -> bool:
    """True when the text has the shape of the asked field (an address, a number, a
    date), even if wrong in detail: then it is an answer, not a new question."""
    if slot == "error_datetime":
        _, problem = validators.parse_datetime_ja(text, now_jst())
    elif slot in VALUE_SHAPED_FIELDS:
        _, problem = VALIDATORS[slot](text)
    else:
        return False  # free text: any sentence would pass, so the NLU decides
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
    intent, entities = parse_payload(choice.payload) if choice else ("skip_field", {})
    tracker.latest_message = {
        **message,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [{"entity": k, "value": v} for k, v in entities.items()],
    }
    return True


class RequestFormValidation(FormValidationAction, ABC):
    """Shared behaviour: take the typed text for the requested slot, count failures,
    and after repeated ones offer a way out (financial-demo's custom_forms pattern)."""

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk does not register this base class as an action."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if as_click(tracker) and tracker.latest_message["intent"]["name"] == "correct_field":
            # a typed field name at 「修正する項目を選んでください」: the rules only see the NLU's intent
            return correction(dispatcher, tracker, entity_value(tracker, "field"))
        return await super().run(dispatcher, tracker, domain)

    def _requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _text_for(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if not self._requested(tracker, slot):
            return {}
        text = tracker.latest_message.get("text") or ""
        if value_shaped(slot, text):
            return {slot: text}  # 「2099/01/01 10:00」 is an answer, whatever the NLU thinks
        if is_interruption(tracker):
            return {}
        intent = tracker.latest_message.get("intent") or {}
        if intent.get("name") in ("skip_field", "guide_unsure") and (intent.get("confidence") or 0) >= INTERRUPT_CONFIDENCE:
            return {slot: SKIP}
        return {slot: tracker.latest_message.get("text") or ""}

    def _failures(self, tracker: Tracker) -> dict[str, int]:
        return dict(tracker.get_slot("form_failures") or {})

    def _reject(self, slot: str, problem: str, dispatcher: CollectingDispatcher, tracker: Tracker, **values: Any) -> dict[str, Any]:
        dispatcher.utter_message(response=f"utter_invalid_{problem}", **values)
        failures = self._failures(tracker)
        failures[slot] = failures.get(slot, 0) + 1
        if failures[slot] >= MAX_FAILURES_BEFORE_OFFER:
            dispatcher.utter_message(response="utter_offer_other_item" if slot in IDENTITY_FIELDS else "utter_offer_stop")
        return {slot: None, "form_failures": failures}

    def _accept(self, slot: str, value: Any, tracker: Tracker) -> dict[str, Any]:
        failures = self._failures(tracker)
        failures.pop(slot, None)
        return {slot: value, "form_failures": failures or None}

    def _validate_text(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if value == SKIP:  # every field outside the 2-of-4 choice is required by the FAQ
            dispatcher.utter_message(response="utter_cannot_skip")
            dispatcher.utter_message(response="utter_offer_stop")
            return {slot: None}
        clean, problem = VALIDATORS[slot](value)
        if problem:
            return self._reject(slot, problem, dispatcher, tracker)
        if slot.endswith("email") and clean != validators.nfkc(value).replace(" ", ""):
            dispatcher.utter_message(response="utter_email_lowercased", email=clean)
        return self._accept(slot, clean, tracker)

    def _yes_no(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if not self._requested(tracker, slot):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("affirm", "deny"):
            return {slot: intent == "affirm"}
        return {} if is_interruption(tracker) else {slot: "unclear"}


class ValidateUnlockRequestForm(RequestFormValidation):
    def name(self) -> str:
        return "validate_unlock_request_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        service = tracker.get_slot("unlock_service")
        slots = ["unlock_service"] + SERVICE_FIELDS.get(service, [])
        if service == "egov_application":
            # The user picks items one by one (identity_choice), then gives each value.
            chosen = [f for f in IDENTITY_FIELDS if tracker.get_slot(f)]
            slots += chosen
            if len(chosen) < len(IDENTITY_FIELDS):
                slots.append("identity_choice")  # None: ask which; "done": enough
            pending = tracker.get_slot("identity_choice")
            if pending in IDENTITY_FIELDS and pending not in chosen:
                slots.append(pending)
        return slots + ["request_confirmed"]

    # --- extraction ------------------------------------------------------------

    async def extract_unlock_service(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, "unlock_service") or is_interruption(tracker):
            return {}
        return {"unlock_service": entity_value(tracker, "unlock_service") or "unknown"}

    async def extract_identity_choice(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, "identity_choice") or is_interruption(tracker):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        chosen = entity_value(tracker, "identity_choice") or entity_value(tracker, "field")
        if not chosen and intent in ("deny", "guide_next", "skip_field"):
            chosen = IDENTITY_DONE  # 「これで完了」 / 「ない」
        return {"identity_choice": chosen or "unknown"}

    async def extract_request_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._yes_no(tracker, "request_confirmed")

    # One extractor per free-text field: the typed text when that field was asked.
    async def extract_email(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "email")

    async def extract_arrival_number(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "arrival_number")

    async def extract_procedure_name(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "procedure_name")

    async def extract_corporation_name(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "corporation_name")

    async def extract_applicant_name(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "applicant_name")

    async def extract_software_id(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "software_id")

    async def extract_organization_name(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "organization_name")

    async def extract_reception_number(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "reception_number")

    async def extract_agency(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "agency")

    # --- validation --------------------------------------------------------------

    def validate_unlock_service(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in SERVICE_FIELDS:
            return self._accept("unlock_service", value, tracker)
        return self._reject("unlock_service", "service", dispatcher, tracker)

    def validate_identity_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        have = identity_count(tracker)
        if value == IDENTITY_DONE:
            if have >= IDENTITY_MINIMUM:
                return {"identity_choice": IDENTITY_DONE}
            dispatcher.utter_message(response="utter_invalid_identity_too_few", needed=IDENTITY_MINIMUM - have)
            return {"identity_choice": None}
        if value in IDENTITY_FIELDS and not tracker.get_slot(value):
            return {"identity_choice": value}
        return self._reject("identity_choice", "identity_choice", dispatcher, tracker)

    def _validate_identity(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if value == SKIP:  # the user does not have this item: choose another
            return {slot: None, "identity_choice": None}
        result = self._validate_text(slot, value, dispatcher, tracker)
        if result.get(slot):
            result["identity_choice"] = None  # ask which one next, or whether that is all
            have = identity_count(tracker) + 1
            if have < IDENTITY_MINIMUM:
                dispatcher.utter_message(response="utter_identity_more_needed", needed=IDENTITY_MINIMUM - have)
        elif self._failures(tracker).get(slot, 0) + 1 >= MAX_FAILURES_BEFORE_OFFER:
            result["identity_choice"] = None  # let the user pick another item instead
        return result

    def validate_email(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("email", value, dispatcher, tracker)

    def validate_arrival_number(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_identity("arrival_number", value, dispatcher, tracker)

    def validate_procedure_name(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_identity("procedure_name", value, dispatcher, tracker)

    def validate_corporation_name(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_identity("corporation_name", value, dispatcher, tracker)

    def validate_applicant_name(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_identity("applicant_name", value, dispatcher, tracker)

    def validate_software_id(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("software_id", value, dispatcher, tracker)

    def validate_organization_name(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("organization_name", value, dispatcher, tracker)

    def validate_reception_number(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("reception_number", value, dispatcher, tracker)

    def validate_agency(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("agency", value, dispatcher, tracker)

    def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return validate_confirmation(value, dispatcher, tracker)


class ValidateDeletionRequestForm(RequestFormValidation):
    def name(self) -> str:
        return "validate_deletion_request_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("deletion_confirmed") is False:
            return DELETION_FIELDS  # declined: the form ends and nothing is sent
        return DELETION_FIELDS + ["request_confirmed"]

    async def extract_deletion_account_type(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, "deletion_account_type") or is_interruption(tracker):
            return {}
        return {"deletion_account_type": entity_value(tracker, "account_type") or "unknown"}

    async def extract_deletion_email(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "deletion_email")

    async def extract_error_datetime(self, dispatcher, tracker, domain):  # noqa: D102
        return self._text_for(tracker, "error_datetime")

    async def extract_deletion_confirmed(self, dispatcher, tracker, domain):  # noqa: D102
        return self._yes_no(tracker, "deletion_confirmed")

    async def extract_request_confirmed(self, dispatcher, tracker, domain):  # noqa: D102
        return self._yes_no(tracker, "request_confirmed")

    def validate_deletion_account_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in load_requests()["account_types"]:
            return self._accept("deletion_account_type", value, tracker)
        return self._reject("deletion_account_type", "account_type", dispatcher, tracker)

    def validate_deletion_email(self, value, dispatcher, tracker, domain):  # noqa: D102
        return self._validate_text("deletion_email", value, dispatcher, tracker)

    def validate_error_datetime(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        when, problem = validators.parse_datetime_ja(value, now_jst())
        if problem:
            return self._reject("error_datetime", problem, dispatcher, tracker)
        return self._accept("error_datetime", when.isoformat(timespec="seconds"), tracker)

    def validate_deletion_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"deletion_confirmed": True}
        if value is False:
            return {"deletion_confirmed": False}  # action_submit_request says so and forgets everything
        dispatcher.utter_message(response="utter_invalid_yes_no")
        return {"deletion_confirmed": None}

    def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return validate_confirmation(value, dispatcher, tracker)


def fix_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """One button per value entered so far, to correct it."""
    labels = load_requests()["fields"]
    return [
        {"title": labels[s], "payload": "/correct_field" + json.dumps({"field": s})}
        for s in PERSONAL_SLOTS
        if s in labels and tracker.get_slot(s)
    ]


def validate_confirmation(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    if value is True:
        return {"request_confirmed": True}
    if value is False:
        dispatcher.utter_message(response="utter_which_field_to_fix", buttons=fix_buttons(tracker))
        return {"request_confirmed": None}
    dispatcher.utter_message(response="utter_invalid_yes_no")
    return {"request_confirmed": None}


# --- custom questions ----------------------------------------------------------------


class ActionAskIdentityChoice(Action):
    """Asks which identity item the user will give next, with the remaining ones as buttons."""

    def name(self) -> str:
        return "action_ask_identity_choice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        labels = load_requests()["fields"]
        have = identity_count(tracker)
        buttons = [
            {"title": labels[f], "payload": "/inform" + json.dumps({"identity_choice": f})}
            for f in IDENTITY_FIELDS
            if not tracker.get_slot(f)
        ]
        if have >= IDENTITY_MINIMUM:
            buttons.append({"title": done_title(domain), "payload": "/inform" + json.dumps({"identity_choice": IDENTITY_DONE})})
            dispatcher.utter_message(response="utter_ask_identity_choice_more", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_identity_choice", needed=IDENTITY_MINIMUM - have, buttons=buttons)
        return []


def done_title(domain: DomainDict) -> str:
    variants = (domain.get("responses") or {}).get("utter_identity_done_button") or [{}]
    return variants[0].get("text", IDENTITY_DONE)


class ActionAskRequestConfirmed(Action):
    """Shows everything collected and asks the user to confirm it."""

    def name(self) -> str:
        return "action_ask_request_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_request_confirmed", summary="\n".join(summary_lines(tracker.current_slot_values())))
        return []


class ActionSubmitRequest(Action):
    """Hands over the inquiry text, then forgets the personal values."""

    def name(self) -> str:
        return "action_submit_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        slots = tracker.current_slot_values()
        form = "deletion_request_form" if slots.get("deletion_account_type") else "unlock_request_form"
        if not slots.get("request_confirmed"):
            # The user declined the irreversible deletion: nothing to send, nothing kept.
            dispatcher.utter_message(response="utter_deletion_declined")
            return [SlotSet(s, None) for s in PERSONAL_SLOTS] + [SlotSet("guide_outcome", {"flow": form, "result": "declined"})]
        subject, body = render_inquiry(form, slots)
        dispatcher.utter_message(response="utter_inquiry", subject=subject, body=body)
        dispatcher.utter_message(response="utter_inquiry_where")
        outcome = {"flow": form, "result": "inquiry_ready"}
        return [SlotSet(s, None) for s in PERSONAL_SLOTS] + [SlotSet("guide_outcome", outcome)]


class ActionStopForm(Action):
    """やめる / キャンセル inside a form: stop it and forget what was entered."""

    def name(self) -> str:
        return "action_stop_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        outcome = {"flow": tracker.active_loop.get("name"), "result": "form_stopped"}
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("guide_outcome", outcome)] + [
            SlotSet(s, None) for s in PERSONAL_SLOTS
        ]


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
    filled = [s for s in PERSONAL_SLOTS if s in load_requests()["fields"] and tracker.get_slot(s)]
    if field not in filled:
        dispatcher.utter_message(response="utter_which_field_to_fix", buttons=fix_buttons(tracker))
        return [SlotSet("request_confirmed", None)]
    dispatcher.utter_message(response="utter_field_cleared", label=load_requests()["fields"][field])
    events: list[EventType] = [SlotSet(field, None), SlotSet("request_confirmed", None)]
    if field in IDENTITY_FIELDS:
        events.append(SlotSet("identity_choice", field))  # ask the same item again
    if field == "unlock_service":  # another service needs other fields
        events += [
            SlotSet(s, None)
            for s in ["software_id", "organization_name", "reception_number", "agency", *IDENTITY_FIELDS, "identity_choice"]
        ]
    return events
