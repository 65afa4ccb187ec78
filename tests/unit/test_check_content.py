"""contentcheck/: break a copy of the project in each way an editor might,
and check the message names the file and line and says what to do, in Japanese.

Each case compares with the unbroken copy, so only the problem the edit causes counts.
The messages are also the examples docs/editors_guide.md shows (last test).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from actions.content import Problem
from contentcheck import cli as contentcheck_cli
from contentcheck import project as check_project
from contentcheck.check import run
from contentcheck.project import Check
from contentcheck.rasa_validate import check_rasa
from contentcheck.schema import syntax

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "editors_guide.md"


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """1-based line of the nth line containing text."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(hits) >= nth, f"{text!r} not in {path}"
    return hits[nth - 1]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + text, encoding="utf-8")


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


# --- one case per way of breaking things: (edit, expected "file:line: message" start) ---------


def yaml_syntax(root: Path) -> str:
    path = root / "data" / "nlu" / "login_failed.yml"
    edit(path, "    - パスワード忘れた\n", "    - パスワード忘れた\n   - 字下げがずれた例文\n")
    return f"data/nlu/login_failed.yml:{line_of(path, '字下げがずれた例文')}: YAML の書き方に誤りがあります。"


def duplicate_key(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, "  utter_goodbye:\n", '  utter_greet:\n    - text: "やあ"\n  utter_goodbye:\n')
    return f"domain.yml:{line_of(path, 'utter_greet:', 2)}: 「utter_greet」が同じ場所に 2 回書かれています（{line_of(path, 'utter_greet:')} 行目にもあります）。"


def schema_typo(root: Path) -> str:
    path = root / "data" / "nlu" / "phone_changed.yml"
    edit(path, "  examples: |", "  exmaples: |")
    return f"data/nlu/phone_changed.yml:{line_of(path, '- intent: phone_changed')}: 「exmaples」という項目は使えません"


def flow_unknown_key(root: Path) -> str:
    path = root / "content" / "flows.yml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("        notes:\n", "        note:\n", 1)
    path.write_text(text, encoding="utf-8")
    return f"content/flows.yml:{line_of(path, '        note:')}: フロー「secret_question_forgotten」のノード「reset_additional_auth」の「note」という項目は使えません（綴りの誤りでは？）。"


def flow_missing_node(root: Path) -> str:
    path = root / "content" / "flows.yml"
    edit(path, "            next: check_credentials\n", "            next: check_credential\n")
    return f"content/flows.yml:{line_of(path, '      ask_registered:')}: フロー「login_failed」のノード「ask_registered」 の移動先「check_credential」というノードがありません。"


def flow_without_rule(root: Path) -> str:
    path = root / "data" / "rules" / "guide.yml"
    edit(
        path,
        "{intent: email_case_sensitivity}, {action: action_guide}",
        "{intent: email_case_sensitivity}, {action: utter_support_contact}",
    )
    flows = root / "content" / "flows.yml"
    return f"content/flows.yml:{line_of(flows, '  email_case_sensitivity:')}: フロー「email_case_sensitivity」を始めるルールが data/rules/ にありません。"


def rule_without_flow(root: Path) -> str:
    domain = root / "domain.yml"
    edit(domain, "  # conversation\n", "  - ask_fee\n  # conversation\n")
    rules = root / "data" / "rules" / "guide.yml"
    append(rules, "- rule: fee → its guided flow\n  steps: [{intent: ask_fee}, {action: action_guide}]\n")
    return (
        f"data/rules/guide.yml:{line_of(rules, 'intent: ask_fee')}: インテント「ask_fee」はルールで案内フロー（action_guide）に渡されますが、"
        "content/flows.yml にフロー「ask_fee」がありません。"
    )


def rule_unknown_intent(root: Path) -> str:
    path = root / "data" / "rules" / "guide.yml"
    edit(path, "{intent: gbizid_http500}", "{intent: gbizid_http_500}")
    return f"data/rules/guide.yml:{line_of(path, 'gbizid_http_500')}: インテント「gbizid_http_500」は domain.yml の intents にありません。"


def rule_unknown_response(root: Path) -> str:
    path = root / "data" / "rules" / "conversation.yml"
    edit(path, "{action: utter_goodbye}", "{action: utter_good_bye}")
    return f"data/rules/conversation.yml:{line_of(path, 'utter_good_bye')}: アクション「utter_good_bye」がありません。domain.yml の responses に同じ名前の応答を追加してください。"


def orphan_response(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, "  utter_goodbye:\n", '  utter_see_you:\n    - text: "またね"\n  utter_goodbye:\n')
    return (
        f"domain.yml:{line_of(path, 'utter_see_you:')}: 応答「utter_see_you」はどのルール・ストーリー・アクションからも使われていません。"
    )


def response_missing_for_code(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, "  utter_guide_stopped:\n", "  utter_guide_stoped:\n")
    declared = line_of(root / "actions" / "responses.py", 'response("utter_guide_stopped")')
    return f"actions/responses.py:{declared}: プログラムが応答「utter_guide_stopped」を使いますが、domain.yml の responses にありません。"


