"""Turns a reviewed user message into a training example of the right intent.

    python -m tools.add_example --intent login_failed "パスワードを入れても先に進めない"
    python -m tools.add_example --csv reports/insights/unanswered.csv

The sentence is appended to that intent's `examples: |` block in data/nlu/ (the file
that already holds the intent, or a new data/nlu/<intent>.yml), keeping the block
format editors know. Refused, with the reason in Japanese: unknown intents, a sentence
already in the training data (for any intent) or in the held-out tests/test_nlu.yml,
masked personal values (＊＊＊), several lines. With --csv, rows whose 追加先インテント
column is filled are added (the insight report writes that column empty).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from actions.responses import BUTTON_ONLY_INTENTS
from contentcheck.examples import normalized, read_examples
from contentcheck.files import ROOT, rel

MASK = "＊＊＊"
CSV_INTENT = ("追加先インテント", "intent")
CSV_TEXT = ("代表的な文", "text")


@dataclass
class Result:
    ok: bool
    message: str


def domain_intents(root: Path) -> list[str]:
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8")) or {}
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in domain.get("intents") or []]


def block_of(root: Path, intent: str) -> tuple[Path, int] | None:
    """(file, index of the line after which to insert) for the intent's examples block."""
    files = sorted((root / "data" / "nlu").glob("*.yml"))
    preferred = root / "data" / "nlu" / f"{intent}.yml"
    for path in ([preferred] if preferred in files else []) + [p for p in files if p != preferred]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.match(rf"^- intent: *{re.escape(intent)}\s*$", line):
                last = None
                in_examples = False
                for j in range(i + 1, len(lines)):
                    if re.match(r"^\S", lines[j]):  # the next top-level item
                        break
                    if re.match(r"^\s+examples:\s*\|", lines[j]):
                        in_examples = True
                    elif in_examples and re.match(r"^\s+- ", lines[j]):
                        last = j
                if last is not None:
                    return path, last
    return None


def add(root: Path, intent: str, text: str, dry_run: bool = False) -> Result:
    """Adds one example; the Result says what happened, in Japanese."""
    text = (text or "").strip()
    if not text:
        return Result(False, "文が空です。")
    if "\n" in text or "\r" in text:
        return Result(False, f"「{text}」は複数行です。例文は 1 行に 1 文です。")
    if MASK in text:
        return Result(False, f"「{text}」には個人の情報を伏せた「{MASK}」が含まれます。一般的な言葉に書き換えてから追加してください。")
    intents = domain_intents(root)
    if intent not in intents:
        return Result(False, f"インテント「{intent}」は domain.yml の intents にありません。綴りを確認してください。")
    if intent in BUTTON_ONLY_INTENTS:
        return Result(False, f"インテント「{intent}」はボタン専用で、例文を持ちません。")
    key = normalized(text)
    training, _ = read_examples(sorted((root / "data" / "nlu").glob("*.yml")), root)
    for ex in training:
        if normalized(ex.text) == key:
            if ex.intent == intent:
                return Result(False, f"「{text}」は既に {rel(ex.path, root)}:{ex.line} にあります。")
            return Result(
                False,
                f"「{text}」はインテント「{ex.intent}」の例文として {rel(ex.path, root)}:{ex.line} にあります。どちらが正しいか確認してください。",
            )
    test_files = [root / "tests" / name for name in ("test_nlu.yml", "nlu_tuning.yml")]
    held_out, _ = read_examples([f for f in test_files if f.exists()], root)
    for ex in held_out:
        if normalized(ex.text) == key:
            return Result(
                False,
                f"「{text}」はテスト用の例文（{rel(ex.path, root)}:{ex.line}）にあります。学習に使うとテストが甘くなるので追加しません。",
            )
    found = block_of(root, intent)
    if found:
        path, after = found
        lines = path.read_text(encoding="utf-8").splitlines()
        indent = re.match(r"^(\s+- )", lines[after]).group(1)
        lines.insert(after + 1, f"{indent}{text}")
        line = after + 2
        new_text = "\n".join(lines) + "\n"
    else:
        path = root / "data" / "nlu" / f"{intent}.yml"
        new_text = f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - {text}\n'
        line = 5
    if not _reads_back(new_text, intent, text):
        return Result(False, f"「{text}」を YAML として正しく追加できませんでした。手で {rel(path, root)} に追加してください。")
    if not dry_run:
        path.write_text(new_text, encoding="utf-8")
    verb = "追加します（--dry-run のため書き込みません）" if dry_run else "追加しました"
    return Result(True, f"{rel(path, root)}:{line} にインテント「{intent}」の例文「{text}」を{verb}。")


def _reads_back(yaml_text: str, intent: str, text: str) -> bool:
    """The new file still loads and the block holds the sentence as written."""
    try:
        data = yaml.safe_load(yaml_text) or {}
    except yaml.YAMLError:
        return False
    for item in data.get("nlu") or []:
        if item.get("intent") == intent:
            examples = [line[2:].strip() for line in str(item.get("examples") or "").splitlines() if line.startswith("- ")]
            if text in examples:
                return True
    return False


def rows_from_csv(path: Path) -> list[tuple[str, str]]:
    """(intent, text) for each row with an intent filled in.

    UTF-8 (with or without the BOM the report writes), or Shift_JIS: what Excel on
    Japanese Windows saves a plain "CSV" as.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp932")
    with io.StringIO(text, newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        intent_col = next((c for c in CSV_INTENT if c in columns), None)
        text_col = next((c for c in CSV_TEXT if c in columns), None)
        if not intent_col or not text_col:
            raise ValueError(f"{path} に「{CSV_INTENT[0]}」と「{CSV_TEXT[0]}」の列が必要です。")
        return [(row[intent_col].strip(), row[text_col]) for row in reader if (row.get(intent_col) or "").strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.add_example", description="確認済みの利用者の文を、インテントの例文に追加します。"
    )
    parser.add_argument("text", nargs="?", help="追加する文（--intent と一緒に）")
    parser.add_argument("--intent", help="追加先のインテント（例: login_failed）")
    parser.add_argument("--csv", type=Path, help="インサイトレポートの unanswered.csv（「追加先インテント」を書き込んだもの）")
    parser.add_argument("--root", type=Path, default=ROOT, help="プロジェクトのフォルダ（既定: このプロジェクト）")
    parser.add_argument("--dry-run", action="store_true", help="書き込まずに結果だけ表示する")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.csv:
        try:
            rows = rows_from_csv(args.csv)
        except (OSError, ValueError) as exc:
            print(exc)
            return 1
        if not rows:
            print(f"{args.csv} に「{CSV_INTENT[0]}」が書き込まれた行がありません。")
            return 1
    elif args.intent and args.text:
        rows = [(args.intent, args.text)]
    else:
        parser.print_usage()
        print("--intent と文、または --csv を指定してください。")
        return 2
    results = [add(args.root, intent, text, args.dry_run) for intent, text in rows]
    for result in results:
        print(("追加: " if result.ok else "追加しません: ") + result.message)
    if any(r.ok for r in results) and not args.dry_run:
        print("このあと make check と make test を実行してください（例文の変更は学習し直すと反映されます）。")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
