"""The FAQ as the source of truth (contentcheck/faq_trace.py and `make check`): a copy of the
project is broken in each way an FAQ update or an editor's slip would break it."""

from __future__ import annotations

from pathlib import Path

from contentcheck import faq_trace
from contentcheck.check import run

FAQ = Path("content") / "faq" / "login.txt"


def problems(root: Path) -> list[str]:
    return [str(p) for p in run(root, rasa=False)]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_the_real_content_quotes_the_faq_and_covers_it():
    counts = faq_trace.summary_counts()
    assert counts["misquoted"] == 0 and counts["uncovered"] == 0
    assert counts["covered"] + counts["exceptions"] == counts["faq_sentences"]


def test_a_changed_character_in_a_step_is_reported_with_the_closest_faq_sentence(project):
    flows = project / "content" / "flows.yml"
    replace(
        flows,
        '"「2要素認証・追加認証設定解除内容確認」画面が表示されます。「解除」をクリックしてください。"',
        '"「2要素認証・追加認証設定解除内容確認」画面が表示されます。「解除」を押してください。"',
    )
    found = [p for p in problems(project) if "が FAQ（content/faq/login.txt）にありません" in p]
    assert len(found) == 1, found
    line = line_of(flows, "      reset_additional_auth:")
    assert found[0].startswith(
        f"content/flows.yml:{line}: フロー「secret_question_forgotten」のノード「reset_additional_auth」の steps の文「"
    )
    assert (
        f"（content/faq/login.txt:{line_of(project / FAQ, '⑥ 「2要素認証・追加認証設定解除内容確認」画面が表示されます。')}）" in found[0]
    )
    assert "違いは 「押」→「クリック」 です" in found[0]  # the differing characters


def test_a_removed_faq_sentence_breaks_the_quotes_that_used_it(project):
    replace(project / FAQ, "一時的にアカウントがロックされていますので、30分以上経過したあとにログインを行ってください。", "")
    found = [p for p in problems(project) if "にありません" in p and "account_locked" in p]
    assert found and "ノード「temporary_lock」の text の文「一時的にアカウントがロックされていますので" in found[0]


def test_a_new_faq_paragraph_is_reported_until_a_flow_uses_it_or_a_reason_is_given(project):
    new = "なお、ロック解除後は、パスワードの再設定をおすすめします。"
    replace(project / FAQ, "30分以上経過したあとにログインを行ってください。", f"30分以上経過したあとにログインを行ってください。\n{new}")
    found = [p for p in problems(project) if new in p]
    assert found == [
        f"content/faq/login.txt:{line_of(project / FAQ, new)}: FAQ の文「{new}」がどのフローにも使われていません。"
        "content/flows.yml のフローに加えるか、使わない理由を content/faq/not_quoted.yml に書いてください。"
    ]
    exceptions = project / "content" / "faq" / "not_quoted.yml"
    exceptions.write_text(exceptions.read_text(encoding="utf-8") + f'  - text: "{new}"\n    reason: "試験"\n', encoding="utf-8")
    assert not [p for p in problems(project) if new in p]


def test_an_exception_the_faq_no_longer_has_is_reported(project):
    heading = "【GビズIDにて、GビズIDアカウント[旧]を削除済みの場合】"
    replace(project / FAQ, heading, "")
    exceptions = project / "content" / "faq" / "not_quoted.yml"
    assert (
        f"content/faq/not_quoted.yml:{line_of(exceptions, heading)}: この文は FAQ にもうありません。この項目を削除してください。"
        in problems(project)
    )


def test_editor_written_fields_are_not_checked_against_the_faq(project):
    replace(
        project / "content" / "flows.yml", 'ask: "e-Govアカウントは登録済みですか？"', 'ask: "e-Govアカウントはもう登録されていますか？"'
    )
    assert problems(project) == []


def test_the_update_report_lists_stale_quotes_per_flow_and_node_and_new_sentences(project):
    replace(project / FAQ, "30分以上経過したあとに", "1時間以上経過したあとに")
    replace(
        project / FAQ,
        "パスワードを複数回間違って入力された場合に表示されます。",
        "パスワードを複数回間違って入力された場合に表示されます。\n新しい注意書きです。",
    )
    assert faq_trace.main(["--root", str(project)]) == 1
    report = (project / "reports" / "faq" / "index.md").read_text(encoding="utf-8")
    assert "### フロー「account_locked」" in report and "ノード「temporary_lock」の text" in report
    assert "「30分」→「1時間」" in report
    assert f"- content/faq/login.txt:{line_of(project / FAQ, '新しい注意書きです。')}: 新しい注意書きです。" in report
