"""A long conversation: its session ends after a bounded number of turns
(serving/rasa_patches.py), the user keeps their place in the guided flow, and the
stored history per session stays bounded. Servers of their own, with a small bound."""

from __future__ import annotations

import json
import sqlite3

import pytest

from actions.content import load_flows

BOUND = 4


@pytest.fixture(scope="module")
def servers(servers_with):
    return servers_with(EGOV_MAX_SESSION_TURNS=str(BOUND))


def test_the_flow_position_survives_the_new_session(servers):
    steps = load_flows()["phone_changed"].nodes["reset_two_factor"].steps
    me = "long-conversation"
    texts = servers.texts(me, "機種変更でワンタイムコードが確認できません")
    assert any(steps[0] in t for t in texts)
    for number in range(2, 8):  # past the bound: a new session starts on the way
        texts = servers.texts(me, "/guide_next")
        assert any(f"手順 {number}/7" in t and steps[number - 1] in t for t in texts), (number, texts)
    db = sqlite3.connect(servers.workdir / "tracker.db")
    kinds = [row[0] for row in db.execute("select type_name from events where sender_id = ? order by id", (me,))]
    assert kinds.count("session_started") >= 2
    last = max(i for i, k in enumerate(kinds) if k == "session_started")
    assert kinds[last:].count("user") <= BOUND  # the history a turn reads stays bounded


def test_form_values_are_not_carried_and_a_form_is_never_cut(servers):
    me = "long-form"
    servers.talk(me, "アカウントのロックを解除してほしい")
    servers.talk(me, "/inform" + json.dumps({"unlock_service": "policy_proposal"}))
    for value in ("a@example.jp", "20261124001"):
        servers.talk(me, value)
    texts = servers.texts(me, "デジタル庁")  # past the bound, inside the form
    assert any("次の内容で問い合わせ文を作成します" in t for t in texts), texts
    assert any("a@example.jp" in t for t in texts)  # nothing lost mid-form
