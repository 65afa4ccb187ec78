"""Changes to Rasa's own code, in one place, each named and tested
(tests/unit/test_rasa_patches.py).

`install()` applies them (unless EGOV_STOCK_RASA=1, to measure stock Rasa). It is called
explicitly at start-up by `python -m serving` (serving/__main__.py), which every script
and test harness uses instead of the bare `rasa` command. Each patch was written against
the pinned Rasa (requirements.in): another version refuses to start rather than silently
behave differently.

1. Event type lookup: Rasa finds an event's class by walking every subclass of
   Event, for every stored event, every time a tracker is read, which made a turn's
   cost grow with the conversation. The answer never changes, so it is cached.
2. Sessions bounded in turns: a conversation's session also ends after
   MAX_SESSION_TURNS user messages (as it ends after 60 quiet minutes), so the
   history that every turn reads, matches rules against, copies and sends to the
   action server stays bounded. Only the guided-flow position is carried into the
   new session (never form values); a session is never cut inside a form or the
   fallback loop.
3. Action-server replies checked with a validator built once: Rasa 3.6 calls
   `jsonschema.validate(result, schema)` for every reply, which first validates the
   schema itself against its metaschema (tens of milliseconds of CPU per action call).
   The schema is a constant, so it is checked once and the compiled validator reused;
   replies are held to the same schema and raise the same error.
4. The SQLite tracker store (`make run`'s embedded default) in write-ahead-log mode
   with `synchronous=NORMAL`: a turn's commit no longer waits for the disk (a flush at
   every commit was the largest single cost of a short turn). A stopped or killed
   server loses nothing (the log is in the operating system's hands when the commit
   returns); a power cut can lose the last turns, never corrupt the store. Readers
   (insights, purge) no longer block the server. PostgreSQL is not affected.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import rasa
import sqlalchemy
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine

PINNED_RASA = "3.6.21"
STOCK_SWITCH = "EGOV_STOCK_RASA"  # =1: no patches, Rasa as shipped (to measure what they gain)
MAX_SESSION_TURNS = int(os.environ.get("EGOV_MAX_SESSION_TURNS", "40"))
CARRIED_SLOTS = ("guide_state",)  # where the user is in a guided flow; no personal data


def install() -> None:
    if os.environ.get(STOCK_SWITCH) == "1":
        return
    if rasa.__version__ != PINNED_RASA:
        raise RuntimeError(
            f"serving/rasa_patches.py was written for Rasa {PINNED_RASA}, this is Rasa {rasa.__version__}: "
            "check each patch against the new version's code before changing PINNED_RASA."
        )
    cache_event_types()
    bound_sessions()
    compile_reply_schema()
    sqlite_write_ahead_log()


# --- 1. event type lookup ---------------------------------------------------------------


def cache_event_types() -> None:
    if getattr(Event.resolve_by_type, "egov_patch", False):
        return
    original = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)  # unknown names: Rasa's own answer (default, None or ValueError)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    resolve_by_type.egov_patch = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)


# --- 2. sessions bounded in turns ---------------------------------------------------------


def turns_in_session(tracker: DialogueStateTracker) -> int:
    turns = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, UserUttered):
            turns += 1
    return turns


def too_long(tracker: DialogueStateTracker) -> bool:
    return not tracker.active_loop_name and turns_in_session(tracker) >= MAX_SESSION_TURNS


def bound_sessions() -> None:
    if getattr(MessageProcessor._has_session_expired, "egov_patch", False):
        return
    expired_by_time = MessageProcessor._has_session_expired
    update_session = MessageProcessor._update_tracker_session

    def _has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
        return expired_by_time(self, tracker) or (self.domain.session_config.are_sessions_enabled() and too_long(tracker))

    async def _update_tracker_session(
        self: MessageProcessor, tracker: DialogueStateTracker, output_channel: Any, metadata: Any = None
    ) -> None:
        carried = []
        if tracker.events and not expired_by_time(self, tracker) and too_long(tracker):
            carried = [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_SLOTS if tracker.get_slot(name) is not None]
        await update_session(self, tracker, output_channel, metadata)
        for event in carried:
            tracker.update(event, self.domain)

    _has_session_expired.egov_patch = True  # type: ignore[attr-defined]
    MessageProcessor._has_session_expired = _has_session_expired
    MessageProcessor._update_tracker_session = _update_tracker_session


# --- 3. action-server reply check compiled once -------------------------------------------

_reply_validator: Any = None


def _compiled(schema: dict[str, Any]) -> Any:
    global _reply_validator
    if _reply_validator is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)  # once per process instead of once per action call
        _reply_validator = cls(schema)
    return _reply_validator


def compile_reply_schema() -> None:
    if getattr(RemoteAction._validate_action_result, "egov_patch", False):
        return

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        from jsonschema.exceptions import ValidationError, best_match

        error = best_match(_compiled(self.action_response_format_spec()).iter_errors(result))
        if error is None:
            return True
        if isinstance(error, ValidationError):
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
        raise error

    _validate_action_result.egov_patch = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result


# --- 4. SQLite in write-ahead-log mode --------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def sqlite_write_ahead_log() -> None:
    if not sqlalchemy.event.contains(Engine, "connect", _sqlite_pragmas):
        sqlalchemy.event.listen(Engine, "connect", _sqlite_pragmas)
