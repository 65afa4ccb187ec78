"""The walkthrough engine: one state machine for every flow in content/flows.yml.

Pure functions from (state, user move) to (new state, what to say). No Rasa here,
so every transition is testable with plain data; actions/actions.py connects it
to the tracker. What to say is a list of `Say` items naming domain responses, so
all Japanese text stays in YAML. The state itself: actions/guide_state.py; the
remedies 「わからない」 leads to: actions/remedies.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from actions.answers import choice_payload, fold
from actions.content import END, Flow, Node
from actions.guide_state import ACTIVE, AWAIT_CHOICE, AWAIT_RESOLVED, AWAIT_STEP, AWAIT_TOPIC, GuideState, is_question, new_state
from actions.remedies import MAX_HOPS, numbered_steps, remedies

# Answers not understood at one question: after the second the bot says it can go
# on without the answer; the third goes on (every remedy, or the support contact).
MISSES_BEFORE_WAY_OUT = 2
MISSES_BEFORE_GOING_ON = 3


@dataclass
class Say:
    """One bot message: a domain response, or literal YAML text with buttons."""

    response: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Reply:
    """The engine's answer to one user move: the new state and what to say."""

    state: GuideState | None
    says: list[Say] = field(default_factory=list)
    form: str | None = None  # a support form to start after the messages
    outcome: dict[str, Any] | None = None  # 解決しましたか？ answer, for analytics