def intent_missing_for_code(root: Path) -> str:
    edit(root / "domain.yml", "  - guide_resume\n", "")
    declared = line_of(root / "actions" / "responses.py", 'intent("guide_resume")')
    return f"actions/responses.py:{declared}: プログラムがインテント「guide_resume」を使いますが、domain.yml の intents にありません。"


def form_slots_not_as_declared(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, "applicant_name, identity_choice,", "applicant_name,")
    return f"domain.yml:{line_of(path, '  unlock_request_form:')}: フォーム「unlock_request_form」の required_slots が actions/fields.py の項目と合っていません。"


def field_label_missing(root: Path) -> str:
    path = root / "content" / "requests.yml"
    edit(path, "  agency: 直近で企画・提案で提出した「提出先行政機関」\n", "")
    return f"content/requests.yml:{line_of(path, 'fields:')}: fields: に「agency」がありません。"


def variable_removed(root: Path) -> str:
    path = root / "domain.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  utter_guide_step:\n")
    text = text[:start] + text[start:].replace("{step}/{total}\\n{step_text}", "{step}/{total}", 1)
    path.write_text(text, encoding="utf-8")
    return f"domain.yml:{line_of(path, '  utter_guide_step:')}: 応答「utter_guide_step」から {{step_text}} が消えています。"


def variable_misspelt(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, "{summary}（手順 {step}/{total} でうまくいかない）", "{summary}（手順 {step}/{totl} でうまくいかない）")
    return f"domain.yml:{line_of(path, '  utter_guide_progress:')}: 応答「utter_guide_progress」の {{totl}} には値が入りません（このまま {{totl}} と表示されます）。"


def button_payload_typo(root: Path) -> str:
    path = root / "domain.yml"
    edit(path, 'payload: "/help"', 'payload: "/hlep"')
    return f"domain.yml:{line_of(path, '  utter_default:')}: 応答「utter_default」のボタン「ご案内できることを見る」の payload「/hlep」のインテント「hlep」がありません。"


def duplicate_example(root: Path) -> str:
    path = root / "data" / "nlu" / "login_failed.yml"
    edit(path, "    - パスワード忘れた\n", "    - パスワード忘れた\n    - パスワード忘れた\n")
    first = line_of(path, "    - パスワード忘れた")
    return f"data/nlu/login_failed.yml:{first + 1}: 例文「パスワード忘れた」が重複しています（data/nlu/login_failed.yml:{first}）。"


def conflicting_example(root: Path) -> str:
    path = root / "data" / "nlu" / "account_locked.yml"
    edit(path, "  examples: |\n", "  examples: |\n    - ＰＡＳＳＷＯＲＤ  忘れた\n")
    other = root / "data" / "nlu" / "login_failed.yml"
    edit(other, "    - パスワード忘れた\n", "    - パスワード忘れた\n    - password忘れた\n")
    return (
        f"data/nlu/login_failed.yml:{line_of(other, 'password忘れた')}: 例文「password忘れた」はインテント「account_locked」"
        f"（data/nlu/account_locked.yml:{line_of(path, 'ＰＡＳＳＷＯＲＤ')}）にもあり、矛盾しています。"
    )


def too_few_examples(root: Path) -> str:
    path = root / "data" / "nlu" / "email_case_sensitivity.yml"
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    head = next(i for i, line in enumerate(text) if line.strip().startswith("examples:"))
    kept = text[: head + 1 + 24]  # 24 examples, one under the floor
    path.write_text("".join(kept), encoding="utf-8")
    return f"data/nlu/email_case_sensitivity.yml:{line_of(path, '- intent: email_case_sensitivity')}: インテント「email_case_sensitivity」の例文が 24 件しかありません。"


def held_out_copied(root: Path) -> str:
    path = root / "tests" / "test_nlu.yml"
    edit(path, "- intent: login_failed\n  examples: |\n", "- intent: login_failed\n  examples: |\n    - パスワード忘れた\n")
    nlu = root / "data" / "nlu" / "login_failed.yml"
    return f"tests/test_nlu.yml:{line_of(path, '    - パスワード忘れた')}: テスト用の例文「パスワード忘れた」が学習データ（data/nlu/login_failed.yml:{line_of(nlu, '    - パスワード忘れた')}）と同じです。"


def held_out_missing(root: Path) -> str:
    path = root / "tests" / "test_nlu.yml"
    edit(path, "- intent: gbizid_http500\n", "- intent: gbizid_http500_old\n")
    return f"tests/test_nlu.yml:{lines(path)}: FAQ トピック「gbizid_http500」のテスト用の例文が 0 件です。"


def story_missing(root: Path) -> str:
    path = root / "tests" / "test_stories.yml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"intent: bot_challenge\b", "intent: help", text)
    path.write_text(text, encoding="utf-8")
    domain = root / "domain.yml"
    return f"tests/test_stories.yml:{lines(path)}: インテント「bot_challenge」（domain.yml:{line_of(domain, '  - bot_challenge')}）のテストストーリーがありません。"


