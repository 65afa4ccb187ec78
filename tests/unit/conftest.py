from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import make_engine
from actions.content import load_flows


@pytest.fixture
def flows():
    return load_flows()


@pytest.fixture
def engine(domain):
    return make_engine(domain)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest user message has the given NLU result."""
    message = {
        "text": "",
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 1.0}],
    }
    return Tracker("test-user", slots or {}, message, [], False, None, {}, "action_listen")


@pytest.fixture
def tracker_for():
    return make_tracker
