"""Retention: old conversations leave the real Rasa SQL tracker store."""

from __future__ import annotations

import asyncio
import time

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from insights.purge import purge


def save(store: SQLTrackerStore, sender: str, timestamp: float) -> None:
    tracker = DialogueStateTracker.from_events(
        sender, [UserUttered("taro@example.jp", timestamp=timestamp), SlotSet("email", "taro@example.jp", timestamp=timestamp)]
    )
    asyncio.run(store.save(tracker))


def test_purge_removes_only_quiet_conversations(tmp_path):
    db = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    now = time.time()
    save(store, "old", now - 30 * 3600)
    save(store, "recent", now - 3600)
    assert purge(f"sqlite:///{db}", hours=24, now=now) == 1
    assert asyncio.run(store.keys()) is not None
    senders = set(asyncio.run(store.keys()))
    assert senders == {"recent"}


def test_purge_on_an_empty_store(tmp_path):
    assert purge(f"sqlite:///{tmp_path / 'none.db'}", hours=1) == 0
