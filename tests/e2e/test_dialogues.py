"""The dialogue suite (tests/dialogues) through the real servers: typed answers at
every question reach the FAQ remedy, and no conversation loops.

Tuning dialogues must all pass. Held-out dialogues were written before tuning and
are only measured: none may loop, and the share reaching the remedy has a floor
(`make bench` reports the figures)."""

from __future__ import annotations

import pytest

from tools import dialogues

HOLDOUT_REACH_FLOOR = 0.9


@pytest.fixture(scope="module")
def servers(own_servers):
    """Servers of their own: a hundred conversations stay out of the tracker store the
    insight-report test reads."""
    return own_servers


TUNING = dialogues.load("tuning")


@pytest.mark.parametrize("dialogue", TUNING, ids=[d.name for d in TUNING])
def test_tuning_dialogue(servers, dialogue):
    result = dialogues.run(dialogue, servers.talk)
    assert result.ok, dialogues.report([result])


def test_held_out_dialogues_reach_their_remedy_and_never_loop(servers):
    results = [dialogues.run(d, servers.talk) for d in dialogues.load("holdout")]
    summary = dialogues.summary(results)
    loops = [r for r in results if any("in a row" in p for p in r.problems)]
    assert not loops, dialogues.report(loops)
    assert summary["reach_rate"] >= HOLDOUT_REACH_FLOOR, f"{summary}\n{dialogues.report(results)}"


def test_the_suite_is_big_enough_and_both_parts_exist():
    assert len(TUNING) >= 30 and len(dialogues.load("holdout")) >= 30
