"""4. References: every intent, action and form that rules and stories name exists.
7. Test stories: one for every intent."""

from __future__ import annotations

import yaml

from contentcheck.files import compose, pairs, yaml_files
from contentcheck.project import Check

BUILTIN_INTENTS = {"nlu_fallback", "restart", "session_start", "back", "out_of_scope"}


def references(check: Check) -> None:
    from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

    intents = set(check.intents) | BUILTIN_INTENTS
    forms = set(check.domain.get("forms") or {})
    actions = set(check.domain.get("actions") or []) | set(check.responses) | forms | set(DEFAULT_ACTION_NAMES)
    for path in yaml_files(check.root, "data/rules", "data/stories") + [check.stories_file]:
        if not path.exists():
            continue
        for key, value, line in pairs(compose(path)):
            if not isinstance(value, yaml.ScalarNode) or value.value in (None, "", "null"):
                continue
            name = str(value.value)
            if key == "intent" and name not in intents:
                check.add(
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
                check.add(path, line, f"アクション「{name}」がありません。{hint}")
            elif key == "active_loop" and name not in actions:
                check.add(path, line, f"フォーム「{name}」は domain.yml の forms にありません。綴りを確認してください。")


def stories_cover_intents(check: Check) -> None:
    if not check.stories_file.exists():
        check.add("tests/test_stories.yml", 1, "テストストーリーのファイルがありません。")
        return
    tested = {str(v.value) for k, v, _ in pairs(compose(check.stories_file)) if k == "intent" and isinstance(v, yaml.ScalarNode)}
    end = len(check.stories_file.read_text(encoding="utf-8").splitlines())
    for intent in check.intents:
        if intent not in tested:
            check.add(
                check.stories_file,
                end,
                f"インテント「{intent}」（domain.yml:{check.domain_line('intents', intent)}）のテストストーリーがありません。"
                "このファイルの最後に、このインテントの文を送る会話（- story: …）を追加してください。",
            )
