"""Content check for editors: `make check`. Runs in seconds, without training.

Every problem names the file and line and says what to do, in Japanese, because
the people who read it edit YAML, not Python. Exit code 1 when anything is wrong.

    python -m contentcheck                 # the project
    python -m contentcheck --root DIR      # a copy (tests, trying an edit safely)

The checks, in order (docs/editors_guide.md lists them with an example message each):
  1. YAML syntax, and the same key written twice in one place
  2. schema: Rasa's own schema for domain/data/test files; the keys content/flows.yml knows
  3. flows: every node, branch and flow referenced exists and is reachable; each flow
     has its intent and a rule that starts it; each intent a rule hands to the guide has a flow
  4. references: every intent, action and form that rules and stories name exists
  5. responses: every response is used; every response the code sends exists; the
     {variables} the code fills in are kept; button payloads name real intents
  6. examples: no duplicate or conflicting examples, enough per intent, held-out
     test examples for every FAQ topic and none copied from training
  7. test stories: one for every intent
  8. `rasa data validate` (only when 1-7 pass), each warning translated with file and line
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions import responses as declared
from actions.content import ContentError, Flow, Node, Option, parse_flows

ROOT = Path(__file__).resolve().parent.parent
DECLARATIONS = "actions/responses.py"  # where the responses the code uses are declared
ROOT_ENV = "EGOV_CONTENT_ROOT"  # checks a copy of the project instead (tests, the editors' guide)
MIN_EXAMPLES_FAQ = 25
MIN_EXAMPLES_OTHER = 10
MIN_HELD_OUT_FAQ = 5  # held-out sentences per FAQ topic in tests/test_nlu.yml
BUTTON_ONLY_INTENTS = {"guide_choose", "message_too_long"}  # sent by buttons or the channel, never typed
BUILTIN_RESPONSES = {"utter_default", "utter_ask_rephrase"}  # sent by Rasa's fallback actions
# Answers to the bot's last question: ActionGuide hands any intent that is not a flow or a move to Engine.answer.
ANSWER_INTENTS = {"affirm", "deny", "inform", "guide_choose"}
BUILTIN_INTENTS = {"nlu_fallback", "restart", "session_start", "back", "out_of_scope"}
RESPONSE_NAME = re.compile(r"[\"'](utter_\w+)[\"']")
VARIABLE = re.compile(r"\{(\w+)\}")
# Responses the engine uses as str.format templates (actions/actions.py make_engine → actions/guide.py).
NOT_VALUES = {None, "response", "template", "text", "buttons", "image", "json_message", "attachment", "elements", "channel"}
FORMAT_RESPONSES = {
    "utter_guide_tried_line": {"summary"},
    "utter_guide_progress": {"summary", "step", "total"},
    "utter_guide_unsure_line": {"question"},
}
# The files an editor changes, and the code the checks read and training needs: what copy_project() copies.
PROJECT_FILES = (
    "domain.yml",
    "config.yml",
    "content",
    "data",
    "tests/test_stories.yml",
    "tests/test_nlu.yml",
    "tests/nlu_tuning.yml",
    "actions",
    "serving",
    "components",
)

# Keys content/flows.yml knows: the loader's own fields, so this list follows actions/content.py.
FLOW_KEYS = {f.name for f in fields(Flow)} - {"id", "line"}
NODE_KEYS = ({f.name for f in fields(Node)} - {"id", "line"}) | {"type"}
OPTION_KEYS = {f.name for f in fields(Option)}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Example:
    intent: str
    text: str
    path: Path
    line: int


def normalized(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def read_examples(paths: list[Path], root: Path = ROOT) -> tuple[list[Example], list[Problem]]:
    """Examples with their line numbers, read from the block style Rasa uses."""
    examples: list[Example] = []
    problems: list[Problem] = []
    for path in paths:
        intent: str | None = None
        in_examples = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            head = re.match(r"^- (intent|regex|synonym|lookup): *(.+?)\s*$", line)
            if head:
                intent = head.group(2) if head.group(1) == "intent" else None
                in_examples = False
                continue
            if re.match(r"^\s+examples:\s*\|", line):
                in_examples = True
                continue
            item = re.match(r"^\s+- ?(.*)$", line)
            if in_examples and intent and item:
                text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", item.group(1)).strip()
                if not text:
                    problems.append(Problem(rel(path, root), number, "例文が空です。行を削除するか、例文を書いてください。"))
                    continue
                examples.append(Example(intent, text, path, number))
    return examples, problems


def rel(path: Path, root: Path = ROOT) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def yaml_files(root: Path, *folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*.yml"))


def responses_sent_by_code(root: Path = ROOT) -> set[str]:
    """The responses the code sends or reads (actions/responses.py)."""
    return set(declared.RESPONSES)


def form_question_responses(domain: dict) -> set[str]:
    """utter_ask_<slot> responses: Rasa's forms send them when they request a slot."""
    slots = set(domain.get("slots") or {})
    return {name for name in domain.get("responses") or {} if name.startswith("utter_ask_") and name[len("utter_ask_") :] in slots}


