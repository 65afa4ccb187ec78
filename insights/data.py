"""Reads Rasa's SQL tracker store and works out what the insight report shows.

The `events` table (Rasa's SQLTrackerStore, SQLite or PostgreSQL) holds one row per
event: sender_id, type_name, timestamp, intent_name, action_name and the event as
JSON in `data`. Events are read in order per conversation and turned into:
- unanswered messages: user messages after which the bot asked "did you mean"
  (utter_did_you_mean / action_default_ask_affirmation), asked to rephrase
  (utter_ask_rephrase), gave up (utter_default / action_default_fallback), or that NLU
  marked nlu_fallback or out_of_scope; with what the user picked from "did you mean";
- outcomes: every value the engine put in the `guide_outcome` slot
  ({"flow", "result": resolved|unresolved|failed|stopped|form, …});
- handoffs: utter_handoff messages, with the flow and step from the outcome;
- drop-offs: the last `guide_state` of each session when it still waited for a step
  or a choice (the user left in the middle of a procedure).
Text is masked (insights/text.py mask) as soon as it is read.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml

from insights.text import mask

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
DID_YOU_MEAN = ("utter_did_you_mean", "utter_ask_affirmation", "action_default_ask_affirmation")
REPHRASE = ("utter_ask_rephrase", "action_default_ask_rephrase")
GAVE_UP = ("utter_default", "action_default_fallback")
HANDOFF = "utter_handoff"
STATE_SLOT, OUTCOME_SLOT = "guide_state", "guide_outcome"
NONE_OF_THESE = ("deny", OUT_OF_SCOPE)  # 「どれにも当てはまらない」
EVENT_TYPES = ("user", "bot", "slot", "action", "rewind", "session_started")

KINDS = {  # kind → Japanese label, most serious last
    "out_of_scope": "範囲外",
    "fallback": "認識できず",
    "did_you_mean": "聞き返し（もしかして）",
    "rephrase": "言い換えのお願い",
    "default": "回答できず",
}


@dataclass
class Message:
    """One user message the bot could not answer."""

    when: datetime
    text: str
    kind: str
    guess: str | None = None  # NLU's likeliest real intent
    confidence: float = 0.0
    chosen: str | None = None  # what the user picked after "did you mean"; "none" for どれにも当てはまらない


@dataclass
class Outcome:
    """How a guided flow ended (guide_outcome), or, as a Handoff, a hand-over to the desk."""

    when: datetime
    flow: str
    result: str
    node: str | None = None
    step: int | None = None


class Handoff(Outcome):
    """The support contact was shown: where the flow stood then."""


@dataclass
class Dropoff:
    when: datetime
    flow: str
    node: str | None
    step: int | None
    awaiting: str


@dataclass
class Insights:
    since: date
    until: date
    conversations: int = 0
    user_messages: int = 0
    unanswered: list[Message] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    dropoffs: list[Dropoff] = field(default_factory=list)
    daily: dict[date, Counter] = field(default_factory=lambda: defaultdict(Counter))


# --- where the tracker store is ---------------------------------------------------------


def database_url(db: str | None, root: Path, endpoints: Path | None = None) -> str:
    """A SQLAlchemy URL: given (URL or SQLite file), else from endpoints.yml's tracker_store, else tracker.db."""
    if db:
        return db if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"
    endpoints = endpoints or root / "endpoints.yml"
    store: dict[str, Any] = {}
    if endpoints.exists():
        store = (yaml.safe_load(os.path.expandvars(endpoints.read_text(encoding="utf-8"))) or {}).get("tracker_store") or {}
    if str(store.get("type", "")).upper() != "SQL":
        return f"sqlite:///{(root / 'tracker.db').resolve()}"
    from sqlalchemy.engine.url import URL

    dialect = str(store.get("dialect") or "sqlite")
    name = str(store.get("db") or "rasa.db")
    if dialect == "sqlite":
        path = Path(name)
        return f"sqlite:///{(path if path.is_absolute() else root / path).resolve()}"
    return str(
        URL.create(
            drivername=dialect,
            username=store.get("username"),
            password=store.get("password"),
            host=store.get("url") or store.get("host"),
            port=int(store["port"]) if store.get("port") else None,
            database=name,
            query=store.get("query") or {},
        )
    )


class NoConversations(Exception):
    """The tracker store holds no conversation yet (a fresh clone before `make run`)."""


