"""The walkthrough engine: one state machine for every flow in content/flows.yml.

Pure functions from (state, user move) to (new state, what to say). No Rasa here,
so every transition is testable with plain data; actions/actions.py connects it
to the tracker. What to say is a list of `Say` items naming domain responses, so
all Japanese text stays in YAML.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from actions.content import END, Flow, Node

State = dict[str, Any]
AWAIT_STEP, AWAIT_CHOICE, AWAIT_RESOLVED = "step", "choice", "resolved"
ACTIVE = (AWAIT_STEP, AWAIT_CHOICE)
MAX_HOPS = 50  # message/goto chains longer than this are an editor's loop


@dataclass
class Say:
    """One bot message: a domain response, or literal YAML text with buttons."""

    response: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Turn:
    """The engine's answer to one user move."""

    state: State | None
    says: list[Say] = field(default_factory=list)
    form: str | None = None  # a support form to start after the messages
    outcome: dict[str, Any] | None = None  # 解決しましたか？ answer, for analytics


def circled(n: int) -> str:
    """①..⑳ as in the FAQ; plain digits after 20."""
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"


def choice_payload(node_id: str, index: int) -> str:
    return "/guide_choose" + json.dumps({"guide_option": f"{node_id}:{index}"})


class Engine:
    """Transitions over one set of flows. `tried_format` renders a handoff line."""

    def __init__(
        self, flows: dict[str, Flow], tried_format: str = "・{summary}", progress_format: str = "{summary} ({step}/{total})"
    ) -> None:
        self.flows = flows
        self.tried_format = tried_format
        self.progress_format = progress_format

    # --- helpers ---------------------------------------------------------

    def _node(self, state: State) -> Node | None:
        flow = self.flows.get(state.get("flow", ""))
        return flow.nodes.get(state.get("node", "")) if flow else None

    def _title(self, state: State) -> str:
        flow = self.flows.get(state.get("flow", ""))
        return flow.title if flow else ""

    @staticmethod
    def _new_state(flow_id: str, trail: list[str] | None = None, paused: State | None = None) -> State:
        return {"flow": flow_id, "node": None, "step": 0, "awaiting": None, "history": [], "trail": trail or [], "paused": paused}

    def _remember(self, state: State, summary: str | None) -> None:
        if summary and summary not in state["trail"]:
            state["trail"].append(summary)

    def _step_says(self, node: Node, step: int) -> Say:
        total = len(node.steps)
        response = "utter_guide_step_first" if step == 1 else "utter_guide_step"
        return Say(response, {"step": step, "total": total, "step_text": node.steps[step - 1]})

    def _choice_says(self, node: Node) -> Say:
        buttons = [{"title": o.label, "payload": choice_payload(node.id, i)} for i, o in enumerate(node.options)]
        return Say(text=node.text[0] if node.text else "", buttons=buttons)

    def _current_says(self, state: State) -> list[Say]:
        """Re-show where the user is."""
        node = self._node(state)
        if state.get("awaiting") == AWAIT_STEP and node:
            return [self._step_says(node, state["step"])]
        if state.get("awaiting") == AWAIT_CHOICE and node:
            return [self._choice_says(node)]
        if state.get("awaiting") == AWAIT_RESOLVED:
            return [Say("utter_ask_resolved")]
        return [Say("utter_guide_nothing_active")]

    def _enter(self, state: State, node_id: str, says: list[Say]) -> Turn:
        """Walk from node_id through message/goto nodes until the user must answer."""
        for _ in range(MAX_HOPS):
            flow = self.flows[state["flow"]]
            if node_id == END:
                state.update(node=END, step=0, awaiting=AWAIT_RESOLVED)
                says.append(Say("utter_ask_resolved"))
                return Turn(state, says)
            node = flow.nodes[node_id]
            left = self._node(state)
            if left and left.type in ("procedure", "choice"):  # only places the user waited at
                state["history"].append([state["flow"], left.id, state["step"]])
            state.update(node=node.id, step=0, awaiting=None)
            if node.type == "message":
                says.append(Say("utter_guide_message", {"text": "\n\n".join(node.text)}))
                self._remember(state, node.summary)
                node_id = node.next or END
            elif node.type == "goto":
                state["flow"], state["node"] = node.flow, None
                node_id = self.flows[node.flow].start
            elif node.type == "procedure":
                if node.intro:
                    says.append(Say("utter_guide_message", {"text": "\n\n".join(node.intro)}))
                state.update(step=1, awaiting=AWAIT_STEP)
                says.append(self._step_says(node, 1))
                return Turn(state, says)
            elif node.type == "choice":
                state["awaiting"] = AWAIT_CHOICE
                says.append(self._choice_says(node))
                return Turn(state, says)
            elif node.type == "form":
                if node.text:
                    says.append(Say("utter_guide_message", {"text": "\n\n".join(node.text)}))
                self._remember(state, node.summary)
                return Turn(None, says, form=node.form, outcome={"flow": state["flow"], "result": "form", "form": node.form})
        raise RuntimeError(f"flow {state['flow']} loops at node {node_id}")

    def _finish_procedure(self, state: State, node: Node) -> Turn:
        says: list[Say] = []
        if node.notes:
            says.append(Say("utter_guide_notes", {"notes": "\n\n".join(node.notes)}))
        if node.references:
            says.append(Say("utter_guide_references", {"references": "\n".join(node.references)}))
        self._remember(state, node.summary)
        return self._enter(state, node.next or END, says)

    def _handoff(self, state: State, result: str, extra: str | None = None) -> Turn:
        lines = [self.tried_format.format(summary=s) for s in state.get("trail", [])]
        if extra:
            lines.append(self.tried_format.format(summary=extra))
        tried = "\n".join(lines) if lines else self.tried_format.format(summary=self._title(state))
        outcome = {"flow": state.get("flow"), "result": result, "node": state.get("node"), "step": state.get("step")}
        turn = Turn(None, [Say("utter_handoff", {"tried": tried})], outcome=outcome)
        return self._after_end(state, turn)

    def _after_end(self, state: State, turn: Turn) -> Turn:
        """A flow ended: if another was interrupted by it, offer to go back to it."""
        paused = state.get("paused")
        if paused:
            paused = copy.deepcopy(paused)
            paused["offered"] = True
            turn.says.append(self._resume_offer(paused))
            turn.state = paused
        return turn

    def _resume_offer(self, state: State) -> Say:
        node = self._node(state)
        if state.get("awaiting") == AWAIT_STEP and node:
            return Say("utter_offer_resume_step", {"title": self._title(state), "step": state["step"], "total": len(node.steps)})
        return Say("utter_offer_resume", {"title": self._title(state)})

    def checked(self, state: State | None) -> State | None:
        """The state made consistent with the current content.

        Editors may remove a flow or a node, or shorten a procedure, while users
        are inside it: an unknown place ends the flow, a step past the end moves
        to the new last step.
        """
        if not state or not state.get("flow"):
            return None
        if state["flow"] not in self.flows:
            return None
        state = copy.deepcopy(state)
        node = self._node(state)
        if state.get("node") != END and state.get("awaiting") in ACTIVE and not node:
            return None
        if node and node.type == "procedure":
            state["step"] = min(max(int(state.get("step") or 1), 1), len(node.steps))
        if state.get("paused"):
            state["paused"] = self.checked(state["paused"])
        return state

    # --- user moves ------------------------------------------------------

    def start(self, state: State | None, flow_id: str) -> Turn:
        if flow_id not in self.flows:
            return Turn(state, [Say("utter_guide_unavailable")])
        if state and state.get("awaiting") in ACTIVE and state.get("flow") == flow_id:
            return self.resume(state)  # the same question again: stay where the user is (「最初から」 restarts)
        paused = None
        if state and state.get("awaiting") in ACTIVE and state.get("flow") != flow_id:
            paused = copy.deepcopy(state)
            paused["paused"] = None
            paused.pop("offered", None)
        elif state and state.get("paused"):
            paused = state["paused"]
        new = self._new_state(flow_id, paused=paused)
        return self._enter(new, self.flows[flow_id].start, [])

    def next(self, state: State | None) -> Turn:
        if not state or not state.get("awaiting"):
            return Turn(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        node = self._node(state)
        if state["awaiting"] == AWAIT_STEP and node:
            if state["step"] < len(node.steps):
                state["step"] += 1
                return Turn(state, [self._step_says(node, state["step"])])
            return self._finish_procedure(state, node)
        if state["awaiting"] == AWAIT_CHOICE:
            return Turn(state, [Say("utter_guide_choose_first")] + self._current_says(state))
        return Turn(state, self._current_says(state))

    def back(self, state: State | None) -> Turn:
        if not state or state.get("awaiting") not in ACTIVE + (AWAIT_RESOLVED,):
            return Turn(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        if state["awaiting"] == AWAIT_STEP and state["step"] > 1:
            state["step"] -= 1
            return Turn(state, [self._step_says(self._node(state), state["step"])])
        if not state["history"]:
            return Turn(state, [Say("utter_guide_already_first")] + self._current_says(state))
        flow_id, node_id, step = state["history"].pop()
        state.update(flow=flow_id, node=node_id)
        node = self._node(state)
        if node.type == "procedure":
            state.update(step=max(step, 1) if step else len(node.steps), awaiting=AWAIT_STEP)
        else:
            state.update(step=0, awaiting=AWAIT_CHOICE)
        return Turn(state, self._current_says(state))

    def show_all(self, state: State | None) -> Turn:
        node = self._node(state) if state else None
        if not state or state.get("awaiting") != AWAIT_STEP or not node:
            return Turn(state, (self._current_says(state) if state else [Say("utter_guide_nothing_active")]))
        state = copy.deepcopy(state)
        state.pop("offered", None)
        steps = "\n".join(f"{circled(i)} {text}" for i, text in enumerate(node.steps, 1))
        state["step"] = len(node.steps)  # "できました" after the overview finishes the procedure
        return Turn(state, [Say("utter_guide_all_steps", {"total": len(node.steps), "steps": steps})])

    def restart(self, state: State | None) -> Turn:
        if not state or not state.get("flow"):
            return Turn(state, [Say("utter_guide_nothing_active")])
        return self._enter(self._new_state(state["flow"], paused=state.get("paused")), self.flows[state["flow"]].start, [])

    def stop(self, state: State | None) -> Turn:
        outcome = (
            {"flow": state.get("flow"), "result": "stopped", "node": state.get("node"), "step": state.get("step")}
            if state and state.get("awaiting")
            else None
        )
        return Turn(None, [Say("utter_guide_stopped")], outcome=outcome)

    def failed(self, state: State | None) -> Turn:
        if not state or state.get("awaiting") not in ACTIVE:
            return Turn(None, [Say("utter_support_contact")])
        node = self._node(state)
        extra = None
        if state["awaiting"] == AWAIT_STEP and node:
            extra = self.progress_format.format(summary=node.summary or self._title(state), step=state["step"], total=len(node.steps))
        return self._handoff(state, "failed", extra)

    def resume(self, state: State | None) -> Turn:
        if not state or not state.get("awaiting"):
            return Turn(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        return Turn(state, self._current_says(state))

    def offer_resume(self, state: State | None) -> Turn:
        """After an answer outside the flow: offer to continue where the user was."""
        if not state or state.get("awaiting") not in ACTIVE:
            return Turn(state, [])
        state = copy.deepcopy(state)
        state["offered"] = True
        return Turn(state, [self._resume_offer(state)])

    def choose(self, state: State | None, option: str) -> Turn:
        node = self._node(state) if state else None
        node_id, _, index = (option or "").partition(":")
        if (
            not state
            or state.get("awaiting") != AWAIT_CHOICE
            or not node
            or node.id != node_id
            or not index.isdigit()
            or int(index) >= len(node.options)
        ):
            # A button from an older message: show where the user really is.
            return Turn(state, self._current_says(state) if state else [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        self._remember(state, node.options[int(index)].label and f"{node.text[0]} → {node.options[int(index)].label}")
        return self._enter(state, node.options[int(index)].next, [])

    def answer(self, state: State | None, intent: str, entities: dict[str, str]) -> Turn:
        """A typed answer (affirm/deny, or an entity) to whatever the bot asked last."""
        awaiting = state.get("awaiting") if state else None
        if state and state.get("offered") and intent in ("affirm", "deny"):
            return self.resume(state) if intent == "affirm" else self.stop(state)
        if awaiting == AWAIT_CHOICE:
            node = self._node(state)
            for i, opt in enumerate(node.options):
                wanted = opt.match.get("intent")
                if (wanted and wanted == intent) or any(entities.get(k) == v for k, v in opt.match.items() if k != "intent"):
                    return self.choose(state, f"{node.id}:{i}")
            return Turn(state, [Say("utter_guide_choose_first")] + self._current_says(state))
        if awaiting == AWAIT_RESOLVED and intent in ("affirm", "deny"):
            if intent == "affirm":
                turn = Turn(None, [Say("utter_glad_resolved")], outcome={"flow": state["flow"], "result": "resolved"})
                return self._after_end(state, turn)
            return self._handoff(state, "unresolved")
        if awaiting == AWAIT_STEP and intent in ("affirm", "skip_field"):
            return self.next(state)  # 「はい」 at a step reads as 「できました」, 「飛ばして」 as 次へ
        if awaiting == AWAIT_STEP and intent == "deny":
            return self.failed(state)
        return Turn(state, [Say("utter_nothing_to_answer")])

    def position(self, state: State | None) -> tuple[str | None, str | None, int]:
        if not state:
            return None, None, 0
        return state.get("flow"), state.get("node"), state.get("step", 0)
