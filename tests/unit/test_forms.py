"""Form validation actions and the inquiry, with the real domain and content."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import fields, responses
from actions.forms import (
    ActionAskIdentityChoice,
    ActionCorrectField,
    ActionStopForm,
    ActionSubmitRequest,
    ValidateDeletionRequestForm,
    ValidateUnlockRequestForm,
)
from tests.unit.test_validators import BAD_DATETIMES, BAD_EMAILS, BAD_NAMES, BAD_NUMBERS, BAD_SOFTWARE_IDS

# The slots most tests start from: an e-Gov unlock request or a policy-proposal one with
# the e-mail given, or the deletion form with account type and e-mail given.
EGOV_UNLOCK = {"unlock_service": "egov_application", "email": "a@b.jp"}
PROPOSAL_UNLOCK = {"unlock_service": "policy_proposal", "email": "a@b.jp"}
GOOGLE_DELETION = {"deletion_account_type": "Googleアカウント", "deletion_email": "old@example.jp", "error_datetime": "2026-11-24T14:05:30"}
DELETION_FORM = {"loop": "deletion_request_form", "deletion_account_type": "e-Govアカウント", "deletion_email": "a@b.jp"}


def tracker(domain, text="", intent="inform", confidence=0.95, entities=None, loop="unlock_request_form", **slots):
    values = {name: None for name in domain["slots"]}
    values.update(slots)
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    return Tracker("u", values, message, [{"event": "user", "text": text}], False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, domain, t):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, domain)
    events = asyncio.run(result) if asyncio.iscoroutine(result) else result
    return events, [m.get("response") for m in dispatcher.messages], dispatcher.messages


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_every_validator_problem_has_a_polite_response(domain):
    problems = {p for table in (BAD_DATETIMES, BAD_EMAILS, BAD_NAMES, BAD_NUMBERS, BAD_SOFTWARE_IDS) for _, p in table}
    for problem in problems:
        name = f"utter_invalid_{problem}"
        assert name in domain["responses"] and responses.INVALID[problem].name == name, name


@pytest.mark.parametrize(
    "service,expected",
    [
        (None, ["unlock_service", "request_confirmed"]),
        ("developer_portal", ["unlock_service", "email", "software_id", "organization_name", "request_confirmed"]),
        ("policy_proposal", ["unlock_service", "email", "reception_number", "agency", "request_confirmed"]),
        ("egov_application", ["unlock_service", "email", "identity_choice", "request_confirmed"]),
    ],
)
def test_required_slots_follow_the_faq_per_service(domain, service, expected):
    t = tracker(domain, unlock_service=service)
    assert asyncio.run(ValidateUnlockRequestForm().required_slots([], CollectingDispatcher(), t, domain)) == expected


def test_api_key_is_never_a_field(domain):
    for service in fields.SERVICES:
        t = tracker(domain, unlock_service=service)
        slots = asyncio.run(ValidateUnlockRequestForm().required_slots([], CollectingDispatcher(), t, domain))
        assert not any("api_key" in s for s in slots)


def test_email_is_lowercased_with_an_explanation(domain):
    t = tracker(domain, "Taro.Yamada@Example.JP", unlock_service="developer_portal", requested_slot="email")
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["email"] == "taro.yamada@example.jp"
    assert "utter_email_lowercased" in responses


def test_faq_question_mid_form_is_not_taken_as_a_value(domain):
    t = tracker(
        domain,
        "秘密の質問を忘れました",
        intent="secret_question_forgotten",
        confidence=0.97,
        unlock_service="developer_portal",
        requested_slot="email",
    )
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert "email" not in slot_events(events) and responses == []


def test_pasted_api_key_is_rejected_not_stored_and_not_echoed(domain):
    key = "abcDEF1234567890abcdef1234567890XYZ"
    t = tracker(domain, key, intent="gbizid_http500", confidence=0.99, unlock_service="developer_portal", requested_slot="software_id")
    events, responses, messages = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["software_id"] is None
    assert responses == ["utter_invalid_secret"]
    assert key not in str(events) and key not in str(messages)


def test_two_of_four_rule(domain):
    def done_with(**identity: str):
        done = [{"entity": "identity_choice", "value": "done"}]
        return tracker(domain, "/inform", entities=done, **EGOV_UNLOCK, requested_slot="identity_choice", **identity)

    events, responses, messages = run(ValidateUnlockRequestForm(), domain, done_with(arrival_number="123"))
    assert slot_events(events)["identity_choice"] is None
    assert responses == ["utter_invalid_identity_too_few"] and messages[0]["needed"] == 1
    events, _, _ = run(ValidateUnlockRequestForm(), domain, done_with(arrival_number="123", applicant_name="山田"))
    assert slot_events(events)["identity_choice"] == "done" and slot_events(events)["requested_slot"] == "request_confirmed"


def test_identity_choice_buttons_offer_done_only_after_two(domain):
    _, _, messages = run(ActionAskIdentityChoice(), domain, tracker(domain, unlock_service="egov_application", arrival_number="123"))
    assert messages[0]["response"] == "utter_ask_identity_choice" and messages[0]["needed"] == 1
    assert len(messages[0]["buttons"]) == 3
    _, _, messages = run(
        ActionAskIdentityChoice(), domain, tracker(domain, unlock_service="egov_application", arrival_number="123", procedure_name="x")
    )
    assert messages[0]["response"] == "utter_ask_identity_choice_more" and len(messages[0]["buttons"]) == 3


def test_repeated_failures_offer_a_way_out(domain):
    t = tracker(
        domain,
        "xx",
        **PROPOSAL_UNLOCK,
        requested_slot="reception_number",
        form_failures={"reception_number": 1},
    )
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert responses == ["utter_invalid_number_format", "utter_offer_stop"]
    assert slot_events(events)["form_failures"] == {"reception_number": 2}


def test_skipping_a_required_field_is_refused(domain):
    t = tracker(domain, "スキップ", intent="skip_field", **PROPOSAL_UNLOCK, requested_slot="agency", reception_number="123")
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["agency"] is None and responses[0] == "utter_cannot_skip"


def test_skipping_an_identity_item_returns_to_the_choice(domain):
    t = tracker(domain, "わからない", intent="skip_field", **EGOV_UNLOCK, identity_choice="arrival_number", requested_slot="arrival_number")
    events, _, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["identity_choice"] is None and slot_events(events)["requested_slot"] == "identity_choice"


def test_datetime_is_checked_against_now(domain, monkeypatch):
    from datetime import datetime

    monkeypatch.setattr(fields, "now_jst", lambda: datetime(2026, 11, 25, 12, 0))
    t = tracker(
        domain,
        "昨日の15時ごろ",
        **DELETION_FORM,
        requested_slot="error_datetime",
    )
    events, _, _ = run(ValidateDeletionRequestForm(), domain, t)
    assert slot_events(events)["error_datetime"] == "2026-11-24T15:00:00"
    t = tracker(
        domain,
        "11月1日 10:00",
        **DELETION_FORM,
        requested_slot="error_datetime",
    )
    events, responses, _ = run(ValidateDeletionRequestForm(), domain, t)
    assert slot_events(events)["error_datetime"] is None and responses == ["utter_invalid_datetime_too_old"]


def test_deletion_warning_requires_explicit_yes(domain):
    base = dict(
        **DELETION_FORM,
        error_datetime="2026-11-24T15:00:00",
        requested_slot="deletion_confirmed",
    )
    events, responses, _ = run(ValidateDeletionRequestForm(), domain, tracker(domain, "そうかも", intent="out_of_scope", **base))
    assert slot_events(events)["deletion_confirmed"] is None and responses == ["utter_invalid_yes_no"]
    events, _, _ = run(ValidateDeletionRequestForm(), domain, tracker(domain, "いいえ", intent="deny", **base))
    assert slot_events(events)["deletion_confirmed"] is False and slot_events(events)["requested_slot"] is None


def test_unlock_inquiry_has_every_field_and_the_api_key_placeholder(domain):
    slots = dict(
        unlock_service="developer_portal",
        email="dev@example.jp",
        software_id="SW-1",
        organization_name="株式会社テスト",
        request_confirmed=True,
    )
    events, responses, messages = run(ActionSubmitRequest(), domain, tracker(domain, loop=None, **slots))
    assert responses == ["utter_inquiry", "utter_inquiry_where"]
    body = messages[0]["body"]
    for value in ("開発者ポータル", "dev@example.jp", "SW-1", "株式会社テスト", "「APIキー」"):
        assert value in body
    assert all(v is None for k, v in slot_events(events).items() if k != "guide_outcome")


def test_deletion_inquiry_formats_the_datetime_to_the_second(domain):
    slots = dict(**GOOGLE_DELETION, deletion_confirmed=True, request_confirmed=True)
    _, _, messages = run(ActionSubmitRequest(), domain, tracker(domain, loop=None, **slots))
    assert "2026年11月24日 14時05分30秒" in messages[0]["body"] and "Googleアカウント" in messages[0]["body"]


def test_declined_deletion_sends_nothing_and_forgets(domain):
    slots = dict(**GOOGLE_DELETION, deletion_confirmed=False)
    events, responses, _ = run(ActionSubmitRequest(), domain, tracker(domain, loop=None, **slots))
    assert responses == ["utter_deletion_declined"] and slot_events(events)["deletion_email"] is None


def test_stop_forgets_everything(domain):
    events, responses, _ = run(ActionStopForm(), domain, tracker(domain, unlock_service="policy_proposal", email="a@b.jp"))
    assert responses == ["utter_form_stopped"]
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events if e["event"] == "active_loop"
    ]
    assert slot_events(events)["email"] is None


def test_correct_field_clears_the_named_value(domain):
    t = tracker(
        domain,
        "メールアドレスを直したい",
        intent="correct_field",
        entities=[{"entity": "field", "value": "email"}],
        **PROPOSAL_UNLOCK,
    )
    events, responses, _ = run(ActionCorrectField(), domain, t)
    assert slot_events(events)["email"] is None and responses == ["utter_field_cleared"]


def test_correct_field_without_a_name_offers_buttons(domain):
    t = tracker(domain, "直したい", intent="correct_field", unlock_service="policy_proposal", email="a@b.jp")
    _, responses, messages = run(ActionCorrectField(), domain, t)
    assert responses == ["utter_which_field_to_fix"] and len(messages[0]["buttons"]) == 2


def test_value_shaped_answer_wins_over_a_confident_faq_intent(domain):
    t = tracker(
        domain,
        "2099/01/01 10:00:00",
        intent="gbizid_http500",
        confidence=0.99,
        **DELETION_FORM,
        requested_slot="error_datetime",
    )
    events, responses, _ = run(ValidateDeletionRequestForm(), domain, t)
    assert slot_events(events)["error_datetime"] is None and responses == ["utter_invalid_datetime_future"]


# --- typed answers to the form's buttons (actions/answers.py via forms.as_click) ---------


def typed(domain, text, buttons, loop="unlock_request_form", intent="nlu_fallback", **slots):
    """A tracker whose bot turn ended with `buttons` and whose user then typed `text`."""
    t = tracker(domain, text=text, intent=intent, confidence=0.3, loop=loop, **slots)
    t.events = [{"event": "bot", "text": "q", "data": {"buttons": buttons}}, {"event": "user", "text": text}]
    return t


POLICY_PROPOSAL_FILLED = {"unlock_service": "policy_proposal", "email": "a@example.jp", "reception_number": "123", "agency": "デジタル庁"}


def asked_buttons(domain, name):
    """A response's buttons as the user receives them (the domain escapes braces as {{ }})."""
    return [{**b, "payload": b["payload"].replace("{{", "{").replace("}}", "}")} for b in domain["responses"][name][0]["buttons"]]


