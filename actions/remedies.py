"""「わからない」 at a choice: the FAQ's remedies the question's options lead to, so the
bot can go on without the answer. Also what the engine shares with it: the FAQ's
①② numbering of steps and the limit on message/goto chains.
"""

from __future__ import annotations

from collections.abc import Iterable

from actions.content import END, Flow, Node, Option

MAX_HOPS = 50  # message/goto chains longer than this are an editor's loop


def circled(n: int) -> str:
    """①..⑳ as in the FAQ; plain digits after 20."""
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"


def numbered_steps(steps: Iterable[str]) -> str:
    """A procedure's steps, one a line, as the FAQ numbers them."""
    return "\n".join(f"{circled(i)} {text}" for i, text in enumerate(steps, 1))


def _target(flows: dict[str, Flow], flow_id: str, option: Option) -> tuple[str, str]:
    if option.goto:
        return option.goto, option.at or flows[option.goto].start
    return flow_id, option.next


def remedies(flows: dict[str, Flow], flow_id: str, node: Node) -> list[str]:
    """The FAQ texts a choice's options lead to, as the FAQ lists them: each option's
    own text first, then what comes after (deeper questions' remedies), once each."""
    texts: list[str] = []
    seen = {(flow_id, node.id)}
    queue = [_target(flows, flow_id, o) for o in node.options]
    while queue:
        flow, node_id = queue.pop(0)
        for _ in range(MAX_HOPS):
            if node_id == END or (flow, node_id) in seen:
                break
            seen.add((flow, node_id))
            current = flows[flow].nodes[node_id]
            if current.type == "goto":
                assert current.flow is not None, "a goto node names its flow (checked when content loads)"
                flow, node_id = current.flow, flows[current.flow].start
                continue
            if current.type == "choice":
                queue += [_target(flows, flow, o) for o in current.options]
                break
            if current.type == "procedure":
                texts.append("\n\n".join([*current.intro, numbered_steps(current.steps)]))
            elif current.text:
                texts.append("\n\n".join(current.text))
            if current.type == "form" or not current.next:
                break
            node_id = current.next
    return list(dict.fromkeys(texts))