def option_example_ambiguous(root: Path) -> str:
    path = root / "content" / "flows.yml"
    edit(path, "ロックされたまま, 相変わらずロックされています,", "ロックされたまま, 相変わらずロックされています, ログインできました,")
    return (
        f"content/flows.yml:{line_of(path, '      ask_still_locked:')}: フロー「account_locked」の質問「30分以上経過したあとにログインしても、"
        "アカウントがロックされたままですか？」で、選択肢「はい、ロックされたままです」の言い方「ログインできました」がほかの選択肢と区別できません。"
    )


CASES: dict[str, Callable[[Path], str]] = {
    "YAML の書き方": yaml_syntax,
    "同じキーが 2 回": duplicate_key,
    "Rasa の書式（スキーマ）": schema_typo,
    "flows.yml の項目名": flow_unknown_key,
    "フローの参照先": flow_missing_node,
    "選択肢の言い方": option_example_ambiguous,
    "フローを始めるルール": flow_without_rule,
    "ルールに対応するフロー": rule_without_flow,
    "ルールのインテント": rule_unknown_intent,
    "ルールの応答": rule_unknown_response,
    "使われていない応答": orphan_response,
    "プログラムが使う応答": response_missing_for_code,
    "プログラムが使うインテント": intent_missing_for_code,
    "フォームの項目（required_slots）": form_slots_not_as_declared,
    "項目の名前（requests.yml）": field_label_missing,
    "{…} の消失": variable_removed,
    "{…} の綴り": variable_misspelt,
    "ボタンの payload": button_payload_typo,
    "例文の重複": duplicate_example,
    "例文の矛盾": conflicting_example,
    "例文が少ない": too_few_examples,
    "テスト用例文と学習データの重複": held_out_copied,
    "テスト用例文が少ない": held_out_missing,
    "テストストーリーがない": story_missing,
}


def new_problems(root: Path, baseline: set[str]) -> list[str]:
    return [str(p) for p in run(root, rasa=False) if str(p) not in baseline]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_mistake_is_reported_with_file_line_and_what_to_do(project, baseline, case):
    expected = CASES[case](project)
    found = new_problems(project, baseline)
    message = next((p for p in found if p.startswith(expected)), None)
    assert message, f"expected: {expected}\nfound:\n" + "\n".join(found)
    # docs/editors_guide.md quotes what the check really prints for this mistake
    first_sentence = message.split(": ", 1)[1].split("。")[0]
    numbers = re.compile(r"\d+")  # line numbers in the guide are from the day it was written
    assert numbers.sub("N", first_sentence) in numbers.sub(
        "N", GUIDE.read_text(encoding="utf-8")
    ), f"docs/editors_guide.md does not quote: {first_sentence}"


def test_unbroken_copy_passes_the_static_checks(baseline):
    assert baseline == set()


def test_rasa_data_validate_warnings_are_translated_with_line(project):
    """An intent no rule answers: only `rasa data validate` notices; the message is Japanese, at the domain line."""
    domain = project / "domain.yml"
    edit(domain, "  # conversation\n", "  - ask_fee\n  # conversation\n")
    examples = "".join(f"    - 手数料{n}円はかかりますか\n" for n in range(10))
    (project / "data" / "nlu" / "ask_fee.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: ask_fee\n  examples: |\n{examples}', encoding="utf-8"
    )
    append(
        project / "tests" / "test_stories.yml",
        "\n- story: fee\n  steps:\n  - user: |\n      手数料はかかりますか\n    intent: ask_fee\n  - action: utter_support_contact\n",
    )
    check = Check(project)  # rasa data validate alone: run() skips it while other problems exist
    assert syntax(check)
    check_rasa(check)
    problems = [str(p) for p in check.problems]
    expected = (
        f"domain.yml:{line_of(domain, '  - ask_fee')}: インテント「ask_fee」はどのルールにも使われていません。"
        "data/rules/ にこのインテントへの応答のルールを追加するか、不要なら domain.yml と data/nlu/ から削除してください。"
    )
    assert expected in problems, problems


def test_command_line_exit_codes_and_output(project, capsys):
    assert contentcheck_cli.main(["--root", str(project), "--no-rasa"]) == 0
    assert "問題はありません" in capsys.readouterr().out
    duplicate_example(project)
    assert contentcheck_cli.main(["--root", str(project), "--no-rasa"]) == 1
    out = capsys.readouterr().out
    assert "件の問題があります" in out and "data/nlu/login_failed.yml:" in out and "make check" in out


def test_root_from_environment(project, monkeypatch):
    duplicate_example(project)
    monkeypatch.setenv(check_project.ROOT_ENV, str(project))
    assert any("重複しています" in str(p) for p in run(rasa=False))


def test_problem_renders_as_file_line_message():
    assert str(Problem("domain.yml", 12, "直してください。")) == "domain.yml:12: 直してください。"
