"""serving/rasa_patches.py against the pinned Rasa: each patch keeps Rasa's answers."""

from __future__ import annotations

import asyncio

import pytest
import rasa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from serving import rasa_patches
from tests.conftest import ROOT


def test_a_different_rasa_refuses_to_start(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match="written for Rasa 3.6.21, this is Rasa 3.7.0"):
        rasa_patches.install()


def test_the_pinned_rasa_is_the_installed_one():
    assert rasa.__version__ == rasa_patches.PINNED_RASA  # requirements.in and the patches agree


def test_cached_event_lookup_gives_rasas_own_answers():
    rasa_patches.cache_event_types()
    assert getattr(Event.resolve_by_type, "egov_patch", False)
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is Event.resolve_by_type(cls.type_name)  # the cached answer
    assert Event.resolve_by_type("topic") is None  # Rasa's backwards compatibility
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def conversation(domain: Domain, turns: int, loop: str | None = None) -> DialogueStateTracker:
    events: list = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    events.append(SlotSet("guide_state", {"flow": "phone_changed", "node": "reset_two_factor", "step": 3, "awaiting": "step"}))
    events.append(SlotSet("email", "a@example.jp"))
    if loop:
        events.append(ActiveLoop(loop))
    for _ in range(turns):
        events += [
            UserUttered("次へ", {"name": "guide_next", "confidence": 1.0}),
            ActionExecuted("action_guide"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events("u", events, domain.slots)


def test_sessions_end_after_the_turn_bound_but_never_inside_a_form(rasa_domain):
    n = rasa_patches.MAX_SESSION_TURNS
    assert rasa_patches.turns_in_session(conversation(rasa_domain, n - 1)) == n - 1
    assert not rasa_patches.too_long(conversation(rasa_domain, n - 1))
    assert rasa_patches.too_long(conversation(rasa_domain, n))
    assert not rasa_patches.too_long(conversation(rasa_domain, n + 10, loop="unlock_request_form"))


def test_a_new_session_after_the_bound_carries_the_flow_position_only(rasa_domain):
    from rasa.core.actions.action import ActionSessionStart

    rasa_patches.bound_sessions()

    class Processor:  # what the patched methods use of a MessageProcessor
        domain = rasa_domain

        def _get_action(self, name):
            return ActionSessionStart()

        async def _run_action(self, action, tracker, output_channel, nlg, prediction=None):
            tracker.update_with_events(await action.run(output_channel, nlg, tracker, rasa_domain), rasa_domain)
            return False

    from rasa.core.processor import MessageProcessor

    processor = Processor()
    processor._has_session_expired = MessageProcessor._has_session_expired.__get__(processor)
    processor.nlg = None
    tracker = conversation(rasa_domain, rasa_patches.MAX_SESSION_TURNS)
    asyncio.run(MessageProcessor._update_tracker_session(processor, tracker, None))
    assert sum(isinstance(e, SessionStarted) for e in tracker.events) == 2  # a new session began
    assert tracker.get_slot("guide_state")["step"] == 3  # where the user was
    assert tracker.get_slot("email") is None  # personal data stays behind
    short = conversation(rasa_domain, 3)
    before = len(short.events)
    asyncio.run(MessageProcessor._update_tracker_session(processor, short, None))
    assert len(short.events) == before  # a short session goes on


def test_action_replies_are_checked_against_rasas_schema_compiled_once(monkeypatch):
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import Draft202012Validator
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    rasa_patches.compile_reply_schema()
    assert getattr(RemoteAction._validate_action_result, "egov_patch", False)
    checks = []
    original = Draft202012Validator.check_schema
    monkeypatch.setattr(rasa_patches, "_reply_validator", None)
    monkeypatch.setattr(Draft202012Validator, "check_schema", classmethod(lambda cls, schema: checks.append(1) or original(schema)))
    action = RemoteAction("action_guide", EndpointConfig("http://127.0.0.1:1/webhook"))
    assert action._validate_action_result({"events": [], "responses": [{"text": "はい"}]}) is True
    assert action._validate_action_result({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": []}) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response from API"):
        action._validate_action_result({"events": "not a list", "responses": []})
    assert len(checks) == 1  # the schema itself was checked once, not once per reply


def test_the_sqlite_tracker_store_commits_through_a_write_ahead_log(tmp_path, rasa_domain):
    from rasa.core.tracker_store import SQLTrackerStore

    rasa_patches.sqlite_write_ahead_log()
    store = SQLTrackerStore(rasa_domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    tracker = conversation(rasa_domain, turns=3)
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("u")).events
    assert sum(isinstance(e, UserUttered) for e in stored) == 3 and list(stored)[-1] == tracker.events[-1]