def response_variables(root: Path = ROOT) -> tuple[dict[str, set[str]], set[str]]:
    """What the code fills into each response: {name: variables} (actions/responses.py)."""
    return {name: set(r.variables) for name, r in declared.RESPONSES.items()}, set()


def copy_project(dest: Path, root: Path = ROOT) -> Path:
    """Copies the files editors change (and the code the checks read) to dest; returns dest."""
    for name in PROJECT_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        elif src.exists():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


# --- YAML with line numbers -------------------------------------------------------


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the checks parse every file several times


def compose(path: Path) -> yaml.Node | None:
    return _compose(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def _compose(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=_LOADER)


def pairs(node: yaml.Node | None) -> Iterator[tuple[str, yaml.Node, int]]:
    """(key, value node, line) for every mapping entry anywhere under node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield str(key.value), value, key.start_mark.line + 1
            yield from pairs(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from pairs(item)


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def top_level_lines(node: yaml.Node | None, key: str) -> dict[str, int]:
    """Line of each entry under a top-level key: list items (`- name`) or mapping keys (`name:`)."""
    section = child(node, key)
    lines: dict[str, int] = {}
    if isinstance(section, yaml.SequenceNode):
        for item in section.value:
            if isinstance(item, yaml.ScalarNode):
                lines.setdefault(str(item.value), item.start_mark.line + 1)
            elif isinstance(item, yaml.MappingNode) and item.value:
                lines.setdefault(str(item.value[0][0].value), item.start_mark.line + 1)
    elif isinstance(section, yaml.MappingNode):
        for k, _ in section.value:
            lines.setdefault(str(k.value), k.start_mark.line + 1)
    return lines


# --- the checks -------------------------------------------------------------------


class Check:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or os.environ.get(ROOT_ENV) or ROOT).resolve()
        self.problems: list[Problem] = []
        self.flows_file = self.root / "content" / "flows.yml"
        self.stories_file = self.root / "tests" / "test_stories.yml"
        self.test_nlu_file = self.root / "tests" / "test_nlu.yml"
        self.tuning_nlu_file = self.root / "tests" / "nlu_tuning.yml"
        self.domain: dict[str, Any] = {}
        self.domain_node: yaml.Node | None = None
        self.flows: dict[str, Flow] = {}

    # helpers
    def add(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(Problem(path if isinstance(path, str) else rel(path, self.root), line, message))

    @property
    def intents(self) -> list[str]:
        return [next(iter(i)) if isinstance(i, dict) else str(i) for i in self.domain.get("intents") or []]

    @property
    def responses(self) -> dict[str, Any]:
        return self.domain.get("responses") or {}

    def domain_line(self, section: str, name: str) -> int:
        return top_level_lines(self.domain_node, section).get(name, 1)

    def find_line(self, word: str, paths: list[Path]) -> tuple[Path, int] | None:
        """First line that names `word` as a whole word, in the given files."""
        pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
        for path in paths:
            if not path.exists():
                continue
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(text.split("#", 1)[0]):
                    return path, number
        return None

    def all_yaml(self) -> list[Path]:
        files = yaml_files(self.root, "data", "content") + [self.stories_file, self.test_nlu_file, self.tuning_nlu_file]
        return [p for p in files + [self.root / "domain.yml", self.root / "config.yml"] if p.exists()]

    # 1. syntax
    def syntax(self) -> bool:
        ok = True
        for path in self.all_yaml():
            try:
                node = compose(path)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                self.add(
                    path,
                    mark.line + 1 if mark else 1,
                    "YAML の書き方に誤りがあります。この行か直前の行の、インデント（字下げの空白の数）、「:」の後の空白、"
                    f"「-」、引用符「\"」の閉じ忘れを確認してください。タブ文字は使えません。（{getattr(exc, 'problem', exc)}）",
                )
                ok = False
                continue
            for mapping in _mappings(node):
                seen: dict[str, int] = {}
                for key, _ in mapping.value:
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        self.add(
                            path,
                            line,
                            f"「{key.value}」が同じ場所に 2 回書かれています（{seen[key.value]} 行目にもあります）。"
                            "後の方だけが使われ、前の方は黙って無視されます。一方を削除するか名前を変えてください。",
                        )
                        ok = False
                    seen.setdefault(key.value, line)
        if ok:
            self.domain = yaml.load((self.root / "domain.yml").read_text(encoding="utf-8"), Loader=_LOADER) or {}
            self.domain_node = compose(self.root / "domain.yml")
        return ok

    # 2. schema
    def schema(self) -> None:
        from rasa.shared.constants import DOMAIN_SCHEMA_FILE
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import CORE_SCHEMA_FILE
        from rasa.shared.nlu.training_data.formats.rasa_yaml import NLU_SCHEMA_FILE

        targets: list[tuple[Path, str]] = [(self.root / "domain.yml", DOMAIN_SCHEMA_FILE)]
        for path in yaml_files(self.root, "data") + [self.stories_file, self.test_nlu_file]:
            if not path.exists():
                continue
            keys = set(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {})
            if keys & {"nlu"}:
                targets.append((path, NLU_SCHEMA_FILE))
            if keys & {"stories", "rules"}:
                targets.append((path, CORE_SCHEMA_FILE))
            if not keys & {"nlu", "stories", "rules"}:
                self.add(
                    path, 1, "このファイルには nlu:、rules:、stories: のどれもありません。先頭の書き方を他のファイルに合わせてください。"
                )
        for path, schema in targets:
            for line, message in schema_errors(path.read_text(encoding="utf-8"), schema):
                self.add(path, line, message)
        self.flow_keys()

    def flow_keys(self) -> None:
        root = compose(self.flows_file)
        flows = child(root, "flows")
        for key, _value, line in (
            (k.value, v, k.start_mark.line + 1) for k, v in (root.value if isinstance(root, yaml.MappingNode) else [])
        ):
            if key not in ("version", "flows"):
                self.add(self.flows_file, line, f"「{key}」という項目は使えません。使えるのは version と flows です。")
        if not isinstance(flows, yaml.MappingNode):
            return
        for flow_key, flow in flows.value:
            self.unknown_keys(flow, FLOW_KEYS, f"フロー「{flow_key.value}」")
            for node_key, node in (child(flow, "nodes") or yaml.MappingNode("", [])).value:
                where = f"フロー「{flow_key.value}」のノード「{node_key.value}」"
                self.unknown_keys(node, NODE_KEYS, where)
                options = child(node, "options")
                for option in options.value if isinstance(options, yaml.SequenceNode) else []:
                    self.unknown_keys(option, OPTION_KEYS, f"{where}の選択肢")

    def unknown_keys(self, node: yaml.Node, allowed: set[str], where: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, _ in node.value:
            if key.value not in allowed:
                self.add(
                    self.flows_file,
                    key.start_mark.line + 1,
                    f"{where}の「{key.value}」という項目は使えません（綴りの誤りでは？）。使えるのは {', '.join(sorted(allowed))} です。",
                )

    # 3. flows
    def flow_lines(self) -> dict[tuple[str, str | None], int]:
        """Line of each flow (flow, None) and node (flow, node) in content/flows.yml."""
        lines: dict[tuple[str, str | None], int] = {}
        flows = child(compose(self.flows_file), "flows")
        for flow_key, flow in flows.value if isinstance(flows, yaml.MappingNode) else []:
            lines[(str(flow_key.value), None)] = flow_key.start_mark.line + 1
            nodes = child(flow, "nodes")
            for node_key, _ in nodes.value if isinstance(nodes, yaml.MappingNode) else []:
                lines[(str(flow_key.value), str(node_key.value))] = node_key.start_mark.line + 1
        return lines

    def check_flows(self) -> None:
        where = self.flow_lines()
        try:
            self.flows = parse_flows(self.flows_file)
        except ContentError as exc:
            for problem in exc.problems:
                m = re.match(r"^[^:]+:(\d+): (.*)$", problem, re.S)
                line, message = (int(m.group(1)), m.group(2)) if m else (0, problem)
                if not line:  # the loader does not always know the line: find it from the names in the message
                    names = re.match(r"フロー「([^」]+)」(?:のノード「([^」]+)」)?", message)
                    line = (where.get((names.group(1), names.group(2))) or where.get((names.group(1), None)) or 1) if names else 1
                self.add(self.flows_file, line, message)
            return
        self.flows_for_rules()
        self.option_examples(where)
        starters = self.rule_starts()
        for flow_id in self.flows:
            line = where.get((flow_id, None), 1)
            if flow_id not in self.intents:
                self.add(
                    self.flows_file,
                    line,
                    f"フロー「{flow_id}」と同じ名前のインテントが domain.yml の intents にありません。domain.yml の intents に「- {flow_id}」を追加してください。",
                )
            if flow_id not in starters:
                self.add(
                    self.flows_file,
                    line,
                    f"フロー「{flow_id}」を始めるルールが data/rules/ にありません。data/rules/guide.yml の、ほかの FAQ トピックのルール"
                    f"（- rule: … → its guided flow の 2 行）をコピーして、2 か所のインテント名を {flow_id} に変えてください。",
                )

    def option_examples(self, where: dict[tuple[str, str | None], int]) -> None:
        """Every way to type an option (its label, its examples) must be read as that option."""
        from actions.answers import load_vocabulary, option_choices, read

        answers_file = self.root / "content" / "answers.yml"
        if not answers_file.exists():
            return
        vocab = load_vocabulary(answers_file)
        for flow in self.flows.values():
            for node in flow.nodes.values():
                if node.type != "choice":
                    continue
                choices = option_choices(flow.id, node)
                for i, option in enumerate(node.options):
                    for text in (option.label, *option.examples):
                        reading = read(text, choices, vocab)
                        if reading and reading.kind == "choice" and choices[reading.index].target == choices[i].target:
                            continue
                        got = (
                            f"「{choices[reading.index].title}」の答えとして読まれます"
                            if reading and reading.kind == "choice"
                            else "「わからない」として読まれます"
                            if reading
                            else "ほかの選択肢と区別できません"
                        )
                        self.add(
                            self.flows_file,
                            where.get((flow.id, node.id), node.line),
                            f"フロー「{flow.id}」の質問「{node.ask}」で、選択肢「{option.label}」の言い方「{text}」が{got}。"
                            "ほかの選択肢の examples と似ていないか確認し、より具体的な言い方にしてください。",
                        )

    def faq(self) -> None:
        """Every quoted text stands in the FAQ; every FAQ sentence is used or explained."""
        from contentcheck import faq_trace

        faq_file = self.root / faq_trace.FAQ_FILE
        if not self.flows or not faq_file.exists():
            return
        faq_text = faq_file.read_text(encoding="utf-8")
        for m in faq_trace.misquoted(self.flows, faq_text):
            q = m.quote
            where = f"フロー「{q.flow}」" + (f"のノード「{q.node}」の {q.field} " if q.node else "の question ")
            near = (
                f"いちばん近い FAQ の文（{faq_trace.FAQ_FILE}:{m.closest.line}）は「{m.closest.text}」で、違いは {m.differs} です。"
                if m.closest
                else ""
            )
            self.add(
                self.flows_file,
                q.line,
                f"{where}の文「{q.text}」が FAQ（{faq_trace.FAQ_FILE}）にありません。{near}"
                "FAQ の文言のとおりに直してください（編集者の言葉なら、title・summary・ask・label のどれかに書きます）。",
            )
        exceptions_file = self.root / faq_trace.NOT_QUOTED_FILE
        exceptions = faq_trace.not_quoted(exceptions_file)
        for sentence in faq_trace.uncovered(self.flows, faq_text, exceptions):
            self.add(
                faq_file,
                sentence.line,
                f"FAQ の文「{sentence.text}」がどのフローにも使われていません。content/flows.yml のフローに加えるか、"
                f"使わない理由を {faq_trace.NOT_QUOTED_FILE} に書いてください。",
            )
        whole = faq_trace.squash(faq_text)
        for text in exceptions:
            if text not in whole:
                line = next(
                    (
                        i
                        for i, row in enumerate(exceptions_file.read_text(encoding="utf-8").splitlines(), 1)
                        if text in faq_trace.squash(row)
                    ),
                    1,
                )
                self.add(exceptions_file, line, "この文は FAQ にもうありません。この項目を削除してください。")

    def flows_for_rules(self) -> None:
        """An intent a rule hands to action_guide must be a flow, or a move the code knows (次へ, はい…)."""
        for intent in sorted(self.rule_starts() - set(self.flows) - declared.GUIDE_INTENTS):
            where = self.find_line(intent, yaml_files(self.root, "data/rules"))
            if where:
                self.add(
                    *where,
                    f"インテント「{intent}」はルールで案内フロー（action_guide）に渡されますが、content/flows.yml にフロー「{intent}」がありません。"
                    "content/flows.yml にフローを追加してください（編集者ガイド 4 節 ③）。",
                )

    def rule_starts(self) -> set[str]:
        """Intents some rule answers with action_guide right away."""
        started = set()
        for path in yaml_files(self.root, "data/rules"):
            for rule in (yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}).get("rules") or []:
                steps = (rule or {}).get("steps") or []
                for first, second in zip(steps, steps[1:], strict=False):
                    if (
                        isinstance(first, dict)
                        and isinstance(second, dict)
                        and second.get("action") == "action_guide"
                        and "intent" in first
                    ):
                        started.add(first["intent"])
        return started

    # 4. references in rules and stories
    def references(self) -> None:
        from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

        intents = set(self.intents) | BUILTIN_INTENTS
        forms = set(self.domain.get("forms") or {})
        actions = set(self.domain.get("actions") or []) | set(self.responses) | forms | set(DEFAULT_ACTION_NAMES)
        for path in yaml_files(self.root, "data/rules", "data/stories") + [self.stories_file]:
            if not path.exists():
                continue
            for key, value, line in pairs(compose(path)):
                if not isinstance(value, yaml.ScalarNode) or value.value in (None, "", "null"):
                    continue
                name = str(value.value)
                if key == "intent" and name not in intents:
                    self.add(
                        path,
                        line,
                        f"インテント「{name}」は domain.yml の intents にありません。綴りを確認するか、domain.yml の intents に追加してください。",
                    )
                elif key == "action" and name not in actions:
                    hint = (
                        "domain.yml の responses に同じ名前の応答を追加してください。"
                        if name.startswith("utter_")
                        else "domain.yml の actions にあるか、綴りを確認してください。"
                    )
                    self.add(path, line, f"アクション「{name}」がありません。{hint}")
                elif key == "active_loop" and name not in actions:
                    self.add(path, line, f"フォーム「{name}」は domain.yml の forms にありません。綴りを確認してください。")

    # 5. responses
    def responses_used(self) -> None:
        used: set[str] = set()
        for path in yaml_files(self.root, "data/rules", "data/stories"):
            used |= {str(v.value) for k, v, _ in pairs(compose(path)) if k == "action" and isinstance(v, yaml.ScalarNode)}
        in_code = responses_sent_by_code(self.root)
        asked = form_question_responses(self.domain)
        line_of = top_level_lines(self.domain_node, "responses")
        domain_file = self.root / "domain.yml"
        for name in self.responses:
            if name not in used | in_code | asked | BUILTIN_RESPONSES:
                self.add(
                    domain_file,
                    line_of.get(name, 1),
                    f"応答「{name}」はどのルール・ストーリー・アクションからも使われていません。"
                    "不要なら削除し、必要なら data/rules/ のルールの steps に「{action: "
                    f"{name}}}」を追加してください。",
                )
            for variant in self.responses[name] or []:
                if not str((variant or {}).get("text") or "").strip():
                    self.add(domain_file, line_of.get(name, 1), f"応答「{name}」の text が空です。利用者に表示する文章を書いてください。")
        for name in sorted(in_code - set(self.responses)):
            self.add(
                DECLARATIONS,
                declared.RESPONSES[name].line,
                f"プログラムが応答「{name}」を使いますが、domain.yml の responses にありません。domain.yml の responses に同じ名前で応答を追加してください。",
            )
        self.variables(line_of)
        self.payloads(line_of)

    def variables(self, line_of: dict[str, int]) -> None:
        given, unknown = response_variables(self.root)
        slots = set(self.domain.get("slots") or {})
        for name, variants in self.responses.items():
            for variant in variants or []:
                text = str((variant or {}).get("text") or "")
                used = set(VARIABLE.findall(text))
                known = given.get(name, set())
                for var in sorted(used - known - slots):
                    if name in unknown:
                        continue
                    allowed = "、".join(f"{{{v}}}" for v in sorted(known)) or "なし"
                    self.add(
                        self.root / "domain.yml",
                        line_of.get(name, 1),
                        f"応答「{name}」の {{{var}}} には値が入りません（このまま {{{var}}} と表示されます）。"
                        f"綴りを確認してください。この応答で使える {{…}} は {allowed} です。",
                    )
                for var in sorted(known - used):
                    self.add(
                        self.root / "domain.yml",
                        line_of.get(name, 1),
                        f"応答「{name}」から {{{var}}} が消えています。{{…}} はプログラムが内容を入れる場所なので、文章を変えるときも残してください。",
                    )

    def payloads(self, line_of: dict[str, int]) -> None:
        intents = set(self.intents) | BUILTIN_INTENTS
        for name, variants in self.responses.items():
            for variant in variants or []:
                for button in (variant or {}).get("buttons") or []:
                    payload = str((button or {}).get("payload") or "")
                    m = re.match(r"^/(\w+)", payload)
                    if m and m.group(1) not in intents:
                        self.add(
                            self.root / "domain.yml",
                            line_of.get(name, 1),
                            f"応答「{name}」のボタン「{button.get('title')}」の payload「{payload}」のインテント「{m.group(1)}」がありません。綴りを確認してください。",
                        )

    # 6. examples
    def examples(self) -> None:
        training, problems = read_examples(yaml_files(self.root, "data/nlu"), self.root)
        self.problems += problems
        by_text: dict[str, list[Example]] = defaultdict(list)
        for ex in training:
            by_text[normalized(ex.text)].append(ex)
        for same in by_text.values():
            first = same[0]
            for ex in same[1:]:
                if ex.intent != first.intent:
                    self.add(
                        ex.path,
                        ex.line,
                        f"例文「{ex.text}」はインテント「{first.intent}」（{rel(first.path, self.root)}:{first.line}）にもあり、矛盾しています。"
                        "同じ文が 2 つの意味を持つとボットが迷うので、どちらか一方に残してください。",
                    )
                else:
                    self.add(
                        ex.path,
                        ex.line,
                        f"例文「{ex.text}」が重複しています（{rel(first.path, self.root)}:{first.line}）。一方を削除してください。",
                    )
        counts: dict[str, int] = defaultdict(int)
        header: dict[str, tuple[Path, int]] = {}
        for path in yaml_files(self.root, "data/nlu"):
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = re.match(r"^- intent: *(\S+)", text)
                if m:
                    header.setdefault(m.group(1), (path, number))
        for ex in training:
            counts[ex.intent] += 1
        faq = set(self.flows)
        for intent in self.intents:
            if intent in BUTTON_ONLY_INTENTS:
                continue
            needed = MIN_EXAMPLES_FAQ if intent in faq else MIN_EXAMPLES_OTHER
            if counts[intent] < needed:
                path, line = header.get(intent) or (self.root / "domain.yml", self.domain_line("intents", intent))
                where = "" if intent in header else f"data/nlu/{intent}.yml を作り、"
                self.add(
                    path,
                    line,
                    f"インテント「{intent}」の例文が {counts[intent]} 件しかありません。{where}{needed} 件以上にしてください"
                    f"（{'FAQ トピック' if intent in faq else 'このインテント'}の目安。利用者が書きそうないろいろな言い方を足してください）。",
                )
        for intent in counts:
            if intent not in self.intents:
                ex = next(e for e in training if e.intent == intent)
                self.add(
                    ex.path,
                    ex.line,
                    f"インテント「{intent}」が domain.yml の intents にありません。domain.yml に追加するか、名前の綴りを確認してください。",
                )
        self.held_out(by_text, faq)

    def held_out(self, by_text: dict[str, list[Example]], faq: set[str]) -> None:
        if not self.test_nlu_file.exists():
            return
        test_files = [f for f in (self.test_nlu_file, self.tuning_nlu_file) if f.exists()]
        held_out, problems = read_examples(test_files, self.root)
        self.problems += problems
        count: dict[str, int] = defaultdict(int)
        in_test: dict[str, Example] = {}
        for ex in held_out:
            if ex.path == self.test_nlu_file:
                count[ex.intent] += 1
            if ex.intent not in self.intents and count[ex.intent] <= 1:
                self.add(ex.path, ex.line, f"インテント「{ex.intent}」が domain.yml の intents にありません。綴りを確認してください。")
            for twin in by_text.get(normalized(ex.text), []):
                self.add(
                    ex.path,
                    ex.line,
                    f"テスト用の例文「{ex.text}」が学習データ（{rel(twin.path, self.root)}:{twin.line}）と同じです。テストが甘くなるので、テスト側を別の言い方にしてください。",
                )
            twin = in_test.setdefault(normalized(ex.text), ex)
            if twin is not ex and twin.path != ex.path:
                self.add(
                    ex.path,
                    ex.line,
                    f"テスト用の例文「{ex.text}」が {rel(twin.path, self.root)}:{twin.line} にもあります。調整用と測定用は別の文にしてください。",
                )
        end = len(self.test_nlu_file.read_text(encoding="utf-8").splitlines())
        for intent in sorted(faq):
            if count[intent] < MIN_HELD_OUT_FAQ:
                self.add(
                    self.test_nlu_file,
                    end,
                    f"FAQ トピック「{intent}」のテスト用の例文が {count[intent]} 件です。学習データにない言い方を {MIN_HELD_OUT_FAQ} 件以上、"
                    f"このファイルの「- intent: {intent}」の下に書いてください（認識の精度をこれで測ります）。",
                )

    # 7. test stories
    def stories_cover_intents(self) -> None:
        if not self.stories_file.exists():
            self.add("tests/test_stories.yml", 1, "テストストーリーのファイルがありません。")
            return
        tested = {str(v.value) for k, v, _ in pairs(compose(self.stories_file)) if k == "intent" and isinstance(v, yaml.ScalarNode)}
        end = len(self.stories_file.read_text(encoding="utf-8").splitlines())
        for intent in self.intents:
            if intent not in tested:
                self.add(
                    self.stories_file,
                    end,
                    f"インテント「{intent}」（domain.yml:{self.domain_line('intents', intent)}）のテストストーリーがありません。"
                    "このファイルの最後に、このインテントの文を送る会話（- story: …）を追加してください。",
                )

    # 8. rasa data validate
    def rasa_validate(self) -> None:
        from contentcheck.validate_data import justified

        said = rasa_warnings(self.root)
        accepted = responses_sent_by_code(self.root) | form_question_responses(self.domain) | BUILTIN_RESPONSES
        for message in said:
            if not justified(message, accepted):
                self.add(*self.translate(message))

    def translate(self, message: str) -> tuple[Path | str, int, str]:
        """A `rasa data validate` warning in Japanese, at the line it is about."""
        domain = self.root / "domain.yml"
        data = yaml_files(self.root, "data")
        names = re.findall(r"'([^']+)'", message)
        m = re.search(r"The intent '(\w+)' is not used in any story or rule", message)
        if m:
            return (
                domain,
                self.domain_line("intents", m.group(1)),
                f"インテント「{m.group(1)}」はどのルールにも使われていません。data/rules/ にこのインテントへの応答のルールを追加するか、"
                "不要なら domain.yml と data/nlu/ から削除してください。",
            )
        m = re.search(r"The utterance '(\w+)' is not used in any story or rule", message)
        if m:
            return (
                domain,
                top_level_lines(self.domain_node, "responses").get(m.group(1), 1),
                f"応答「{m.group(1)}」はどのルールにも使われていません。不要なら削除してください。",
            )
        m = re.search(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data", message)
        if m:
            return (
                domain,
                self.domain_line("intents", m.group(1)),
                f"インテント「{m.group(1)}」の例文がありません。data/nlu/ に例文を書いてください。",
            )
        conflict = re.search(r"conflict", message, re.I)
        for name in names:
            found = self.find_line(name, data + [domain])
            if found:
                if conflict:
                    return (
                        *found,
                        f"ルールまたはストーリー「{name}」が他と矛盾しています（同じ状況で別の応答になっています）。steps を見直してください。（{message}）",
                    )
                return *found, f"rasa data validate の指摘です。この行の「{name}」を確認してください。（{message}）"
        return domain, 1, f"rasa data validate の指摘です。（{message}）"


def _mappings(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        yield node
        for _, value in node.value:
            yield from _mappings(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _mappings(item)


SCHEMA_MESSAGES = [
    (r"Key '(.+?)' was not defined", "「{0}」という項目は使えません（綴りの誤りか、字下げの位置違いでは？）。"),
    (r"Cannot find required key '(.+?)'", "必要な項目「{0}」がありません。"),
    (r"Value '(.*?)' is not of type '(\w+)'", "値「{0}」の形式が違います（{1} が必要です）。字下げや「-」の有無を確認してください。"),
    (r"Value '(.*?)' is not a dict", "値「{0}」の形式が違います。「項目名: 値」の形で書いてください。"),
    (r"Value '(.*?)' is not a list", "値「{0}」の形式が違います。「- 」で始まる一覧で書いてください。"),
]


@lru_cache(maxsize=256)
def schema_errors(text: str, schema: str) -> tuple[tuple[int, str], ...]:
    """(line, Japanese message) for each way text breaks Rasa's schema. Cached: the slow part of the check."""
    from rasa.shared.utils.validation import YamlValidationException, validate_yaml_schema

    if _fast_schema_ok(text, schema):
        return ()
    found: dict[tuple[int, str], None] = {}
    try:  # Rasa's own validation: slow (ruamel), but it knows the lines
        validate_yaml_schema(text, schema)
    except YamlValidationException as exc:
        for error in exc.validation_errors or []:
            found[(exc._line_number_for_path(exc.content, error.path) or 1, schema_message(str(error)))] = None
    except Exception as exc:  # noqa: BLE001 - Rasa raises several kinds; all are the editor's to fix
        found[(1, f"Rasa がこのファイルを読めません。書き方を他のファイルと見比べてください。（{exc}）")] = None
    return tuple(found)


def _fast_schema_ok(text: str, schema: str) -> bool:
    """Rasa's schema through pykwalify on libyaml-parsed data: ~100× faster than Rasa's loader when all is well."""
    from pykwalify.core import Core
    from rasa.shared.utils.validation import SCHEMA_EXTENSIONS_FILE

    logging.getLogger("pykwalify").setLevel(logging.CRITICAL)
    try:
        data = yaml.load(text, Loader=_LOADER)
        core = Core(source_data=data, schema_data=_schema(schema), extensions=[str(_rasa_file(SCHEMA_EXTENSIONS_FILE))])
        core.validate(raise_exception=False)
    except Exception:  # noqa: BLE001 - let Rasa's own validation say what is wrong
        return False
    return not core.errors


@lru_cache(maxsize=8)
def _schema(schema: str) -> dict:
    from rasa.shared.utils.io import read_yaml_file
    from rasa.shared.utils.validation import RESPONSES_SCHEMA_FILE

    return dict(read_yaml_file(_rasa_file(schema)), **read_yaml_file(_rasa_file(RESPONSES_SCHEMA_FILE)))


def _rasa_file(relative: str) -> Path:
    import rasa

    return Path(rasa.__file__).parent / relative


def schema_message(error: str) -> str:
    for pattern, japanese in SCHEMA_MESSAGES:
        m = re.search(pattern, error)
        if m:
            return japanese.format(*m.groups()) + f"（{error}）"
    return f"Rasa の書式に合いません。他の部分の書き方と見比べてください。（{error}）"


def rasa_warnings(root: Path) -> list[str]:
    """What `rasa data validate` warns about, run in-process (its import is the slow part, paid once)."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS
    from rasa.validator import Validator

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    handler = Collect()
    loggers = [logging.getLogger(name) for name in ("rasa.validator", "rasa.shared", "rasa.core.training")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                importer = TrainingDataImporter.load_from_config(
                    domain_path=str(root / "domain.yml"), training_data_paths=[str(root / "data")], config_path=str(root / "config.yml")
                )
                validator = Validator.from_importer(importer)
                validator.verify_domain_validity()
                validator.verify_actions_in_stories_rules()
                validator.verify_forms_in_stories_rules()
                validator.verify_form_slots()
                validator.verify_slot_mappings()
                validator.verify_nlu(True)
                validator.verify_story_structure(True)
                validator.warn_if_config_mandatory_keys_are_not_set()
            except Exception as exc:  # noqa: BLE001 - reported to the editor like any warning
                messages.append(str(exc))
        expected = [re.compile(pattern) for category, pattern in EXPECTED_WARNINGS if category is UserWarning]  # the CLI hides these too
        messages += [
            str(w.message)
            for w in caught
            if issubclass(w.category, UserWarning)
            and "rasa" in w.filename.replace("\\", "/")
            and not any(p.match(str(w.message)) for p in expected)
        ]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    return list(dict.fromkeys(m.strip() for m in messages if m.strip()))


def run(root: Path | None = None, rasa: bool = True) -> list[Problem]:
    """All problems in the project at root (default: this project)."""
    check = Check(root)
    if check.syntax():
        check.schema()
        check.check_flows()
        check.faq()
        check.references()
        check.responses_used()
        check.examples()
        check.stories_cover_intents()
        if rasa and not check.problems:
            check.rasa_validate()
    return check.problems
