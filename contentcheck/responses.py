"""5. Responses: every response is used and has a text; every response and intent the
code declares it uses (actions/responses.py) exists; the {variables} the code fills
in are kept and no other is used; button payloads name real intents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from actions import responses as declared
from contentcheck.files import ROOT, compose, pairs, rel, top_level_lines, yaml_files
from contentcheck.project import Check
from contentcheck.rules import BUILTIN_INTENTS

DECLARATIONS = rel(Path(declared.__file__), ROOT)  # where a problem with a declaration points
BUILTIN_RESPONSES = {"utter_default", "utter_ask_rephrase"}  # sent by Rasa's fallback actions
VARIABLE = re.compile(r"\{(\w+)\}")


def form_question_responses(domain: dict) -> set[str]:
    """utter_ask_<slot> responses: Rasa's forms send them when they request a slot."""
    slots = set(domain.get("slots") or {})
    return {name for name in domain.get("responses") or {} if name.startswith("utter_ask_") and name[len("utter_ask_") :] in slots}


def used_by_code(domain: dict) -> set[str]:
    """Responses no rule names that are used all the same: by the code, a form's question, or Rasa itself."""
    return set(declared.RESPONSES) | form_question_responses(domain) | BUILTIN_RESPONSES


def check_responses(check: Check) -> None:
    used: set[str] = set()
    for path in yaml_files(check.root, "data/rules", "data/stories"):
        used |= {str(v.value) for k, v, _ in pairs(compose(path)) if k == "action" and isinstance(v, yaml.ScalarNode)}
    line_of = top_level_lines(check.domain_node, "responses")
    for name in check.responses:
        if name not in used | used_by_code(check.domain):
            check.add(
                check.domain_file,
                line_of.get(name, 1),
                f"応答「{name}」はどのルール・ストーリー・アクションからも使われていません。"
                "不要なら削除し、必要なら data/rules/ のルールの steps に「{action: "
                f"{name}}}」を追加してください。",
            )
        for variant in check.responses[name] or []:
            if not str((variant or {}).get("text") or "").strip():
                check.add(
                    check.domain_file, line_of.get(name, 1), f"応答「{name}」の text が空です。利用者に表示する文章を書いてください。"
                )
    for name in sorted(set(declared.RESPONSES) - set(check.responses)):
        check.add(
            DECLARATIONS,
            declared.RESPONSES[name].line,
            f"プログラムが応答「{name}」を使いますが、domain.yml の responses にありません。domain.yml の responses に同じ名前で応答を追加してください。",
        )
    for name in sorted(set(declared.INTENTS) - set(check.intents) - BUILTIN_INTENTS):
        check.add(
            DECLARATIONS,
            declared.INTENTS[name],
            f"プログラムがインテント「{name}」を使いますが、domain.yml の intents にありません。domain.yml の intents に「- {name}」を追加してください。",
        )
    variables(check, line_of)
    payloads(check, line_of)


def variables(check: Check, line_of: dict[str, int]) -> None:
    slots = set(check.domain.get("slots") or {})
    for name, variants in check.responses.items():
        known = set(declared.RESPONSES[name].variables) if name in declared.RESPONSES else set()
        for variant in variants or []:
            used = set(VARIABLE.findall(str((variant or {}).get("text") or "")))
            for var in sorted(used - known - slots):
                allowed = "、".join(f"{{{v}}}" for v in sorted(known)) or "なし"
                check.add(
                    check.domain_file,
                    line_of.get(name, 1),
                    f"応答「{name}」の {{{var}}} には値が入りません（このまま {{{var}}} と表示されます）。"
                    f"綴りを確認してください。この応答で使える {{…}} は {allowed} です。",
                )
            for var in sorted(known - used):
                check.add(
                    check.domain_file,
                    line_of.get(name, 1),
                    f"応答「{name}」から {{{var}}} が消えています。{{…}} はプログラムが内容を入れる場所なので、文章を変えるときも残してください。",
                )


def payloads(check: Check, line_of: dict[str, int]) -> None:
    intents = set(check.intents) | BUILTIN_INTENTS
    for name, variants in check.responses.items():
        for variant in variants or []:
            for button in (variant or {}).get("buttons") or []:
                payload = str((button or {}).get("payload") or "")
                m = re.match(r"^/(\w+)", payload)
                if m and m.group(1) not in intents:
                    check.add(
                        check.domain_file,
                        line_of.get(name, 1),
                        f"応答「{name}」のボタン「{button.get('title')}」の payload「{payload}」のインテント「{m.group(1)}」がありません。綴りを確認してください。",
                    )
