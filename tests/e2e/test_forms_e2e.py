"""Support-request forms end to end: real servers, REST channel, SQLite tracker store."""

from __future__ import annotations

import sqlite3
import uuid

KEY = "abcDEF1234567890abcdef1234567890XYZ"


def sender() -> str:
    return f"form-{uuid.uuid4().hex[:12]}"


def all_text(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_unlock_request_electronic_application(servers):
    me = sender()
    servers.talk(me, "アカウントのロックを解除してほしいです")
    servers.talk(me, '/inform{"unlock_service":"egov_application"}')
    assert "小文字" in all_text(servers.talk(me, "Taro.Yamada@Example.JP"))
    servers.talk(me, '/inform{"identity_choice":"arrival_number"}')
    assert "あと1つ" in all_text(servers.talk(me, "１２３４５６７８９０１２３４５６７８"))
    too_few = servers.talk(me, '/inform{"identity_choice":"done"}')
    assert "2つ以上" in all_text(too_few)
    servers.talk(me, '/inform{"identity_choice":"procedure_name"}')
    more = servers.talk(me, "雇用保険被保険者資格取得届")
    assert "これで完了" in [b["title"] for b in more[-1].get("buttons", [])]
    summary = all_text(servers.talk(me, '/inform{"identity_choice":"done"}'))
    assert "taro.yamada@example.jp" in summary and "123456789012345678" in summary
    inquiry = all_text(servers.talk(me, "はい"))
    assert "【件名】" in inquiry and "アカウントのロック解除のお願い" in inquiry
    for value in ("電子申請", "taro.yamada@example.jp", "123456789012345678", "雇用保険被保険者資格取得届", "問い合わせフォーム"):
        assert value in inquiry


def test_developer_portal_api_key_never_enters_the_conversation(servers):
    me = sender()
    servers.talk(me, "ロック解除を依頼したいです")
    servers.talk(me, '/inform{"unlock_service":"developer_portal"}')
    servers.talk(me, "dev@example.jp")
    answer = all_text(servers.talk(me, f"APIキーは {KEY} です"))
    assert "APIキー" in answer and KEY not in answer
    servers.talk(me, "SW-0001")
    servers.talk(me, "株式会社テスト")
    inquiry = all_text(servers.talk(me, "はい"))
    assert "ここにAPIキーをご自身で貼り付けてください" in inquiry and KEY not in inquiry
    db = sqlite3.connect(servers.workdir / "tracker.db")
    stored = "\n".join(row[0] for row in db.execute("select data from events"))
    assert KEY not in stored
    assert KEY not in servers.logs()


def test_deletion_request_with_warning_and_personal_data_cleared(servers):
    me = sender()
    servers.talk(me, "GビズIDでログインするとHTTP500内部サーバーエラーの画面になる")
    servers.talk(me, "Microsoftアカウントです")
    deletion = all_text(servers.talk(me, "いいえ"))
    assert "※アカウントの削除依頼について" in deletion
    servers.talk(me, '/inform{"account_type":"Microsoftアカウント"}')
    servers.talk(me, "old@example.jp")
    assert "未来" in all_text(servers.talk(me, "2099/01/01 10:00:00"))
    warning = all_text(servers.talk(me, "昨日の15時ごろ"))
    assert "復元できません" in warning and "1週間" in warning
    servers.talk(me, "はい")
    inquiry = all_text(servers.talk(me, "はい"))
    assert "Microsoftアカウント" in inquiry and "old@example.jp" in inquiry and "15時00分00秒" in inquiry
    tracker = servers.tracker(me)
    assert tracker["slots"]["deletion_email"] is None and tracker["slots"]["error_datetime"] is None


def test_stop_mid_form(servers):
    me = sender()
    servers.talk(me, "ロックを解除してほしい")
    servers.talk(me, "開発者ポータル")
    assert "中止しました" in all_text(servers.talk(me, "やめる"))
    assert servers.tracker(me)["active_loop"] == {}