def has_events_table(url: str) -> bool:
    """Whether the store has Rasa's events table, without creating an empty SQLite file."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine.url import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        if not Path(parsed.database).parent.is_dir():
            raise FileNotFoundError(f"no folder {Path(parsed.database).parent}")  # a wrong path, not an empty store
        return False
    engine = create_engine(url)
    try:
        return inspect(engine).has_table("events")
    finally:
        engine.dispose()


def read_events(url: str, start: float, end: float) -> Iterator[tuple[str, str, float, dict[str, Any]]]:
    """(sender_id, type_name, timestamp, data) for the events in [start, end), per sender in order."""
    from sqlalchemy import bindparam, create_engine, text

    if not has_events_table(url):
        raise NoConversations(url)
    engine = create_engine(url)
    query = text(
        "SELECT sender_id, type_name, timestamp, data FROM events "
        "WHERE timestamp >= :start AND timestamp < :end AND type_name IN :types ORDER BY sender_id, id"
    ).bindparams(bindparam("types", expanding=True))
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(stream_results=True).execute(query, {"start": start, "end": end, "types": list(EVENT_TYPES)})
            for sender_id, type_name, timestamp, data in rows:
                try:
                    event = json.loads(data) if data else {}
                except ValueError:
                    event = {}
                yield sender_id, type_name, float(timestamp or 0), event
    finally:
        engine.dispose()


# --- from events to insights ---------------------------------------------------------------


@dataclass
class _Turn:
    when: datetime
    text: str
    intent: str | None
    ranking: list[dict[str, Any]]
    said: list[str] = field(default_factory=list)  # utter_action of bot messages, names of actions
    outcome: dict[str, Any] | None = None
    reverted: bool = False


@dataclass
class _Session:
    turns: list[_Turn] = field(default_factory=list)
    last_state: tuple[datetime, dict[str, Any]] | None = None
    outcomes: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


def analyse(events: Iterable[tuple[str, str, float, dict[str, Any]]], since: date, until: date, tz: tzinfo) -> Insights:
    insights = Insights(since, until)
    sender, sessions = None, []
    for sender_id, type_name, timestamp, event in events:
        if sender_id != sender:
            _finish(sessions, insights, tz)
            sender, sessions = sender_id, [_Session()]
        _apply(sessions, type_name, datetime.fromtimestamp(timestamp, tz), event)
    _finish(sessions, insights, tz)
    return insights


def _apply(sessions: list[_Session], type_name: str, when: datetime, event: dict[str, Any]) -> None:
    session = sessions[-1]
    turn = session.turns[-1] if session.turns else None
    if type_name == "session_started":
        if session.turns or session.last_state or session.outcomes:
            sessions.append(_Session())
    elif type_name == "user":
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        session.turns.append(_Turn(when, mask(event.get("text")), intent, parse.get("intent_ranking") or []))
    elif type_name == "rewind" and turn:
        turn.reverted = True
    elif type_name == "bot" and turn:
        utter = (event.get("metadata") or {}).get("utter_action") or (event.get("metadata") or {}).get("template")
        if utter:
            turn.said.append(utter)
    elif type_name == "action" and turn and event.get("name"):
        turn.said.append(event["name"])
    elif type_name == "slot" and event.get("name") == STATE_SLOT:
        value = event.get("value")
        session.last_state = (when, value) if isinstance(value, dict) else None
    elif type_name == "slot" and event.get("name") == OUTCOME_SLOT and isinstance(event.get("value"), dict):
        session.outcomes.append((when, event["value"]))
        if turn:
            turn.outcome = event["value"]


def _kind(turn: _Turn) -> str | None:
    said = set(turn.said)
    if said & set(DID_YOU_MEAN):
        return "did_you_mean"
    if said & set(REPHRASE):
        return "rephrase"
    if said & set(GAVE_UP):
        return "default"
    if turn.intent == FALLBACK_INTENT:
        return "fallback"
    if turn.intent == OUT_OF_SCOPE:
        return "out_of_scope"
    return None


def _guess(turn: _Turn) -> tuple[str | None, float]:
    for item in turn.ranking:
        if item.get("name") not in (FALLBACK_INTENT, None):
            return item["name"], float(item.get("confidence") or 0)
    return None, 0.0


def _finish(sessions: list[_Session], insights: Insights, tz: tzinfo) -> None:
    for session in sessions:
        turns = session.turns
        if not turns and not session.outcomes:
            continue
        insights.conversations += 1
        if turns:
            insights.daily[turns[0].when.date()]["conversations"] += 1
        for i, turn in enumerate(turns):
            if turn.reverted and i + 1 < len(turns) and turns[i + 1].text == turn.text:
                continue  # Rasa replays a clarified message right after reverting it: count it once
            insights.user_messages += 1
            insights.daily[turn.when.date()]["messages"] += 1
            kind = _kind(turn)
            if turn.said.count(HANDOFF):
                outcome = turn.outcome or {}
                state_flow = (session.last_state[1] if session.last_state else {}).get("flow")
                for _ in range(turn.said.count(HANDOFF)):
                    insights.handoffs.append(
                        Handoff(
                            turn.when,
                            outcome.get("flow") or state_flow or "?",
                            outcome.get("result") or "?",
                            outcome.get("node"),
                            outcome.get("step"),
                        )
                    )
            if not kind or turn.text.startswith("/"):  # button payloads are never unanswered questions
                continue
            guess, confidence = _guess(turn)
            chosen = None
            if kind == "did_you_mean" and i + 1 < len(turns):
                answer = turns[i + 1].intent
                chosen = "none" if answer in NONE_OF_THESE else (None if answer == FALLBACK_INTENT else answer)
            insights.unanswered.append(Message(turn.when, turn.text, kind, guess, confidence, chosen))
            insights.daily[turn.when.date()]["unanswered"] += 1
        for when, value in session.outcomes:
            insights.outcomes.append(
                Outcome(when, str(value.get("flow") or "?"), str(value.get("result") or "?"), value.get("node"), value.get("step"))
            )
        if session.last_state:
            when, state = session.last_state
            if state.get("awaiting") in ("step", "choice") and state.get("flow"):
                insights.dropoffs.append(Dropoff(when, state["flow"], state.get("node"), state.get("step"), state["awaiting"]))


def load(url: str, since: date, until: date, tz: tzinfo) -> Insights:
    """Insights for the days since..until (both included, in tz)."""
    start = datetime.combine(since, time.min, tz).timestamp()
    end = datetime.combine(until + timedelta(days=1), time.min, tz).timestamp()
    return analyse(read_events(url, start, end), since, until, tz)