def test_typed_done_title_finishes_the_identity_choice(domain):
    done = {"title": "これで完了", "payload": '/inform{"identity_choice": "done"}'}
    items = [{"title": "直近で申請した「到達番号」", "payload": '/inform{"identity_choice": "arrival_number"}'}, done]
    t = typed(
        domain,
        "これで完了",
        items,
        requested_slot="identity_choice",
        unlock_service="egov_application",
        email="a@example.jp",
        arrival_number="1234",
        applicant_name="山田 太郎",
    )
    events, _, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["identity_choice"] == "done"


@pytest.mark.parametrize("text,expected", [("この内容で作成する", True), ("作成してください", True), ("1", True), ("修正する", None)])
def test_typed_summary_buttons_answer_the_confirmation(domain, text, expected):
    t = typed(
        domain,
        text,
        asked_buttons(domain, "utter_ask_request_confirmed"),
        requested_slot="request_confirmed",
        **POLICY_PROPOSAL_FILLED,
    )
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["request_confirmed"] is expected
    assert ("utter_which_field_to_fix" in responses) == (expected is None)


@pytest.mark.parametrize("text,service", [("電子申請", "egov_application"), ("２", "developer_portal"), ("最後の", "policy_proposal")])
def test_typed_service_choice(domain, text, service):
    t = typed(domain, text, asked_buttons(domain, "utter_ask_unlock_service"), requested_slot="unlock_service")
    events, _, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["unlock_service"] == service


def test_typed_field_name_at_which_field_to_fix_clears_that_field(domain):
    fix = [
        {"title": "メールアドレス", "payload": '/correct_field{"field": "email"}'},
        {"title": "受付番号", "payload": '/correct_field{"field": "reception_number"}'},
    ]
    t = typed(
        domain,
        "メールアドレス",
        fix,
        requested_slot="request_confirmed",
        **POLICY_PROPOSAL_FILLED,
    )
    events, responses, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["email"] is None and responses == ["utter_field_cleared"]


def test_dont_know_at_an_identity_item_lets_the_user_pick_another(domain):
    t = typed(
        domain,
        "わかりません",
        [],
        requested_slot="arrival_number",
        intent="guide_unsure",
        unlock_service="egov_application",
        email="a@example.jp",
        identity_choice="arrival_number",
    )
    t.latest_message["intent"]["confidence"] = 0.96
    events, _, _ = run(ValidateUnlockRequestForm(), domain, t)
    assert slot_events(events)["arrival_number"] is None and slot_events(events)["identity_choice"] is None
