"""actions/fields.py, the one table of the forms' fields: every list is its view, and
domain.yml and content/requests.yml say what it says (else make check names the line)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import fields
from actions.fields import DELETION_FORM, FIELDS, UNLOCK_FORM
from actions.forms import ActionStopForm, ValidateDeletionRequestForm, ValidateUnlockRequestForm, value_shaped
from actions.inquiry import load_requests, summary_lines
from contentcheck.check import run
from contentcheck.files import copy_project
from contentcheck.form_fields import check_fields
from contentcheck.project import Check
from contentcheck.schema import syntax
from serving import log_masking
from tests.unit.test_check_content import edit, line_of
from tests.unit.test_forms import slot_events, tracker

FORMS = {UNLOCK_FORM: ValidateUnlockRequestForm(), DELETION_FORM: ValidateDeletionRequestForm()}


def test_the_faq_facts():
    """What the FAQ asks per request (「アカウントロックを解除するには」, the deletion request)."""
    assert fields.SERVICE_FIELDS == {
        "egov_application": ["email"],
        "developer_portal": ["email", "software_id", "organization_name"],
        "policy_proposal": ["email", "reception_number", "agency"],
    }
    assert fields.IDENTITY_FIELDS == ["arrival_number", "procedure_name", "corporation_name", "applicant_name"]
    assert fields.FORM_SLOTS[DELETION_FORM] == [
        "deletion_account_type",
        "deletion_email",
        "error_datetime",
        "deletion_confirmed",
        "request_confirmed",
    ]


def test_views_of_the_table():
    slots = [f.slot for f in FIELDS]
    assert len(set(slots)) == len(slots)
    assert fields.PERSONAL_SLOTS == slots + ["form_failures"]
    assert fields.LABELLED == [f.slot for f in FIELDS if f.labelled]
    assert set(fields.MASKED_SLOTS) == {f.slot for f in FIELDS if f.typed}  # every typed value, and no choice, is personal
    assert set(fields.FORM_SLOTS[UNLOCK_FORM]) | set(fields.FORM_SLOTS[DELETION_FORM]) == set(slots)
    for form, form_slots in fields.FORM_SLOTS.items():
        assert form_slots == [s for s in slots if s in form_slots], form  # in the table's order
    assert set(fields.SERVICE_SPECIFIC) == set(fields.FORM_SLOTS[UNLOCK_FORM]) - {"unlock_service", "email", "request_confirmed"}


def test_log_masking_masks_the_personal_fields():
    assert log_masking.DEFAULT_PERSONAL_SLOTS == fields.MASKED_SLOTS
    assert log_masking.Masker().personal_slots == fields.MASKED_SLOTS


def test_stopping_forgets_every_field(domain):
    events = ActionStopForm().run(CollectingDispatcher(), tracker(domain, email="a@b.jp"), domain)
    assert set(fields.PERSONAL_SLOTS) <= set(slot_events(events))


def test_summary_follows_the_table_and_uses_every_label(domain):
    values = {
        "unlock_service": "policy_proposal",
        "deletion_account_type": "Googleアカウント",
        "error_datetime": "2026-11-24T14:05:30",
    }
    slots = {s: values.get(s, f"value-{s}") for s in fields.LABELLED}
    content = load_requests()
    heads = {s: content["line_format"].split("{value}")[0].format(label=content["fields"][s]) for s in fields.LABELLED}
    lines = summary_lines(slots)
    assert [next(s for s, head in heads.items() if line.startswith(head)) for line in lines] == fields.LABELLED


def test_domain_and_requests_yml_agree_with_the_table(domain):
    for form, slots in fields.FORM_SLOTS.items():
        assert domain["forms"][form]["required_slots"] == slots
    assert set(load_requests()["fields"]) == set(fields.LABELLED)
    assert set(load_requests()["services"]) == set(fields.SERVICES)
    check = Check()
    assert syntax(check)
    check_fields(check)
    assert check.problems == []


@pytest.mark.parametrize("form", list(FORMS))
def test_every_field_of_a_form_is_extracted_and_validated(form):
    action = FORMS[form]
    other = next(a for f, a in FORMS.items() if f != form)
    for slot in fields.FORM_SLOTS[form]:
        assert callable(getattr(action, f"extract_{slot}")) and callable(getattr(action, f"validate_{slot}")), slot
    for slot in set(fields.FORM_SLOTS[form]) - set(fields.FORM_SLOTS[other.form_name()]):
        assert not hasattr(other, f"extract_{slot}") and not hasattr(other, f"validate_{slot}"), slot


def test_generated_methods_follow_the_table(domain):
    """Every typed field goes through one path: an invalid value is rejected by its own check."""
    for field in (f for f in FIELDS if f.typed):
        form = fields.REQUESTS[field.requests[0]]
        values = dict(unlock_service=field.requests[0], requested_slot=field.slot, identity_choice=field.slot if field.identity else None)
        t = tracker(domain, "<>", loop=form, **values)
        events = asyncio.run(FORMS[form].run(CollectingDispatcher(), t, domain))
        assert slot_events(events)[field.slot] is None, field.slot
        assert value_shaped(field, "<>") is False


def broken(tmp_path: Path, path: str, old: str, new: str) -> tuple[Path, list[str]]:
    root = copy_project(tmp_path / "project")
    edit(root / path, old, new)
    return root, [str(p) for p in run(root, rasa=False)]


def test_unknown_service_is_reported_at_its_line(tmp_path):
    root, problems = broken(tmp_path, "content/requests.yml", "  policy_proposal: 政策", "  policy_proposals: 政策")
    line = line_of(root / "content" / "requests.yml", "policy_proposals:")
    assert any(p.startswith(f"content/requests.yml:{line}: services: の「policy_proposals」はプログラムにない名前です。") for p in problems)
    assert any("services: に「policy_proposal」がありません" in p for p in problems)


def test_missing_slot_and_question_are_reported(tmp_path):
    root = copy_project(tmp_path / "project")
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    assert "agency" in domain["slots"]
    edit(root / "domain.yml", "  agency:\n    type: text\n", "  agenzy:\n    type: text\n")
    edit(root / "domain.yml", "  utter_ask_agency:\n", "  utter_ask_agenzy:\n")
    problems = [str(p) for p in run(root, rasa=False)]
    expected = f"domain.yml:{line_of(root / 'domain.yml', 'slots:')}: フォームの項目「agency」（actions/fields.py）が domain.yml の slots にありません。"
    assert any(p.startswith(expected) for p in problems), problems
    assert any("フォームの項目「agency」を尋ねる文がありません" in p for p in problems)