class Engine:
    """Transitions over one set of flows. `tried_format` renders a handoff line."""

    def __init__(
        self,
        flows: dict[str, Flow],
        tried_format: str = "・{summary}",
        progress_format: str = "{summary} ({step}/{total})",
        way_out_buttons: list[dict[str, str]] | None = None,
        unsure_format: str = "{question} → ?",
    ) -> None:
        self.flows = flows
        self.tried_format = tried_format
        self.progress_format = progress_format
        self.way_out_buttons = way_out_buttons or []  # 「わからない」 / the support contact, offered after repeated misses
        self.unsure_format = unsure_format

    # --- helpers ---------------------------------------------------------

    def _node(self, state: GuideState) -> Node | None:
        flow = self.flows.get(state.get("flow", ""))
        node_id = state.get("node", "")
        return flow.nodes.get(node_id) if flow and node_id is not None else None

    def _title(self, state: GuideState) -> str:
        flow = self.flows.get(state.get("flow", ""))
        return flow.title if flow else ""

    def topics_say(self) -> Say:
        """Every FAQ topic as a button, in content order (the triage left out)."""
        buttons = [{"title": flow.title, "payload": f"/{flow_id}"} for flow_id, flow in self.flows.items() if not flow.triage]
        return Say("utter_topics", buttons=buttons)

    def _remember(self, state: GuideState, summary: str | None) -> None:
        if summary and summary not in state["trail"]:
            state["trail"].append(summary)

    def _step_says(self, node: Node, step: int) -> Say:
        total = len(node.steps)
        response = "utter_guide_step_first" if step == 1 else "utter_guide_step"
        return Say(response, {"step": step, "total": total, "step_text": node.steps[step - 1]})

    def _choice_says(self, node: Node, way_out: bool = False) -> Say:
        buttons = [{"title": o.label, "payload": choice_payload(node.id, i)} for i, o in enumerate(node.options)]
        if way_out or node.unsure == "topics":  # the triage always offers 「わからない」
            buttons += self.way_out_buttons
        return Say(text=node.ask, buttons=buttons)

    def _current_says(self, state: GuideState) -> list[Say]:
        """Re-show where the user is."""
        node = self._node(state)
        if state.get("awaiting") == AWAIT_STEP and node:
            return [self._step_says(node, state["step"])]
        if state.get("awaiting") == AWAIT_CHOICE and node:
            return [self._choice_says(node)]
        if state.get("awaiting") == AWAIT_RESOLVED:
            return [Say("utter_ask_resolved")]
        return [Say("utter_guide_nothing_active")]

    def _enter(self, state: GuideState, node_id: str, says: list[Say]) -> Reply:
        """Walk from node_id through message/goto nodes until the user must answer."""
        for _ in range(MAX_HOPS):
            flow = self.flows[state["flow"]]
            if node_id == END:
                state["node"], state["step"], state["awaiting"] = END, 0, AWAIT_RESOLVED
                says.append(Say("utter_ask_resolved"))
                return Reply(state, says)
            node = flow.nodes[node_id]
            left = self._node(state)
            if left and left.type in ("procedure", "choice"):  # only places the user waited at
                state["history"].append([state["flow"], left.id, state["step"]])
            state["node"], state["step"], state["awaiting"] = node.id, 0, None
            if node.type == "message":
                says.append(Say("utter_guide_message", {"text": "\n\n".join(node.text)}))
                self._remember(state, node.summary)
                node_id = node.next or END
            elif node.type == "goto":
                assert node.flow is not None, "a goto node names its flow (checked when content loads)"
                state["flow"], state["node"] = node.flow, None
                node_id = self.flows[node.flow].start
            elif node.type == "procedure":
                if node.intro:
                    says.append(Say("utter_guide_message", {"text": "\n\n".join(node.intro)}))
                state["step"], state["awaiting"] = 1, AWAIT_STEP
                says.append(self._step_says(node, 1))
                return Reply(state, says)
            elif node.type == "choice":
                state["awaiting"] = AWAIT_CHOICE
                says.append(self._choice_says(node))
                return Reply(state, says)
            elif node.type == "form":
                if node.text:
                    says.append(Say("utter_guide_message", {"text": "\n\n".join(node.text)}))
                self._remember(state, node.summary)
                return Reply(None, says, form=node.form, outcome={"flow": state["flow"], "result": "form", "form": node.form})
        raise RuntimeError(f"flow {state['flow']} loops at node {node_id}")

    def _finish_procedure(self, state: GuideState, node: Node) -> Reply:
        says: list[Say] = []
        if node.notes:
            says.append(Say("utter_guide_notes", {"notes": "\n\n".join(node.notes)}))
        if node.references:
            says.append(Say("utter_guide_references", {"references": "\n".join(node.references)}))
        self._remember(state, node.summary)
        return self._enter(state, node.next or END, says)

    def _handoff(self, state: GuideState, result: str, extra: str | None = None) -> Reply:
        lines = [self.tried_format.format(summary=s) for s in state.get("trail", [])]
        if extra:
            lines.append(self.tried_format.format(summary=extra))
        tried = "\n".join(lines) if lines else self.tried_format.format(summary=self._title(state))
        outcome = {"flow": state.get("flow"), "result": result, "node": state.get("node"), "step": state.get("step")}
        reply = Reply(None, [Say("utter_handoff", {"tried": tried})], outcome=outcome)
        return self._after_end(state, reply)

    def _after_end(self, state: GuideState, reply: Reply) -> Reply:
        """A flow ended: if another was interrupted by it, offer to go back to it;
        if the user's first message named a second problem, offer that one."""
        paused, also = state.get("paused"), state.get("also")
        if paused:
            paused = copy.deepcopy(paused)
            paused["offered"] = True
            paused["also"] = paused.get("also") or also
            reply.says.append(self._resume_offer(paused))
            reply.state = paused
        elif also is not None and also in self.flows:
            other = new_state(also)
            other["awaiting"] = AWAIT_TOPIC
            reply.says.append(Say("utter_offer_other_topic", {"title": self.flows[other["flow"]].title}))
            reply.state = other
        return reply

    def _resume_offer(self, state: GuideState) -> Say:
        node = self._node(state)
        if state.get("awaiting") == AWAIT_STEP and node:
            return Say("utter_offer_resume_step", {"title": self._title(state), "step": state["step"], "total": len(node.steps)})
        return Say("utter_offer_resume", {"title": self._title(state)})

    def checked(self, state: GuideState | None) -> GuideState | None:
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

    def start(self, state: GuideState | None, flow_id: str, text: str = "", also: str | None = None) -> Reply:
        """Start a flow. `text` (the user's words) picks a triage flow's entry; `also`
        is a second topic in the same message, offered when this flow has ended."""
        if flow_id not in self.flows:
            return Reply(state, [Say("utter_guide_unavailable")])
        if state and state.get("awaiting") in ACTIVE and state.get("flow") == flow_id:
            return self.resume(state)  # the same question again: stay where the user is (「最初から」 restarts)
        paused = None
        current = self.flows.get(state.get("flow", "")) if state else None
        if state and state.get("awaiting") in ACTIVE and state.get("flow") != flow_id and current and not current.triage:
            paused = copy.deepcopy(state)
            paused["paused"] = None
            paused.pop("offered", None)
            paused.pop("misses", None)
        elif state and state.get("paused"):
            paused = state["paused"]
        flow = self.flows[flow_id]
        also = also if also in self.flows and also != flow_id else None
        says = [Say("utter_two_topics", {"first": flow.title, "second": self.flows[also].title})] if also else []
        if state and state.get("awaiting") == AWAIT_TOPIC and not also and state["flow"] != flow_id:
            also = state["flow"]  # the offered second problem is still offered after this one (already announced)
        new = new_state(flow_id, paused=paused, also=also)
        return self._enter(new, self._entry(flow, text), says)

    @staticmethod
    def _entry(flow: Flow, text: str) -> str:
        folded = fold(text)
        for route in flow.routes:
            if any(fold(word) in folded for word in route.words):
                return route.start
        return flow.start

    def next(self, state: GuideState | None) -> Reply:
        if not state or not state.get("awaiting"):
            return Reply(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        node = self._node(state)
        if state["awaiting"] == AWAIT_STEP and node:
            if state["step"] < len(node.steps):
                state["step"] += 1
                return Reply(state, [self._step_says(node, state["step"])])
            return self._finish_procedure(state, node)
        if state["awaiting"] == AWAIT_CHOICE:
            return self.not_understood(state)
        return Reply(state, self._current_says(state))

    def back(self, state: GuideState | None) -> Reply:
        if not state or state.get("awaiting") not in ACTIVE + (AWAIT_RESOLVED,):
            return Reply(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        if state["awaiting"] == AWAIT_STEP and state["step"] > 1:
            node = self._node(state)
            assert node is not None, "checked() ends a flow whose current node is gone"
            state["step"] -= 1
            return Reply(state, [self._step_says(node, state["step"])])
        flow = self.flows.get(state["history"][-1][0]) if state["history"] else None
        if flow is None or state["history"][-1][1] not in flow.nodes:
            # Nothing before, or the content changed since that step was shown: stay here.
            state["history"] = []
            return Reply(state, [Say("utter_guide_already_first")] + self._current_says(state))
        flow_id, node_id, step = state["history"].pop()
        state["flow"], state["node"] = flow_id, node_id
        node = flow.nodes[node_id]
        if node.type == "procedure":
            state["step"], state["awaiting"] = (max(step, 1) if step else len(node.steps)), AWAIT_STEP
        else:
            state["step"], state["awaiting"] = 0, AWAIT_CHOICE
        return Reply(state, self._current_says(state))

    def show_all(self, state: GuideState | None) -> Reply:
        node = self._node(state) if state else None
        if not state or state.get("awaiting") != AWAIT_STEP or not node:
            return Reply(state, (self._current_says(state) if state else [Say("utter_guide_nothing_active")]))
        state = copy.deepcopy(state)
        state.pop("offered", None)
        steps = numbered_steps(node.steps)
        state["step"] = len(node.steps)  # "できました" after the overview finishes the procedure
        return Reply(state, [Say("utter_guide_all_steps", {"total": len(node.steps), "steps": steps})])

    def restart(self, state: GuideState | None) -> Reply:
        if not state or not state.get("flow"):
            return Reply(state, [Say("utter_guide_nothing_active")])
        return self._enter(new_state(state["flow"], paused=state.get("paused")), self.flows[state["flow"]].start, [])

    def stop(self, state: GuideState | None) -> Reply:
        outcome = (
            {"flow": state.get("flow"), "result": "stopped", "node": state.get("node"), "step": state.get("step")}
            if state and state.get("awaiting")
            else None
        )
        return Reply(None, [Say("utter_guide_stopped")], outcome=outcome)

    def failed(self, state: GuideState | None) -> Reply:
        if not state or state.get("awaiting") not in ACTIVE:
            return Reply(None, [Say("utter_support_contact")])
        node = self._node(state)
        extra = None
        if state["awaiting"] == AWAIT_STEP and node:
            extra = self.progress_format.format(summary=node.summary or self._title(state), step=state["step"], total=len(node.steps))
        return self._handoff(state, "failed", extra)

    def resume(self, state: GuideState | None) -> Reply:
        if not state or not state.get("awaiting"):
            return Reply(state, [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("offered", None)
        return Reply(state, self._current_says(state))

    def offer_resume(self, state: GuideState | None) -> Reply:
        """After an answer outside the flow: offer to continue where the user was."""
        if not state or state.get("awaiting") not in ACTIVE:
            return Reply(state, [])
        state = copy.deepcopy(state)
        state["offered"] = True
        return Reply(state, [self._resume_offer(state)])

    def choose(self, state: GuideState | None, option: str) -> Reply:
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
            return Reply(state, self._current_says(state) if state else [Say("utter_guide_nothing_active")])
        state = copy.deepcopy(state)
        state.pop("misses", None)
        chosen = node.options[int(index)]
        self._remember(state, f"{node.ask} → {chosen.label}")
        if chosen.goto:
            return self._switch(state, chosen.goto, chosen.at)
        return self._enter(state, chosen.next, [])

    def _switch(self, state: GuideState, flow_id: str, at: str | None) -> Reply:
        """An option that leads to another flow (the triage's answers): that flow starts,
        keeping what was said and anything paused."""
        new = new_state(flow_id, trail=state["trail"], paused=state.get("paused"), also=state.get("also"))
        new["history"] = state["history"] + [[state["flow"], state["node"], 0]]
        return self._enter(new, at or self.flows[flow_id].start, [])

    def answer(self, state: GuideState | None, intent: str, entities: dict[str, str]) -> Reply:
        """A typed answer (affirm/deny, or an entity) to whatever the bot asked last."""
        if not state:
            return Reply(state, [Say("utter_nothing_to_answer")])  # no flow: nothing was asked
        awaiting = state.get("awaiting")
        if state.get("offered") and intent in ("affirm", "deny"):
            return self.resume(state) if intent == "affirm" else self.stop(state)
        if awaiting == AWAIT_TOPIC and intent in ("affirm", "deny"):
            if intent == "affirm":
                return self.start(None, state["flow"])
            return Reply(None, [Say("utter_other_topic_declined")])
        if awaiting == AWAIT_CHOICE:
            node = self._node(state)
            assert node is not None, "checked() ends a flow whose current node is gone"
            for i, opt in enumerate(node.options):
                wanted = opt.match.get("intent")
                if (wanted and wanted == intent) or any(entities.get(k) == v for k, v in opt.match.items() if k != "intent"):
                    return self.choose(state, f"{node.id}:{i}")
            return self.not_understood(state)
        if awaiting == AWAIT_RESOLVED and intent in ("affirm", "deny"):
            if intent == "affirm":
                reply = Reply(None, [Say("utter_glad_resolved")], outcome={"flow": state["flow"], "result": "resolved"})
                return self._after_end(state, reply)
            return self._handoff(state, "unresolved")
        if awaiting == AWAIT_STEP and intent in ("affirm", "skip_field"):
            return self.next(state)  # 「はい」 at a step reads as 「できました」, 「飛ばして」 as 次へ
        if awaiting == AWAIT_STEP and intent == "deny":
            return self.failed(state)
        if is_question(state):
            return self.not_understood(state)
        return Reply(state, [Say("utter_nothing_to_answer")])

    def not_understood(self, state: GuideState) -> Reply:
        """An answer that fits no option: ask again differently each time, never loop."""
        state = copy.deepcopy(state)
        misses = state["misses"] = int(state.get("misses") or 0) + 1
        if misses >= MISSES_BEFORE_GOING_ON:
            return self.unsure(state)
        node = self._node(state)
        if misses >= MISSES_BEFORE_WAY_OUT:
            if state.get("awaiting") == AWAIT_CHOICE and node:
                return Reply(state, [Say("utter_answer_not_understood_again"), self._choice_says(node, way_out=True)])
            return Reply(state, [Say("utter_answer_not_understood_again")] + self._question_says(state))
        return Reply(state, [Say("utter_answer_not_understood")] + self._question_says(state))

    def _question_says(self, state: GuideState) -> list[Say]:
        if state.get("offered"):
            return [self._resume_offer(state)]
        if state.get("awaiting") == AWAIT_TOPIC:
            return [Say("utter_offer_other_topic", {"title": self._title(state)})]
        return self._current_says(state)

    def unsure(self, state: GuideState | None) -> Reply:
        """「わからない」: go on without the answer, from the FAQ's own text only."""
        if not state or not is_question(state):
            return Reply(state, [self.topics_say(), Say("utter_support_contact")])
        state = copy.deepcopy(state)
        state.pop("misses", None)
        node = self._node(state)
        if state.get("offered") or state.get("awaiting") == AWAIT_TOPIC:
            return self.stop(state)
        if state.get("awaiting") == AWAIT_RESOLVED or not node:
            return self._handoff(state, "unresolved")
        self._remember(state, self.unsure_format.format(question=node.ask))
        if node.unsure == "topics":  # the triage: the user cannot name the message
            return Reply(None, [self.topics_say(), Say("utter_support_contact")], outcome={"flow": state["flow"], "result": "unsure"})
        says = [Say("utter_unsure_remedies")]
        for text in remedies(self.flows, state["flow"], node):
            says.append(Say("utter_guide_message", {"text": text}))
        says.append(Say("utter_support_contact"))
        state["awaiting"] = AWAIT_RESOLVED
        says.append(Say("utter_ask_resolved"))
        return Reply(state, says)
