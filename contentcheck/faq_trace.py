"""Traces every text the flows quote to the FAQ, and every FAQ sentence to a flow.

content/faq/login.txt is the FAQ as published; content/flows.yml quotes it in the
fields listed in FAQ_FIELDS (the editors' own words live in other fields). Texts
are compared after NFKC and with all white space removed, so line breaks and
full/half width do not matter.

- `misquoted`: quoted texts that do not stand in the FAQ, each with the closest FAQ
  sentence and the characters that differ;
- `uncovered`: FAQ sentences no flow uses and content/faq/not_quoted.yml does not
  explain.

`make check` fails on either (contentcheck/flows.py); after an FAQ update,
`python -m contentcheck.faq_trace` (`make faq-report`) writes reports/faq/index.md, flow by
flow and node by node, for the editors.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.content import Flow, parse_flows
from usertext import squash

ROOT = Path(__file__).resolve().parent.parent
FAQ_DIR = Path("content") / "faq"
FAQ_FILE = FAQ_DIR / "login.txt"
NOT_QUOTED_FILE = FAQ_DIR / "not_quoted.yml"
REPORT_DIR = Path("reports") / "faq"

# The fields of content/flows.yml that quote the FAQ, by node type; "question" is the flow's.
FAQ_FIELDS = {"message": ("text",), "procedure": ("intro", "steps", "notes", "references"), "form": ("text",)}
SENTENCE_END = re.compile(r"(?<=。)|\n|(?=※)")  # the FAQ page runs some paragraphs together before a ※ note
STEP_MARKER = re.compile(r"^[\u2460-\u2473]\s*")  # ①..⑳: the bot numbers procedure steps itself
NOT_SENTENCES = {"-", "ログイン"}  # the page's heading and separators


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int
    question: bool  # a 「Q.」 line, quoted by a flow's `question`


@dataclass(frozen=True)
class Quote:
    flow: str
    node: str | None  # None: the flow's question
    field: str
    text: str
    line: int


@dataclass(frozen=True)
class Misquote:
    quote: Quote
    closest: Sentence | None
    differs: str  # the quote's characters that are not in the closest sentence, and what stands there instead


def faq_sentences(text: str) -> list[Sentence]:
    """The FAQ's sentences with their line, answers split at 「。」 and line breaks."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        question = line.startswith("Q.")
        body = re.sub(r"^(Q\.|A\.)\s*", "", line)
        for part in SENTENCE_END.split(body):
            part = STEP_MARKER.sub("", part.strip().rstrip("-").strip())
            if part and part not in NOT_SENTENCES:
                out.append(Sentence(part, number, question))
    return out


def quotes(flows: dict[str, Flow]) -> list[Quote]:
    """Every text the flows show as the FAQ's words, in file order."""
    out = []
    for flow in flows.values():
        if flow.question:
            out.append(Quote(flow.id, None, "question", flow.question, flow.line))
        for node in flow.nodes.values():
            for name in FAQ_FIELDS.get(node.type, ()):
                out += [Quote(flow.id, node.id, name, text, node.line) for text in getattr(node, name)]
    return out


def _differs(quote: str, sentence: str) -> str:
    """The quote's differing characters against the sentence: 「x」→「y」 pairs."""
    pairs = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, quote, sentence, autojunk=False).get_opcodes():
        if tag != "equal":
            pairs.append(f"「{quote[i1:i2] or '（なし）'}」→「{sentence[j1:j2] or '（なし）'}」")
    return "、".join(pairs[:5])


def closest(text: str, sentences: list[Sentence]) -> Sentence | None:
    """The FAQ sentence, or two running ones (a quote often spans both), most like the text."""
    target = squash(text)
    spans = sentences + [Sentence(a.text + b.text, a.line, a.question) for a, b in zip(sentences, sentences[1:], strict=False)]
    scored = [(difflib.SequenceMatcher(None, target, squash(s.text), autojunk=False).ratio(), s) for s in spans]
    return max(scored, key=lambda x: x[0])[1] if scored else None


def misquoted(flows: dict[str, Flow], faq_text: str) -> list[Misquote]:
    whole = squash(faq_text)
    sentences = faq_sentences(faq_text)
    out = []
    for quote in quotes(flows):
        if squash(quote.text) in whole:
            continue
        near = closest(quote.text, sentences)
        out.append(Misquote(quote, near, _differs(squash(quote.text), squash(near.text)) if near else ""))
    return out


