"""6. Examples: no duplicate or conflicting examples, enough per intent, held-out test
examples for every FAQ topic and none copied from training."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from actions.content import Problem
from actions.responses import BUTTON_ONLY_INTENTS
from contentcheck.files import ROOT, rel, yaml_files
from contentcheck.project import Check
from usertext import squash

MIN_EXAMPLES_FAQ = 25
MIN_EXAMPLES_OTHER = 10
MIN_HELD_OUT_FAQ = 5  # held-out sentences per FAQ topic in tests/test_nlu.yml


@dataclass
class Example:
    intent: str
    text: str
    path: Path
    line: int


def normalized(text: str) -> str:
    """Comparison form of an example: NFKC, no white space, lower case."""
    return squash(text).lower()


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


def check_examples(check: Check) -> None:
    training, problems = read_examples(yaml_files(check.root, "data/nlu"), check.root)
    check.problems += problems
    by_text: dict[str, list[Example]] = defaultdict(list)
    for ex in training:
        by_text[normalized(ex.text)].append(ex)
    for same in by_text.values():
        first = same[0]
        for ex in same[1:]:
            if ex.intent != first.intent:
                check.add(
                    ex.path,
                    ex.line,
                    f"例文「{ex.text}」はインテント「{first.intent}」（{rel(first.path, check.root)}:{first.line}）にもあり、矛盾しています。"
                    "同じ文が 2 つの意味を持つとボットが迷うので、どちらか一方に残してください。",
                )
            else:
                check.add(
                    ex.path,
                    ex.line,
                    f"例文「{ex.text}」が重複しています（{rel(first.path, check.root)}:{first.line}）。一方を削除してください。",
                )
    counts: dict[str, int] = defaultdict(int)
    header: dict[str, tuple[Path, int]] = {}
    for path in yaml_files(check.root, "data/nlu"):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"^- intent: *(\S+)", text)
            if m:
                header.setdefault(m.group(1), (path, number))
    for ex in training:
        counts[ex.intent] += 1
    faq = set(check.flows)
    for intent in check.intents:
        if intent in BUTTON_ONLY_INTENTS:
            continue
        needed = MIN_EXAMPLES_FAQ if intent in faq else MIN_EXAMPLES_OTHER
        if counts[intent] < needed:
            path, line = header.get(intent) or (check.domain_file, check.domain_line("intents", intent))
            where = "" if intent in header else f"data/nlu/{intent}.yml を作り、"
            check.add(
                path,
                line,
                f"インテント「{intent}」の例文が {counts[intent]} 件しかありません。{where}{needed} 件以上にしてください"
                f"（{'FAQ トピック' if intent in faq else 'このインテント'}の目安。利用者が書きそうないろいろな言い方を足してください）。",
            )
    for intent in counts:
        if intent not in check.intents:
            ex = next(e for e in training if e.intent == intent)
            check.add(
                ex.path,
                ex.line,
                f"インテント「{intent}」が domain.yml の intents にありません。domain.yml に追加するか、名前の綴りを確認してください。",
            )
    held_out(check, by_text, faq)


def held_out(check: Check, by_text: dict[str, list[Example]], faq: set[str]) -> None:
    if not check.test_nlu_file.exists():
        return
    test_files = [f for f in (check.test_nlu_file, check.tuning_nlu_file) if f.exists()]
    found, problems = read_examples(test_files, check.root)
    check.problems += problems
    count: dict[str, int] = defaultdict(int)
    in_test: dict[str, Example] = {}
    for ex in found:
        if ex.path == check.test_nlu_file:
            count[ex.intent] += 1
        if ex.intent not in check.intents and count[ex.intent] <= 1:
            check.add(ex.path, ex.line, f"インテント「{ex.intent}」が domain.yml の intents にありません。綴りを確認してください。")
        for twin in by_text.get(normalized(ex.text), []):
            check.add(
                ex.path,
                ex.line,
                f"テスト用の例文「{ex.text}」が学習データ（{rel(twin.path, check.root)}:{twin.line}）と同じです。テストが甘くなるので、テスト側を別の言い方にしてください。",
            )
        twin = in_test.setdefault(normalized(ex.text), ex)
        if twin is not ex and twin.path != ex.path:
            check.add(
                ex.path,
                ex.line,
                f"テスト用の例文「{ex.text}」が {rel(twin.path, check.root)}:{twin.line} にもあります。調整用と測定用は別の文にしてください。",
            )
    end = len(check.test_nlu_file.read_text(encoding="utf-8").splitlines())
    for intent in sorted(faq):
        if count[intent] < MIN_HELD_OUT_FAQ:
            check.add(
                check.test_nlu_file,
                end,
                f"FAQ トピック「{intent}」のテスト用の例文が {count[intent]} 件です。学習データにない言い方を {MIN_HELD_OUT_FAQ} 件以上、"
                f"このファイルの「- intent: {intent}」の下に書いてください（認識の精度をこれで測ります）。",
            )
