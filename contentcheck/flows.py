"""3. Flows: content/flows.yml loads (its own checks: every node, branch and flow
referenced exists and is reachable); each flow has its intent and a rule that starts
it; each intent a rule hands to the guide has a flow or is one the code handles; every
way to type an option reads as that option; every quoted text stands in the FAQ and
every FAQ sentence is used or explained."""

from __future__ import annotations

from actions import responses as declared
from actions.content import ContentError, parse_flows
from contentcheck import faq_trace
from contentcheck.files import find_line, load, yaml_files
from contentcheck.project import Check
from usertext import squash


def check_flows(check: Check) -> None:
    try:
        check.flows = parse_flows(check.flows_file)
    except ContentError as exc:
        for problem in exc.problems:  # the loader names the file by its name alone
            check.add(check.flows_file, problem.line or 1, problem.message)
        return
    flows_for_rules(check)
    option_examples(check)
    starters = rule_starts(check)
    for flow in check.flows.values():
        if flow.id not in check.intents:
            check.add(
                check.flows_file,
                flow.line,
                f"フロー「{flow.id}」と同じ名前のインテントが domain.yml の intents にありません。domain.yml の intents に「- {flow.id}」を追加してください。",
            )
        if flow.id not in starters:
            check.add(
                check.flows_file,
                flow.line,
                f"フロー「{flow.id}」を始めるルールが data/rules/ にありません。data/rules/guide.yml の、ほかの FAQ トピックのルール"
                f"（- rule: … → its guided flow の 2 行）をコピーして、2 か所のインテント名を {flow.id} に変えてください。",
            )


def option_examples(check: Check) -> None:
    """Every way to type an option (its label, its examples) must be read as that option."""
    from actions.answers import load_vocabulary, option_choices, read

    answers_file = check.root / "content" / "answers.yml"
    if not answers_file.exists():
        return
    vocab = load_vocabulary(answers_file)
    for flow in check.flows.values():
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
                    check.add(
                        check.flows_file,
                        node.line,
                        f"フロー「{flow.id}」の質問「{node.ask}」で、選択肢「{option.label}」の言い方「{text}」が{got}。"
                        "ほかの選択肢の examples と似ていないか確認し、より具体的な言い方にしてください。",
                    )


def faq(check: Check) -> None:
    """Every quoted text stands in the FAQ; every FAQ sentence is used or explained."""
    faq_file = check.root / faq_trace.FAQ_FILE
    if not check.flows or not faq_file.exists():
        return
    faq_text = faq_file.read_text(encoding="utf-8")
    for m in faq_trace.misquoted(check.flows, faq_text):
        q = m.quote
        where = f"フロー「{q.flow}」" + (f"のノード「{q.node}」の {q.field} " if q.node else "の question ")
        near = (
            f"いちばん近い FAQ の文（{faq_trace.FAQ_FILE}:{m.closest.line}）は「{m.closest.text}」で、違いは {m.differs} です。"
            if m.closest
            else ""
        )
        check.add(
            check.flows_file,
            q.line,
            f"{where}の文「{q.text}」が FAQ（{faq_trace.FAQ_FILE}）にありません。{near}"
            "FAQ の文言のとおりに直してください（編集者の言葉なら、title・summary・ask・label のどれかに書きます）。",
        )
    exceptions_file = check.root / faq_trace.NOT_QUOTED_FILE
    exceptions = faq_trace.not_quoted(exceptions_file)
    for sentence in faq_trace.uncovered(check.flows, faq_text, exceptions):
        check.add(
            faq_file,
            sentence.line,
            f"FAQ の文「{sentence.text}」がどのフローにも使われていません。content/flows.yml のフローに加えるか、"
            f"使わない理由を {faq_trace.NOT_QUOTED_FILE} に書いてください。",
        )
    whole = squash(faq_text)
    for text in exceptions:
        if text not in whole:
            rows = exceptions_file.read_text(encoding="utf-8").splitlines()
            line = next((i for i, row in enumerate(rows, 1) if text in squash(row)), 1)
            check.add(exceptions_file, line, "この文は FAQ にもうありません。この項目を削除してください。")


def flows_for_rules(check: Check) -> None:
    """An intent a rule hands to action_guide must be a flow, or one the code handles (次へ, はい…: actions/responses.py)."""
    for intent in sorted(rule_starts(check) - set(check.flows) - declared.GUIDE_INTENTS):
        where = find_line(intent, yaml_files(check.root, "data/rules"))
        if where:
            check.add(
                *where,
                f"インテント「{intent}」はルールで案内フロー（action_guide）に渡されますが、content/flows.yml にフロー「{intent}」がありません。"
                "content/flows.yml にフローを追加してください（編集者ガイド 4 節 ③）。",
            )


def rule_starts(check: Check) -> set[str]:
    """Intents some rule answers with action_guide right away."""
    started = set()
    for path in yaml_files(check.root, "data/rules"):
        for rule in (load(path) or {}).get("rules") or []:
            steps = (rule or {}).get("steps") or []
            for first, second in zip(steps, steps[1:], strict=False):
                if isinstance(first, dict) and isinstance(second, dict) and second.get("action") == "action_guide" and "intent" in first:
                    started.add(first["intent"])
    return started
