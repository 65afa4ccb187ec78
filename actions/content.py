"""Loads the guided flows that content editors write in content/flows.yml.

The file is checked when it is loaded: a mistake is reported with the file, the
line and what to do, in Japanese, because the people who read it are editors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.fields import FORM_SLOTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLOWS_FILE = PROJECT_ROOT / "content" / "flows.yml"
# Tests and the editors' guide point this at a temporary copy.
FLOWS_FILE_ENV = "EGOV_FLOWS_FILE"

END = "end"
NODE_TYPES = ("message", "procedure", "choice", "goto", "form")
UNSURE_MODES = ("remedies", "topics")
FORMS = tuple(FORM_SLOTS)  # the support-request forms a `form` node can hand over to


@dataclass(frozen=True)
class Problem:
    """One editor mistake: where it is and what to do (in Japanese)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(ValueError):
    """One or more editor mistakes, each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    label: str
    next: str  # a node of this flow (or end); with `goto`, unused
    match: dict[str, str] = field(default_factory=dict)
    examples: tuple[str, ...] = ()  # typed answers that mean this option (actions/answers.py)
    goto: str | None = None  # another flow this option starts
    at: str | None = None  # the node of that flow to start at (its start when None)


@dataclass(frozen=True)
class Route:
    """A flow's entry chosen by the user's words (the triage narrows by what was said)."""

    words: tuple[str, ...]
    start: str


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    line: int
    text: tuple[str, ...] = ()
    intro: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    next: str | None = None
    flow: str | None = None
    form: str | None = None
    summary: str | None = None
    ask: str = ""  # a choice's question: the editors' words, not the FAQ's
    unsure: str = "remedies"  # 「わからない」 at a choice: every option's remedy, or the topic list


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    question: str
    start: str
    nodes: dict[str, Node]
    line: int
    summary: str | None = None
    routes: tuple[Route, ...] = ()
    triage: bool = False  # finds the topic from a vague message; never paused, not in the topic list


# --- YAML with line numbers -------------------------------------------------


class _LineDict(dict):
    line: int = 0
    key_lines: dict[Any, int]  # line of each key: for values that are not mappings


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings (nested ones too) remember the line of their key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        mapping = super().construct_mapping(node, deep=deep)
        for key_node, _ in node.value:
            value = mapping.get(self.construct_object(key_node))
            if isinstance(value, _LineDict):
                value.line = key_node.start_mark.line + 1  # 「ask_registered:」, not its first field
        return mapping


def _construct_line_dict(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {loader.construct_object(k): k.start_mark.line + 1 for k, _ in node.value}
    yield data
    data.update(loader.construct_mapping(node))


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_line_dict)


def _line(value: Any) -> int:
    return getattr(value, "line", 0)


def _key_line(parent: Any, key: Any) -> int:
    """Line of `key:` in a mapping: for a value that is not a mapping (it has no line of its own)."""
    return getattr(parent, "key_lines", {}).get(key, 0)


# --- parsing and checking -----------------------------------------------------


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path.name, line, message))

    def texts(self, raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(_line(raw), f"{where} の {key} は文章の一覧（- で始まる行）で書いてください。")
            return ()
        for i, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                self.error(_line(raw), f"{where} の {key} の {i} 番目が空です。文章を入れるか、その行を削除してください。")
        return tuple(str(v) for v in value if isinstance(v, str) and v.strip())

    def node(self, flow_id: str, node_id: str, raw: Any, key_line: int) -> Node | None:
        where = f"フロー「{flow_id}」のノード「{node_id}」"
        if not isinstance(raw, dict):
            self.error(key_line, f"{where} の書き方が正しくありません（type: などの項目が必要です）。")
            return None
        kind = raw.get("type")
        if kind not in NODE_TYPES:
            self.error(_line(raw), f"{where} の type「{kind}」は使えません。{', '.join(NODE_TYPES)} のどれかにしてください。")
            return None
        options: list[Option] = []
        for i, opt in enumerate(raw.get("options") or [], 1):
            if not isinstance(opt, dict) or not opt.get("label") or not (opt.get("next") or opt.get("goto")):
                self.error(_line(opt) or _line(raw), f"{where} の選択肢 {i} には label と、next か goto が必要です。")
                continue
            examples = self.texts(opt, "examples", f"{where} の選択肢 {i}")
            goto = str(opt["goto"]) if opt.get("goto") else None
            at = str(opt["at"]) if opt.get("at") else None
            options.append(Option(str(opt["label"]), str(opt.get("next") or END), dict(opt.get("match") or {}), examples, goto, at))
        unsure = str(raw.get("unsure") or "remedies")
        if unsure not in UNSURE_MODES:
            self.error(_line(raw), f"{where} の unsure「{unsure}」は使えません。{', '.join(UNSURE_MODES)} のどちらかにしてください。")
        node = Node(
            id=node_id,
            type=kind,
            line=_line(raw),
            text=self.texts(raw, "text", where),
            intro=self.texts(raw, "intro", where),
            steps=self.texts(raw, "steps", where),
            notes=self.texts(raw, "notes", where),
            references=self.texts(raw, "references", where),
            options=tuple(options),
            next=raw.get("next"),
            flow=raw.get("flow"),
            form=raw.get("form"),
            summary=raw.get("summary"),
            ask=str(raw.get("ask") or "").strip(),
            unsure=unsure,
        )
        if kind == "procedure" and not node.steps:
            self.error(node.line, f"{where} は procedure ですが steps がありません。手順を 1 つ以上書いてください。")
        if kind == "message" and not node.text:
            self.error(node.line, f"{where} は message ですが text がありません。")
        if kind == "choice" and len(node.options) < 2:
            self.error(node.line, f"{where} は choice ですが選択肢（options）が 2 つ未満です。")
        if kind == "choice" and node.text:
            self.error(
                node.line,
                f"{where} は choice です。質問文は text: ではなく ask: に書いてください（text: は FAQ から写した文章の項目です）。",
            )
        elif kind == "choice" and not node.ask:
            self.error(node.line, f"{where} は choice ですが質問文（ask）がありません。")
        if kind in ("message", "procedure") and not node.next:
            self.error(node.line, f"{where} に next がありません。次のノード名か end を書いてください。")
        if kind == "goto" and not node.flow:
            self.error(node.line, f"{where} は goto ですが flow（移動先のフロー名）がありません。")
        if kind == "form" and node.form not in FORMS:
            self.error(node.line, f"{where} の form「{node.form}」はありません。{', '.join(FORMS)} のどれかにしてください。")
        return node

    def flow(self, flow_id: str, raw: Any, key_line: int) -> Flow | None:
        where = f"フロー「{flow_id}」"
        if not isinstance(raw, dict):
            self.error(key_line, f"{where} の書き方が正しくありません。")
            return None
        for key in ("title", "question", "start", "nodes"):
            if key == "question" and raw.get("triage"):
                continue  # a triage flow answers no FAQ question of its own
            if not raw.get(key):
                self.error(_line(raw), f"{where} に {key} がありません。")
        nodes_raw = raw.get("nodes") or {}
        nodes = {}
        for node_id, node_raw in nodes_raw.items():
            node = self.node(flow_id, str(node_id), node_raw, _key_line(nodes_raw, node_id))
            if node:
                nodes[node.id] = node
        routes = []
        for i, route in enumerate(raw.get("routes") or [], 1):
            words = self.texts(route, "words", f"{where} の routes {i}") if isinstance(route, dict) else ()
            if not words or not route.get("start"):
                self.error(_line(route) or _line(raw), f"{where} の routes {i} には words（言葉の一覧）と start（ノード名）が必要です。")
                continue
            routes.append(Route(words, str(route["start"])))
        return Flow(
            id=flow_id,
            title=str(raw.get("title") or flow_id),
            question=str(raw.get("question") or ""),
            start=str(raw.get("start") or ""),
            nodes=nodes,
            line=_line(raw),
            summary=raw.get("summary"),
            routes=tuple(routes),
            triage=bool(raw.get("triage")),
        )

    def links(self, flows: dict[str, Flow]) -> None:
        for flow in flows.values():
            for start in [flow.start] + [r.start for r in flow.routes]:
                if start and start not in flow.nodes:
                    self.error(flow.line, f"フロー「{flow.id}」の start「{start}」というノードがありません。")
            for node in flow.nodes.values():
                where = f"フロー「{flow.id}」のノード「{node.id}」"
                targets = [node.next] if node.type in ("message", "procedure") else []
                targets += [o.next for o in node.options if not o.goto]
                for target in targets:
                    if target and target != END and target not in flow.nodes:
                        self.error(node.line, f"{where} の移動先「{target}」というノードがありません。ノード名の綴りを確認してください。")
                if node.type == "goto" and node.flow and node.flow not in flows:
                    self.error(node.line, f"{where} の移動先フロー「{node.flow}」がありません。")
                for option in node.options:
                    if option.goto and option.goto not in flows:
                        self.error(node.line, f"{where} の選択肢「{option.label}」の goto「{option.goto}」というフローがありません。")
                    elif option.goto and option.at and option.at not in flows[option.goto].nodes:
                        self.error(
                            node.line,
                            f"{where} の選択肢「{option.label}」の at「{option.at}」というノードがフロー「{option.goto}」にありません。",
                        )
            for node_id in sorted(set(flow.nodes) - reachable(flow)):
                self.error(
                    flow.nodes[node_id].line,
                    f"フロー「{flow.id}」のノード「{node_id}」にはどこからも移動できません。next で繋ぐか削除してください。",
                )


def reachable(flow: Flow) -> set:
    """Node ids reachable from the flow's start."""
    seen, todo = set(), [flow.start] + [r.start for r in flow.routes]
    while todo:
        node = flow.nodes.get(todo.pop())
        if not node or node.id in seen:
            continue
        seen.add(node.id)
        todo += [o.next for o in node.options if not o.goto] + ([node.next] if node.next else [])
    return seen


def parse_flows(path: Path) -> dict[str, Flow]:
    """Parses and checks a flows file; raises ContentError listing every problem."""
    checker = _Checker(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ContentError(
            [Problem(path.name, line, f"YAML の書き方に誤りがあります（インデントや「:」「-」を確認してください）。詳細: {exc}")]
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("flows"), dict):
        raise ContentError([Problem(path.name, 1, "先頭に flows: が必要です。")])
    flows = {}
    for flow_id, flow_raw in raw["flows"].items():
        flow = checker.flow(str(flow_id), flow_raw, _key_line(raw["flows"], flow_id))
        if flow:
            flows[flow.id] = flow
    checker.links(flows)
    if checker.problems:
        raise ContentError(checker.problems)
    return flows


def flows_path() -> Path:
    return Path(os.environ.get(FLOWS_FILE_ENV) or FLOWS_FILE)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Flow]:
    return parse_flows(Path(path))


def load_flows() -> dict[str, Flow]:
    """The current flows; re-read when the file changes, so editors see edits without a restart."""
    path = flows_path()
    return _load(str(path), path.stat().st_mtime)
