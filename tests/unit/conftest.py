from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import make_engine
from actions.content import load_flows
from contentcheck.check import run
from contentcheck.files import copy_project


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


# --- a copy of the project to break or edit (the content check, the editors' guide) --------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> set[str]:
    """Problems of the unedited copy (none when the project is clean): an edit must add none."""
    return {str(p) for p in run(copy_project(tmp_path_factory.mktemp("baseline")), rasa=False)}


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_project(tmp_path / "project")
