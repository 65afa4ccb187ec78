"""Content check for editors: `make check`. Runs in seconds, without training.

Every problem names the file and line and says what to do, in Japanese, because
the people who read it edit YAML, not Python. Exit code 1 when anything is wrong.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from actions.content import ContentError, flows_path, parse_flows

ROOT = Path(__file__).resolve().parent.parent
MIN_EXAMPLES_FAQ = 25
MIN_EXAMPLES_OTHER = 10
BUTTON_ONLY_INTENTS = {"guide_choose"}  # sent by buttons only, never typed
BUILTIN_RESPONSES = {"utter_default", "utter_ask_rephrase"}  # sent by Rasa's fallback actions
RESPONSE_NAME = re.compile(r"[\"'](utter_\w+)[\"']")


@dataclass
class Example:
    intent: str
    text: str
    path: Path
    line: int


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def normalized(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def read_examples(paths: list[Path]) -> tuple[list[Example], list[str]]:
    """Examples with their line numbers, read from the block style Rasa uses."""
    examples, problems = [], []
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
            item = re.match(r"^\s+- (.*)$", line)
            if in_examples and intent and item:
                text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", item.group(1)).strip()
                if not text:
                    problems.append(f"{rel(path)}:{number}: 例文が空です。行を削除するか、例文を書いてください。")
                    continue
                examples.append(Example(intent, text, path, number))
    return examples, problems


def yaml_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.yml"))


class Check:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
        self.intents: list[str] = list(self.domain.get("intents", []))
        self.responses: dict[str, list] = self.domain.get("responses", {})

    def syntax(self) -> bool:
        ok = True
        for path in yaml_files("data", "tests", "content") + [ROOT / "domain.yml", ROOT / "config.yml"]:
            try:
                yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark else 0
                self.problems.append(
                    f"{rel(path)}:{line}: YAML の書き方に誤りがあります。インデント（字下げ）や「:」「-」、引用符の閉じ忘れを確認してください。（{getattr(exc, 'problem', exc)}）"
                )
                ok = False
        return ok

    def flows(self) -> None:
        try:
            flows = parse_flows(flows_path())
        except ContentError as exc:
            self.problems += [f"content/{p}" for p in exc.problems]
            return
        rules_text = "\n".join(p.read_text(encoding="utf-8") for p in yaml_files("data/rules"))
        for flow_id, flow in flows.items():
            where = f"content/{flows_path().name}:{flow.line}"
            if flow_id not in self.intents:
                self.problems.append(
                    f"{where}: フロー「{flow_id}」と同じ名前のインテントが domain.yml の intents にありません。インテントを追加してください。"
                )
            if not re.search(
                rf"intent: {re.escape(flow_id)}\}}?, *\{{?action: action_guide|intent: {re.escape(flow_id)}\s*\n\s*- action: action_guide",
                rules_text,
            ):
                self.problems.append(
                    f"{where}: フロー「{flow_id}」を始めるルールが data/rules/ にありません。data/rules/guide.yml に「- rule: … steps: [{{intent: {flow_id}}}, {{action: action_guide}}]」を追加してください。"
                )

    def responses_used(self) -> None:
        used: set[str] = set()
        for path in yaml_files("data/rules", "data/stories"):
            used |= set(re.findall(r"action: (utter_\w+)", path.read_text(encoding="utf-8")))
        code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
        in_code = set(RESPONSE_NAME.findall(code))
        lines = (ROOT / "domain.yml").read_text(encoding="utf-8").splitlines()
        line_of = {m.group(1): i for i, text in enumerate(lines, 1) if (m := re.match(r"^  (utter_\w+):\s*$", text))}
        for name in self.responses:
            if name not in used | in_code | BUILTIN_RESPONSES:
                self.problems.append(
                    f"domain.yml:{line_of.get(name, 0)}: 応答「{name}」はどのルール・ストーリー・アクションからも使われていません。不要なら削除し、必要なら data/rules/ のルールに追加してください。"
                )
            for variant in self.responses[name] or []:
                if not (variant or {}).get("text", "").strip():
                    self.problems.append(f"domain.yml:{line_of.get(name, 0)}: 応答「{name}」の text が空です。")
        for name in sorted(in_code - set(self.responses)):
            self.problems.append(
                f"domain.yml:1: プログラムが応答「{name}」を使いますが、domain.yml の responses にありません。同じ名前で応答を追加してください。"
            )

    def examples(self) -> None:
        training, problems = read_examples(yaml_files("data/nlu"))
        self.problems += problems
        by_text: dict[str, list[Example]] = defaultdict(list)
        for ex in training:
            by_text[normalized(ex.text)].append(ex)
        for same in by_text.values():
            intents = {ex.intent for ex in same}
            first = same[0]
            for ex in same[1:]:
                if len(intents) > 1:
                    self.problems.append(
                        f"{rel(ex.path)}:{ex.line}: 例文「{ex.text}」はインテント「{first.intent}」（{rel(first.path)}:{first.line}）にもあり、矛盾しています。どちらか一方に残してください。"
                    )
                else:
                    self.problems.append(
                        f"{rel(ex.path)}:{ex.line}: 例文「{ex.text}」が重複しています（{rel(first.path)}:{first.line}）。一方を削除してください。"
                    )
        counts = defaultdict(int)
        for ex in training:
            counts[ex.intent] += 1
        faq = set(parse_flows_safe())
        for intent in self.intents:
            needed = MIN_EXAMPLES_FAQ if intent in faq else MIN_EXAMPLES_OTHER
            if intent in BUTTON_ONLY_INTENTS:
                continue
            if counts[intent] < needed:
                self.problems.append(
                    f"data/nlu:0: インテント「{intent}」の例文が {counts[intent]} 件しかありません。{needed} 件以上にしてください（いろいろな言い方を追加してください）。"
                )
        for intent in counts:
            if intent not in self.intents:
                ex = next(e for e in training if e.intent == intent)
                self.problems.append(
                    f"{rel(ex.path)}:{ex.line}: インテント「{intent}」が domain.yml の intents にありません。domain.yml に追加するか、名前の綴りを確認してください。"
                )
        held_out, problems = read_examples([ROOT / "tests" / "test_nlu.yml"])
        self.problems += problems
        for ex in held_out:
            for twin in by_text.get(normalized(ex.text), []):
                self.problems.append(
                    f"{rel(ex.path)}:{ex.line}: テスト用の例文「{ex.text}」が学習データ（{rel(twin.path)}:{twin.line}）と同じです。テストが甘くなるので、テスト側を別の言い方にしてください。"
                )

    def stories_cover_intents(self) -> None:
        path = ROOT / "tests" / "test_stories.yml"
        tested = set(re.findall(r"intent: (\w+)", path.read_text(encoding="utf-8")))
        for intent in self.intents:
            if intent not in tested:
                self.problems.append(
                    f"tests/test_stories.yml:0: インテント「{intent}」のテストストーリーがありません。tests/test_stories.yml にこのインテントを使う会話を追加してください。"
                )

    def rasa_validate(self) -> None:
        from tools import validate_data

        if validate_data.main() != 0:
            self.problems.append("rasa data validate: 上に表示された警告・エラーを確認してください。")


def parse_flows_safe() -> dict:
    try:
        return parse_flows(flows_path())
    except ContentError:
        return {}


def main() -> int:
    check = Check()
    if check.syntax():
        check.flows()
        check.responses_used()
        check.examples()
        check.stories_cover_intents()
        if not check.problems:
            check.rasa_validate()
    if check.problems:
        print(f"内容チェック: {len(check.problems)} 件の問題があります。")
        for problem in check.problems:
            print(f"  {problem}")
        return 1
    print("内容チェック: 問題はありません。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
