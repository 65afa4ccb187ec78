"""Faults: the action server stops, the Rasa server is killed and restarted, the tracker
store (PostgreSQL) or the lock store (Redis) goes away. The user always gets an answer,
nothing stored is lost, and the conversation continues where it was."""

from __future__ import annotations

import signal
import time

from serving import harness
from tests.reliability.checks import (
    APOLOGY,
    CONTACT,
    NOT_FOR_USERS,
    conversation_intact,
    new_sender,
    start_procedure,
    step_text,
    texts_of,
    write_figures,
)

EMAIL, NUMBER, NAME = "Hanako.Suzuki@Example.JP", "１２３４５６７８９０１２３４５６７８", "鈴木花子"


def all_text(reply: list[dict]) -> str:
    return "\n".join(texts_of(reply))


def assert_apology(messages: list[dict]) -> None:
    texts = texts_of(messages)
    assert texts and texts[-1] == APOLOGY, texts
    assert all(c in APOLOGY for c in CONTACT)
    assert not any(word in t for t in texts for word in NOT_FOR_USERS), texts


def start_unlock_form(stack: harness.Stack, me: str, instance: int = 0) -> None:
    """Unlock request, electronic application, up to the e-mail question."""
    stack.talk(me, "アカウントのロックを解除してほしいです", instance)
    asked = all_text(stack.talk(me, '/inform{"unlock_service":"egov_application"}', instance))
    assert "メールアドレス" in asked, asked


def test_action_server_stopped_mid_procedure_and_mid_form(single):
    db = single.workdir / "tracker.db"
    walker, filler = new_sender("act"), new_sender("actform")
    start_procedure(single, walker)
    assert step_text(2) in single.texts(walker, "/guide_next")
    start_unlock_form(single, filler)

    single.actions.stop()
    try:
        down = single.post({"sender": walker, "message": "/guide_next"})
        assert down.status_code == 200
        assert_apology(down.json())
        form_down = single.post({"sender": filler, "message": EMAIL})
        assert form_down.status_code == 200
        assert_apology(form_down.json())
        assert single.rasa[0].alive()
    finally:
        single.actions.start()
        single.actions.wait_until_up()

    # Back: the same message again continues from where the conversation was.
    assert step_text(3) in single.texts(walker, "/guide_next")
    conversation_intact(single, walker, db, expected_step=3)
    after = all_text(single.talk(filler, EMAIL))
    assert "hanako.suzuki@example.jp" in after and "到達番号" in after, after  # e-mail accepted, next question
    assert harness.tracker_state(harness.sqlite_events(db, filler))["slots"]["email"] == "hanako.suzuki@example.jp"
    log = single.rasa[0].log.read_text(encoding="utf-8")
    assert f"Conversation {walker}: action(s) action_guide failed" in log


def test_rasa_restarted_mid_procedure_and_mid_form(single):
    """Killed (SIGKILL, no clean shut-down) between turns and started again on the same
    SQLite tracker store: both conversations resume with everything entered so far."""
    db = single.workdir / "tracker.db"
    walker, filler = new_sender("rst"), new_sender("rstform")
    start_procedure(single, walker)
    single.talk(walker, "/guide_next")
    assert step_text(3) in single.texts(walker, "/guide_next")
    start_unlock_form(single, filler)
    single.talk(filler, EMAIL)
    single.talk(filler, '/inform{"identity_choice":"arrival_number"}')
    assert "あと1つ" in all_text(single.talk(filler, NUMBER))
    before = harness.sqlite_events(db, filler)

    single.rasa[0].stop(sig=signal.SIGKILL)
    started = time.perf_counter()
    single.rasa[0].start()
    single.rasa[0].wait_until_up()
    restart_s = time.perf_counter() - started

    assert harness.sqlite_events(db, filler) == before  # nothing lost or added
    assert step_text(4) in single.texts(walker, "/guide_next")  # same procedure, next step
    state = harness.tracker_state(harness.sqlite_events(db, filler))
    assert state["active_loop"] == {"name": "unlock_request_form"}
    assert state["slots"]["email"] == "hanako.suzuki@example.jp" and state["slots"]["arrival_number"] == "123456789012345678"
    single.talk(filler, '/inform{"identity_choice":"applicant_name"}')
    single.talk(filler, NAME)
    summary = all_text(single.talk(filler, '/inform{"identity_choice":"done"}'))
    for value in ("hanako.suzuki@example.jp", "123456789012345678", NAME):
        assert value in summary, summary
    conversation_intact(single, walker, db, expected_step=4)
    write_figures("restart", {"signal": "SIGKILL", "restart_seconds": round(restart_s, 1), "events_kept": len(before)})


def test_tracker_store_down_then_back(pair, services):
    me = new_sender("pgdown")
    start_procedure(pair, me, instance=0)
    assert step_text(2) in pair.texts(me, "/guide_next", instance=1)
    before = services.events(me)

    services.stop("pg")
    try:
        for instance in (0, 1):
            down = pair.post({"sender": me, "message": "/guide_next"}, instance=instance)
            assert down.status_code == 503 and down.headers.get("Retry-After"), down.text[:300]
            assert_apology(down.json())
            assert pair.rasa[instance].alive()
    finally:
        services.start("pg")

    assert services.events(me) == before  # the refused turns left nothing, nothing was lost
    assert step_text(3) in pair.texts(me, "/guide_next", instance=0)  # recovered, same place
    assert step_text(4) in pair.texts(me, "/guide_next", instance=1)
    expected = f"Conversation {me}: the turn could not be processed and was not stored (StoreUnavailable"
    deadline = time.time() + 10  # the server's stdout reaches the log file with some delay
    while expected not in pair.rasa[0].log.read_text(encoding="utf-8") and time.time() < deadline:
        time.sleep(0.2)
    assert expected in pair.rasa[0].log.read_text(encoding="utf-8")


def test_lock_store_down_then_back(pair, services):
    me = new_sender("redisdown")
    start_procedure(pair, me, instance=1)
    services.stop("redis")
    try:
        down = pair.post({"sender": me, "message": "/guide_next"}, instance=0)
        assert down.status_code == 503
        assert_apology(down.json())
    finally:
        services.start("redis")
    assert step_text(2) in pair.texts(me, "/guide_next", instance=0)
    assert "(LockError" in pair.rasa[0].log.read_text(encoding="utf-8")
