"""The support requests' fields, declared once: every list about them is derived here.

One row per slot the request forms fill (actions/forms.py): which requests ask it, how
an answer is read and checked, whether it is personal, whether it has a label. The
words are content: labels in content/requests.yml `fields`, questions (utter_ask_<slot>)
and error messages in domain.yml. `make check` (contentcheck/form_fields.py) and
tests/unit/test_fields.py hold domain.yml and content/requests.yml to this table.

Adding a field: one row here, then its slot, question and the forms' required_slots
in domain.yml and its label in content/requests.yml.

Imported by serving/log_masking.py at start-up: keep the imports light (no Rasa, no YAML).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from actions import validators

JST = timezone(timedelta(hours=9))  # e-Gov's users write Japanese local time; Japan has no DST

UNLOCK_FORM = "unlock_request_form"
DELETION_FORM = "deletion_request_form"

# The requests, each collected by one form. The unlock request's three are its services
# (FAQ: 「アカウントロックを解除するには」); their button titles are in content/requests.yml.
EGOV, PORTAL, POLICY, DELETION = "egov_application", "developer_portal", "policy_proposal", "account_deletion"
REQUESTS = {EGOV: UNLOCK_FORM, PORTAL: UNLOCK_FORM, POLICY: UNLOCK_FORM, DELETION: DELETION_FORM}
SERVICES = tuple(r for r, form in REQUESTS.items() if form == UNLOCK_FORM)
EVERY_REQUEST = tuple(REQUESTS)

SERVICE = "unlock_service"  # the unlock request's first question: which service
IDENTITY_CHOICE = "identity_choice"  # egov_application: which identity item the user gives next
CONFIRMATION = "request_confirmed"  # every request's last question: the summary, to confirm
FAILURES = "form_failures"  # failed answers per field; forgotten with the values


def now_jst() -> datetime:
    return datetime.now(JST).replace(tzinfo=None)


def check_datetime(text: str | None) -> validators.Result:
    when, problem = validators.parse_datetime_ja(text, now_jst())
    return (when.isoformat(timespec="seconds") if when else None), problem


@dataclass(frozen=True)
class Typed:
    """How a typed value is checked: check(text) is (clean value, None) or (None, problem),
    the problem naming its explanation utter_invalid_<problem> (actions/responses.py)."""

    check: Callable[[str | None], validators.Result]
    shaped: bool  # text of this shape is an answer even when wrong in detail, never a new question
    refuses_skip: bool = True  # 「わからない」 gets utter_cannot_skip (else: check() explains the format)


EMAIL = Typed(validators.validate_email, shaped=True)
NUMBER = Typed(validators.validate_number, shaped=True)
SOFTWARE_ID = Typed(validators.validate_software_id, shaped=True)
NAME = Typed(validators.validate_name, shaped=False)  # any sentence would pass: the NLU decides
# Its format message shows approximate answers (「昨日の15時ごろ」), which helps a user who is unsure.
DATETIME = Typed(check_datetime, shaped=True, refuses_skip=False)


@dataclass(frozen=True)
class Field:
    slot: str
    requests: tuple[str, ...]  # the requests that ask it
    typed: Typed | None = None  # a typed value, and how it is checked
    entity: str | None = None  # a value picked by button: the entity its payload carries
    personal: bool = False  # what a person typed about themselves: masked in every log line
    labelled: bool = True  # labelled in content/requests.yml: in the summary and the inquiry, and correctable
    identity: bool = False  # one of the identity items the user picks IDENTITY_MINIMUM of
    # Neither typed nor picked: answered yes or no (affirm / deny).


IDENTITY_MINIMUM = 2  # FAQ: 「いずれか2つ以上」

# In the order the forms ask them, which is the order of the summary, the inquiry and the correction buttons.
FIELDS = (
    Field(SERVICE, SERVICES, entity="unlock_service"),
    Field("email", SERVICES, EMAIL, personal=True),
    Field("arrival_number", (EGOV,), NUMBER, personal=True, identity=True),
    Field("procedure_name", (EGOV,), NAME, personal=True, identity=True),
    Field("corporation_name", (EGOV,), NAME, personal=True, identity=True),
    Field("applicant_name", (EGOV,), NAME, personal=True, identity=True),
    Field(IDENTITY_CHOICE, (EGOV,), entity="identity_choice", labelled=False),
    Field("software_id", (PORTAL,), SOFTWARE_ID, personal=True),
    Field("organization_name", (PORTAL,), NAME, personal=True),
    Field("reception_number", (POLICY,), NUMBER, personal=True),
    Field("agency", (POLICY,), NAME, personal=True),
    Field("deletion_account_type", (DELETION,), entity="account_type"),
    Field("deletion_email", (DELETION,), EMAIL, personal=True),
    Field("error_datetime", (DELETION,), DATETIME, personal=True),
    Field("deletion_confirmed", (DELETION,), labelled=False),
    Field(CONFIRMATION, EVERY_REQUEST, labelled=False),
)
BY_SLOT = {f.slot: f for f in FIELDS}

# --- views of the table --------------------------------------------------------------

# Every slot of a form, in order: domain.yml's required_slots (the code asks those a request needs).
FORM_SLOTS = {form: [f.slot for f in FIELDS if any(REQUESTS[r] == form for r in f.requests)] for form in dict.fromkeys(REQUESTS.values())}
IDENTITY_FIELDS = [f.slot for f in FIELDS if f.identity]
# The typed items each service always asks, after the service itself (egov_application: + identity items).
SERVICE_FIELDS = {s: [f.slot for f in FIELDS if s in f.requests and f.typed and not f.identity] for s in SERVICES}
# What a changed service makes obsolete: the fields only some services ask.
SERVICE_SPECIFIC = [f.slot for f in FIELDS if f.requests and set(f.requests) < set(SERVICES)]
LABELLED = [f.slot for f in FIELDS if f.labelled]
# Every slot a request fills: forgotten when the inquiry is shown or the form stops.
PERSONAL_SLOTS = [f.slot for f in FIELDS] + [FAILURES]
# Masked in logs (serving/log_masking.py). Choices such as unlock_service stay visible.
MASKED_SLOTS = tuple(f.slot for f in FIELDS if f.personal)
