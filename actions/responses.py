"""What the code needs from domain.yml, declared once: the responses it sends or reads,
with the {variables} it fills in, and the intents it relies on.

The actions send through `send()`, which refuses a response not declared here or
given other variables, so this list cannot drift from the code. The content check
(contentcheck/responses.py) imports it: each response must exist in domain.yml and
keep its variables, each intent must be in domain.yml's intents; a problem points
at the declaration's line here. No Japanese here: the words are in domain.yml.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    name: str
    variables: frozenset[str]
    line: int  # of the declaration below: where the content check points


RESPONSES: dict[str, Response] = {}
INTENTS: dict[str, int] = {}  # intent → line of its declaration


def response(name: str, *variables: str) -> Response:
    """Declares a response the code sends or reads (one declaration a line)."""
    assert name not in RESPONSES, f"{name} declared twice"
    RESPONSES[name] = Response(name, frozenset(variables), sys._getframe(1).f_lineno)
    return RESPONSES[name]


def intent(name: str) -> str:
    """Declares an intent the code relies on; returns its name."""
    INTENTS.setdefault(name, sys._getframe(1).f_lineno)
    return name


def declared(name: str | Response) -> Response:
    found = RESPONSES.get(name.name if isinstance(name, Response) else name)
    if found is None:
        raise KeyError(f"response {name!r} is not declared in actions/responses.py")
    return found


def send(dispatcher: Any, name: str | Response, buttons: list[dict[str, str]] | None = None, **values: Any) -> None:
    """dispatcher.utter_message for a declared response, with exactly its variables."""
    found = declared(name)
    if set(values) != found.variables:
        raise ValueError(f"{found.name} takes {sorted(found.variables)}, not {sorted(values)} (actions/responses.py:{found.line})")
    dispatcher.utter_message(response=found.name, buttons=buttons, **values)


def text(domain: dict[str, Any], name: Response, default: str) -> str:
    """The first text of a declared response, for format strings and titles the code fills in."""
    variants = (domain.get("responses") or {}).get(declared(name).name) or []
    return variants[0].get("text", default) if variants else default


def buttons(domain: dict[str, Any], name: Response) -> list[dict[str, str]]:
    variants = (domain.get("responses") or {}).get(declared(name).name) or []
    return list(variants[0].get("buttons") or []) if variants else []


# --- intents ----------------------------------------------------------------------

AFFIRM, DENY, INFORM, SKIP_FIELD = intent("affirm"), intent("deny"), intent("inform"), intent("skip_field")
GUIDE_UNSURE = intent("guide_unsure")  # 「わからない」 at a question
GUIDE_CHOOSE = intent("guide_choose")  # an option's button (actions/answers.py choice_payload)
GUIDE_NEXT, GUIDE_STOP = intent("guide_next"), intent("guide_stop")
CORRECT_FIELD, REQUEST_HUMAN, HELP, GOODBYE = intent("correct_field"), intent("request_human"), intent("help"), intent("goodbye")
OUT_OF_SCOPE = intent("out_of_scope")  # 「どれにも当てはまらない」 in the two-stage fallback
MESSAGE_TOO_LONG = intent("message_too_long")  # sent by serving/channel.py

# Intent → the walkthrough engine's move (actions/guide.py Engine).
GUIDE_MOVES = {
    GUIDE_NEXT: "next",
    intent("guide_back"): "back",
    intent("guide_all"): "show_all",
    intent("guide_restart"): "restart",
    GUIDE_STOP: "stop",
    intent("guide_failed"): "failed",
    intent("guide_resume"): "resume",
}
# What rules hand to action_guide besides the flows' own intents: the moves, and answers to its questions.
GUIDE_INTENTS = {*GUIDE_MOVES, GUIDE_UNSURE, GUIDE_CHOOSE, AFFIRM, DENY, INFORM, SKIP_FIELD}
# Sent by buttons or the input channel, never typed: they need no NLU examples.
BUTTON_ONLY_INTENTS = {GUIDE_CHOOSE, MESSAGE_TOO_LONG}

# --- the walkthrough engine (actions/guide.py `Say`, sent by actions/actions.py) -----

response("utter_topics")
response("utter_guide_message", "text")
response("utter_guide_step_first", "step", "total", "step_text")
response("utter_guide_step", "step", "total", "step_text")
response("utter_guide_all_steps", "total", "steps")
response("utter_guide_notes", "notes")
response("utter_guide_references", "references")
response("utter_ask_resolved")
response("utter_glad_resolved")
response("utter_handoff", "tried")
response("utter_offer_resume_step", "title", "step", "total")
response("utter_offer_resume", "title")
response("utter_guide_stopped")
response("utter_guide_nothing_active")
response("utter_guide_already_first")
response("utter_answer_not_understood")
response("utter_answer_not_understood_again")
response("utter_unsure_remedies")
response("utter_two_topics", "first", "second")
response("utter_offer_other_topic", "title")
response("utter_other_topic_declined")
response("utter_guide_unavailable")
NOTHING_TO_ANSWER = response("utter_nothing_to_answer")
SUPPORT_CONTACT = response("utter_support_contact")
# Read by actions/actions.py make_engine: templates the engine fills with str.format, and buttons.
TRIED_LINE = response("utter_guide_tried_line", "summary")
PROGRESS = response("utter_guide_progress", "summary", "step", "total")
UNSURE_LINE = response("utter_guide_unsure_line", "question")
WAY_OUT = response("utter_answer_way_out")

# --- the two-stage fallback (actions/actions.py) ------------------------------------

ASK_REPHRASE = response("utter_ask_rephrase")
DID_YOU_MEAN = response("utter_did_you_mean")
NONE_OF_THESE = response("utter_none_of_these")  # its text is a button title

# --- the support-request forms (actions/forms.py) -----------------------------------

ASK_IDENTITY_CHOICE = response("utter_ask_identity_choice", "needed")
ASK_IDENTITY_CHOICE_MORE = response("utter_ask_identity_choice_more")
IDENTITY_DONE_BUTTON = response("utter_identity_done_button")  # its text is a button title
IDENTITY_MORE_NEEDED = response("utter_identity_more_needed", "needed")
IDENTITY_TOO_FEW = response("utter_invalid_identity_too_few", "needed")
ASK_REQUEST_CONFIRMED = response("utter_ask_request_confirmed", "summary")
EMAIL_LOWERCASED = response("utter_email_lowercased", "email")
INVALID_YES_NO = response("utter_invalid_yes_no")
CANNOT_SKIP = response("utter_cannot_skip")
OFFER_STOP = response("utter_offer_stop")
OFFER_OTHER_ITEM = response("utter_offer_other_item")
WHICH_FIELD_TO_FIX = response("utter_which_field_to_fix")
FIELD_CLEARED = response("utter_field_cleared", "label")
INQUIRY = response("utter_inquiry", "subject", "body")
INQUIRY_WHERE = response("utter_inquiry_where")
DELETION_DECLINED = response("utter_deletion_declined")
FORM_STOPPED = response("utter_form_stopped")
# A wrong value's explanation, by the problem actions/validators.py or the form names.
INVALID = {
    problem: response(f"utter_invalid_{problem}")
    for problem in (
        "email_empty",
        "email_too_long",
        "email_format",
        "number_empty",
        "number_too_long",
        "number_format",
        "text_empty",
        "text_too_long",
        "text_format",
        "software_id_format",
        "secret",
        "service",
        "account_type",
        "identity_choice",
        "datetime_empty",
        "datetime_format",
        "datetime_no_time",
        "datetime_future",
        "datetime_too_old",
    )
}

# --- the input channel (serving/channel.py) ----------------------------------------------

SERVICE_UNAVAILABLE = response("utter_service_unavailable")
TOO_MANY_MESSAGES = response("utter_too_many_messages")  # with HTTP 429 (serving/rate_limit.py)