def not_quoted(path: Path) -> dict[str, str]:
    """FAQ sentences deliberately not quoted → why (content/faq/not_quoted.yml)."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {squash(str(item["text"])): str(item.get("reason") or "") for item in raw.get("sentences") or []}


def uncovered(flows: dict[str, Flow], faq_text: str, exceptions: dict[str, str]) -> list[Sentence]:
    """FAQ sentences that no flow quotes (a sentence may run across two quoted texts of one flow)."""
    by_flow: dict[str, str] = {}
    for quote in quotes(flows):
        by_flow[quote.flow] = by_flow.get(quote.flow, "") + squash(quote.text)
    used = list(by_flow.values())
    return [s for s in faq_sentences(faq_text) if squash(s.text) not in exceptions and not any(squash(s.text) in u for u in used)]


# --- the report for an FAQ update -------------------------------------------------------------------


def report(root: Path) -> tuple[str, int]:
    """Markdown for editors: per flow and node, the quotes no longer in the FAQ; then
    the FAQ sentences no flow uses yet. Returns the text and the number of findings."""
    flows = parse_flows(root / "content" / "flows.yml")
    faq_text = (root / FAQ_FILE).read_text(encoding="utf-8")
    source = yaml.safe_load((root / FAQ_DIR / "source.yml").read_text(encoding="utf-8")) if (root / FAQ_DIR / "source.yml").exists() else {}
    stale = misquoted(flows, faq_text)
    new = uncovered(flows, faq_text, not_quoted(root / NOT_QUOTED_FILE))
    lines = [
        "# FAQ と案内フローの照合",
        "",
        f"FAQ: `{FAQ_FILE}`（{source.get('title', '')}、取得日 {source.get('taken_on', '不明')}）。フロー: `content/flows.yml`。",
        "",
        f"## FAQ にない引用（{len(stale)} 件）",
        "",
        "フローが FAQ の言葉として表示している文のうち、いまの FAQ に見つからないものです。FAQ の新しい文に合わせて直してください。",
        "",
    ]
    current = None
    for m in stale:
        if m.quote.flow != current:
            current = m.quote.flow
            lines += [f"### フロー「{current}」（{flows[current].title}）", ""]
        where = f"ノード「{m.quote.node}」の {m.quote.field}" if m.quote.node else "question"
        lines += [
            f"- content/flows.yml:{m.quote.line} {where}",
            f"  - フローの文: {m.quote.text}",
            f"  - いちばん近い FAQ の文（{FAQ_FILE}:{m.closest.line if m.closest else '-'}）: {m.closest.text if m.closest else 'なし'}",
            f"  - 違い: {m.differs}",
        ]
    lines += ["", f"## どのフローにも使われていない FAQ の文（{len(new)} 件）", ""]
    lines += [
        "新しく加わった文か、案内から漏れている文です。フローに加えるか、使わない理由を `content/faq/not_quoted.yml` に書いてください。",
        "",
    ]
    lines += [f"- {FAQ_FILE}:{s.line}: {s.text}" for s in new]
    return "\n".join(lines) + "\n", len(stale) + len(new)


def summary_counts(root: Path = ROOT) -> dict[str, Any]:
    """Counts for notes and tests: quoted texts, FAQ sentences covered, listed exceptions."""
    flows = parse_flows(root / "content" / "flows.yml")
    faq_text = (root / FAQ_FILE).read_text(encoding="utf-8")
    exceptions = not_quoted(root / NOT_QUOTED_FILE)
    sentences = faq_sentences(faq_text)
    missing = uncovered(flows, faq_text, exceptions)
    return {
        "quoted_texts": len(quotes(flows)),
        "misquoted": len(misquoted(flows, faq_text)),
        "faq_sentences": len(sentences),
        "covered": len(sentences) - len(missing) - sum(squash(s.text) in exceptions for s in sentences),
        "exceptions": len(exceptions),
        "uncovered": len(missing),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="FAQ と案内フローを照合し、reports/faq/index.md を書きます。")
    ap.add_argument("--root", type=Path, default=ROOT, help="プロジェクトのフォルダ（既定: このプロジェクト）")
    args = ap.parse_args(argv)
    text, findings = report(args.root)
    out = args.root / REPORT_DIR / "index.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"FAQ との照合: {findings} 件の要確認。レポート: {out}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
