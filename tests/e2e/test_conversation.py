"""Conversations through the REST channel with real Rasa and action servers."""

from __future__ import annotations

import uuid

import pytest

from actions.content import load_flows

FLOWS = load_flows()


def first_node_text(flow_id: str) -> str:
    """The words the flow's first node shows, straight from content/flows.yml."""
    flow = FLOWS[flow_id]
    node = flow.nodes[flow.start]
    if node.type == "procedure":
        return node.steps[0]
    if node.type == "choice":
        return node.ask
    return node.text[0]


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


# One natural question per FAQ topic, none of them in the training data.
QUESTIONS = {
    "login_failed": "ログインしようとするとメールアドレスまたはパスワードに誤りがあると言われてしまう",
    "account_locked": "ログイン画面でアカウントロック中ですと表示されて入れません",
    "unlock_account": "アカウントロックを解除してもらうにはどこに連絡すればいいですか",
    "secret_question_forgotten": "追加認証の秘密の質問の答えを思い出せません",
    "phone_changed": "スマホを買い替えたらワンタイムコードが見られなくなりました",
    "gbizid_duplicate_email": "GビズIDでログインすると同一メールアドレスを使用中の利用者情報が存在しますと出ます",
    "gbizid_http500": "GビズIDでログインした後にHTTP500内部サーバーエラーの画面が出る",
    "email_case_sensitivity": "メールアドレスの大文字と小文字は区別されるのでしょうか",
    "egov_account_login_after_gbizid": "e-Govアカウントと同じメールアドレスをGビズIDにも設定したら、e-Govアカウントでログインできなくなりました",
    "gbizid_email_change_system_error": "GビズIDでメールアドレスを変更してからe-Govにログインしたらシステムエラーが発生しましたと出る",
}


@pytest.mark.parametrize("flow_id", sorted(QUESTIONS))
def test_each_faq_question_gets_its_answer(servers, flow_id):
    texts = servers.texts(sender(), QUESTIONS[flow_id])
    assert any(first_node_text(flow_id) in t for t in texts), texts


def test_secret_question_walkthrough_word_for_word(servers):
    me = sender()
    flow = FLOWS["secret_question_forgotten"]
    node = flow.nodes[flow.start]
    replies = servers.talk(me, "秘密の質問と答えがわからなくなった")
    assert f"手順 1/7\n{node.steps[0]}" in [r.get("text") for r in replies]
    assert [b["title"] for b in replies[-1]["buttons"]][0] == "できました（次へ）"
    for n in range(2, 8):
        assert f"手順 {n}/7\n{node.steps[n - 1]}" in servers.texts(me, "/guide_next")
    assert servers.texts(me, "戻って") == [f"手順 6/7\n{node.steps[5]}"]
    end = servers.texts(me, "/guide_all")[0]
    assert all(step in end for step in node.steps)
    finish = servers.texts(me, "/guide_next")
    assert finish[-1] == "解決しましたか？" and any(node.notes[-1] in t for t in finish)
    handoff = servers.texts(me, "いいえ")
    assert "問い合わせフォーム" in handoff[0] and "e-Gov利用者サポートデスク" in handoff[0]


def test_interruption_then_resume_at_same_step(servers):
    me = sender()
    servers.talk(me, "機種変更でワンタイムコードが確認できない")
    servers.talk(me, "/guide_next")
    answer = servers.texts(me, "ありがとうございます")
    assert answer[-1].startswith("「") and "2/7" in answer[-1]
    step = FLOWS["phone_changed"].nodes[FLOWS["phone_changed"].start].steps[1]
    assert servers.texts(me, "/guide_resume") == [f"手順 2/7\n{step}"]


def test_branch_choice_by_button_and_by_entity(servers):
    me = sender()
    replies = servers.talk(me, QUESTIONS["gbizid_http500"])
    buttons = replies[-1]["buttons"]
    assert len(buttons) >= 3
    texts = servers.texts(me, "Microsoftアカウントです")
    assert any("Microsoftアカウント又はGoogleアカウント側のメールアドレスが変更可能である場合" in t for t in texts)


@pytest.mark.parametrize(
    "message",
    ["", "   ", "あ" * 10_000, "😀😀😀", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"],
    ids=["empty", "whitespace", "10000-chars", "emoji", "script", "img-onerror"],
)
def test_bad_input_gets_an_answer_and_server_stays_up(servers, message):
    me = sender()
    replies = servers.talk(me, message)
    assert replies and all(r.get("text") for r in replies)
    # The same conversation still works afterwards.
    assert any(first_node_text("phone_changed") in t for t in servers.texts(me, QUESTIONS["phone_changed"]))
