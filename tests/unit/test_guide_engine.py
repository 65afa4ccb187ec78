"""The walkthrough engine's moves on a small fixture flows file (each flow shaped like
one in content/flows.yml), and every branch of the real content/flows.yml walked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from actions.actions import make_engine
from actions.answers import choice_payload
from actions.content import FLOWS_FILE_ENV, load_flows, parse_flows
from actions.guide import Engine
from actions.guide_state import AWAIT_CHOICE, AWAIT_RESOLVED, AWAIT_STEP
from actions.remedies import circled

FIXTURE = Path(__file__).parent / "fixtures" / "engine_flows.yml"


@pytest.fixture
def engine(domain, monkeypatch) -> Engine:
    """The engine as the actions build it (the domain's formats), on the fixture flows."""
    monkeypatch.setenv(FLOWS_FILE_ENV, str(FIXTURE))
    return make_engine(domain)


@pytest.fixture
def flows(engine):
    return engine.flows


def responses(turn):
    return [s.response or "text" for s in turn.says]


def walk_to_end_of_procedure(engine, state):
    node = engine._node(state)
    turn = None
    for _ in range(len(node.steps)):
        turn = engine.next(state)
        state = turn.state
    return turn


def test_procedure_starts_at_step_one_of_seven(engine, flows):
    turn = engine.start(None, "seven_steps")
    node = flows["seven_steps"].nodes[flows["seven_steps"].start]
    assert turn.state["awaiting"] == AWAIT_STEP and turn.state["step"] == 1
    step = turn.says[-1]
    assert step.response == "utter_guide_step_first"
    assert step.values == {"step": 1, "total": 7, "step_text": node.steps[0]}


def test_next_walks_every_step_in_order_then_notes_and_resolution(engine, flows):
    node = flows["seven_steps"].nodes[flows["seven_steps"].start]
    turn = engine.start(None, "seven_steps")
    seen = [turn.says[-1].values["step_text"]]
    for _ in range(6):
        turn = engine.next(turn.state)
        assert turn.says[0].response == "utter_guide_step"
        seen.append(turn.says[0].values["step_text"])
    assert seen == list(node.steps)
    turn = engine.next(turn.state)
    assert responses(turn) == ["utter_guide_notes", "utter_guide_references", "utter_ask_resolved"]
    assert "QRコード" in turn.says[0].values["notes"]
    assert turn.state["awaiting"] == AWAIT_RESOLVED


def test_back_from_first_step_says_so_and_stays(engine):
    turn = engine.back(engine.start(None, "seven_steps").state)
    assert responses(turn) == ["utter_guide_already_first", "utter_guide_step_first"]
    assert turn.state["step"] == 1


def test_back_goes_one_step_back(engine):
    state = engine.start(None, "seven_steps").state
    state = engine.next(engine.next(state).state).state
    turn = engine.back(state)
    assert turn.state["step"] == 2 and turn.says[0].values["step"] == 2


def test_back_to_a_node_the_content_no_longer_has_stays_where_the_user_is(engine):
    """An editor removed a node while a conversation stood past it: 「戻る」 must not fail."""
    state = engine.start(None, "seven_steps").state
    state["history"] = [("seven_steps", "a_node_since_removed", 2)]
    turn = engine.back(state)
    assert responses(turn) == ["utter_guide_already_first", "utter_guide_step_first"]
    assert turn.state["node"] == state["node"] and turn.state["history"] == []


def test_show_all_lists_circled_steps_and_next_finishes(engine, flows):
    node = flows["seven_steps"].nodes[flows["seven_steps"].start]
    turn = engine.show_all(engine.start(None, "seven_steps").state)
    text = turn.says[0].values["steps"]
    assert turn.says[0].response == "utter_guide_all_steps"
    assert [line.split(" ", 1)[0] for line in text.splitlines()] == [circled(i) for i in range(1, 8)]
    assert node.steps[6] in text
    assert engine.next(turn.state).state["awaiting"] == AWAIT_RESOLVED


def test_restart_returns_to_step_one(engine):
    state = engine.next(engine.next(engine.start(None, "seven_steps").state).state).state
    assert engine.restart(state).state["step"] == 1


def test_stop_clears_state_and_records_outcome(engine):
    turn = engine.stop(engine.start(None, "seven_steps").state)
    assert turn.state is None and turn.outcome["result"] == "stopped"
    assert responses(turn) == ["utter_guide_stopped"]


def test_moves_without_active_flow_are_explained(engine):
    for move in (engine.next, engine.back, engine.resume, engine.restart):
        assert responses(move(None)) == ["utter_guide_nothing_active"]


def test_a_choice_branches_on_yes_or_no(engine):
    turn = engine.start(None, "registration")
    assert turn.state["awaiting"] == AWAIT_CHOICE
    buttons = turn.says[-1].buttons
    assert [b["payload"] for b in buttons] == [choice_payload("ask_registered", 0), choice_payload("ask_registered", 1)]
    not_registered = engine.answer(turn.state, "deny", {})
    text = not_registered.says[0].values["text"]
    assert "「登録ページへ」" in text and "「登録の方法」" in text
    assert not_registered.state["awaiting"] == AWAIT_RESOLVED


def test_a_branch_through_a_procedure_and_a_goto_leads_to_a_form(engine):
    state = engine.answer(engine.start(None, "registration").state, "affirm", {}).state
    assert state["node"] == "check_credentials"
    turn = walk_to_end_of_procedure(engine, state)
    assert turn.state["node"] == "ask_invalid_email"
    turn = engine.answer(turn.state, "affirm", {})
    assert turn.form == "unlock_request_form"
    assert any("「無効なメールアドレスです」" in s.values.get("text", "") for s in turn.says)


def test_entity_answers_a_choice(engine):
    state = engine.start(None, "account_kind").state
    turn = engine.answer(state, "inform", {"account_type": "Googleアカウント"})
    assert "Googleアカウント" in turn.says[0].values["text"]


def test_unmatched_answer_asks_the_question_again(engine):
    state = engine.start(None, "account_kind").state
    turn = engine.answer(state, "affirm", {})
    assert responses(turn)[0] == "utter_answer_not_understood" and turn.state["node"] == state["node"]


def test_stale_button_shows_current_place(engine):
    state = engine.start(None, "seven_steps").state
    turn = engine.choose(state, "ask_registered:0")
    assert turn.state == state and turn.says[0].values["step"] == 1


def test_interruption_pauses_and_offers_resume_at_same_step(engine):
    state = engine.next(engine.next(engine.start(None, "seven_steps").state).state).state
    turn = engine.start(state, "quick_answer")
    assert turn.state["paused"]["step"] == 3
    turn = engine.answer(turn.state, "affirm", {})
    assert responses(turn) == ["utter_glad_resolved", "utter_offer_resume_step"]
    assert turn.says[-1].values["step"] == 3 and turn.says[-1].values["total"] == 7
    resumed = engine.answer(turn.state, "affirm", {})
    assert resumed.says[0].values["step"] == 3 and resumed.state["flow"] == "seven_steps"


def test_offer_resume_only_inside_a_flow(engine):
    assert engine.offer_resume(None).says == []
    state = engine.start(None, "seven_steps").state
    assert responses(engine.offer_resume(state)) == ["utter_offer_resume_step"]


def test_unresolved_hands_off_with_what_was_tried(engine):
    state = engine.start(None, "seven_steps").state
    turn = walk_to_end_of_procedure(engine, state)
    turn = engine.answer(turn.state, "deny", {})
    assert responses(turn) == ["utter_handoff"]
    assert turn.outcome == {"flow": "seven_steps", "result": "unresolved", "node": "end", "step": 0}
    assert turn.says[0].values["tried"].startswith("・")


def test_failed_step_reports_where(engine):
    state = engine.next(engine.start(None, "seven_steps").state).state
    turn = engine.failed(state)
    assert "2/7" in turn.says[0].values["tried"] and turn.outcome["result"] == "failed"


def test_unknown_flow_id(engine):
    assert responses(engine.start(None, "no_such_flow")) == ["utter_guide_unavailable"]
    assert engine.checked({"flow": "no_such_flow", "node": "x", "awaiting": "step"}) is None


def test_step_list_edited_shorter_moves_to_new_last_step(tmp_path):
    source = tmp_path / "flows.yml"
    text = FIXTURE.read_text(encoding="utf-8")
    source.write_text(text, encoding="utf-8")
    full = Engine(parse_flows(source))
    state = full.start(None, "seven_steps").state
    for _ in range(6):
        state = full.next(state).state
    assert state["step"] == 7
    # The editor cuts the procedure to its first three steps.
    data = yaml.safe_load(text)
    procedure = data["flows"]["seven_steps"]["nodes"][data["flows"]["seven_steps"]["start"]]
    procedure["steps"] = procedure["steps"][:3]
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    short = Engine(parse_flows(source))
    state = short.checked(state)
    assert state["step"] == 3
    assert short.next(state).state["awaiting"] == AWAIT_RESOLVED


def test_asking_the_same_topic_again_keeps_the_place(engine):
    state = engine.next(engine.start(None, "seven_steps").state).state
    turn = engine.start(state, "seven_steps")
    assert turn.state["step"] == 2 and turn.says[0].values["step"] == 2


# --- the real content: every flow starts, every step and branch is shown ------------------


def explore(engine, flow_id):
    """Every node and every step the engine shows, following every branch from the start."""
    shown, seen_states = set(), set()
    flow = engine.flows[flow_id]
    todo = [engine.start(None, flow_id)] + [engine.start(None, flow_id, text=route.words[0]) for route in flow.routes]
    while todo:
        turn = todo.pop()
        for say in turn.says:
            shown.add(say.values.get("text") or say.values.get("step_text") or say.text or say.response)
        state = turn.state
        if not state or json.dumps(state, sort_keys=True) in seen_states:
            continue
        seen_states.add(json.dumps(state, sort_keys=True))
        if state["awaiting"] == "step":
            todo.append(engine.next(state))
        elif state["awaiting"] == "choice":
            node = engine._node(state)
            todo += [engine.choose(state, f"{node.id}:{i}") for i in range(len(node.options))]
    return shown


@pytest.mark.parametrize("flow_id", sorted(load_flows()))
def test_every_flow_starts_and_every_step_and_branch_is_reachable_word_for_word(domain, flow_id):
    content = make_engine(domain)
    turn = content.start(None, flow_id)
    assert turn.says and (turn.state or turn.form)
    shown = explore(content, flow_id)
    nodes = content.flows[flow_id].nodes.values()
    reachable_flows = {flow_id} | {n.flow for n in nodes if n.type == "goto"} | {o.goto for n in nodes for o in n.options if o.goto}
    for fid in reachable_flows:
        for node in content.flows[fid].nodes.values():
            if node.type == "procedure":
                assert set(node.steps) <= shown, (fid, node.id)
            elif node.type in ("message", "form") and node.text:
                assert "\n\n".join(node.text) in shown, (fid, node.id)
            elif node.type == "choice":
                assert node.ask in shown, (fid, node.id)
