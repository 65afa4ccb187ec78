"""The insight report on a tracker store filled by real conversations.

Real Rasa and action servers (serving/harness.py) write a SQLite tracker.db in a
temp folder; these conversations add an unanswerable message, a "did you mean", a
flow answered いいえ at 「解決しましたか？」, a step that fails, a procedure left in the
middle and personal values; then insights/ reads the store and the report must
show each of them, masked.
"""

from __future__ import annotations

import csv
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml

from insights import cli as insights
from insights.text import mask
from serving.harness import Services

EMAIL, PHONE, NUMBER = "taro.yamada@example.co.jp", "090-1234-5678", "12345678901234567"
# Whether the model places a message is the model's business: the test sends several
# unplaceable ones and checks the report against what the bot really answered.
GIBBERISH = ["ほげほげふがふが", "ふにゃふにゃもげもげ", "。。。。", "ぴよぴよぴよ"]
VAGUE = ["エラー", "ログインがうまく", "アカウントの調子", "。。。。"]
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
KIND_OF_REPLY = {
    DOMAIN["responses"]["utter_did_you_mean"][0]["text"]: "聞き返し（もしかして）",
    DOMAIN["responses"]["utter_ask_rephrase"][0]["text"]: "言い換えのお願い",
    DOMAIN["responses"]["utter_default"][0]["text"]: "回答できず",
    DOMAIN["responses"]["utter_out_of_scope"][0]["text"]: "範囲外",
}


def sender(name: str) -> str:
    return f"insights-{name}-{uuid.uuid4().hex[:8]}"


def kind_of(replies: list[dict]) -> str | None:
    """How the report must file a message, from the bot's reply to it (None: answered)."""
    return next((KIND_OF_REPLY[r.get("text")] for r in replies if r.get("text") in KIND_OF_REPLY), None)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def report(servers, tmp_path_factory) -> dict:
    sent: list[tuple[str, str | None]] = []  # (message, the kind its reply implies)

    def talk(me: str, message: str) -> list[dict]:
        replies = servers.talk(me, message)
        sent.append((message, kind_of(replies)))
        return replies

    # 1. messages the bot cannot place; the first one that falls back is sent twice in a row (Rasa gives up)
    for text in GIBBERISH:
        me = sender("fallback")
        if kind_of(talk(me, text)) == "聞き返し（もしかして）":
            talk(me, text)
            break
    # 2. personal values in a message
    talk(sender("pii"), f"ふにゃふにゃ {EMAIL} {PHONE} 到達番号{NUMBER}")
    # 3. a vague question; when the bot asks "did you mean" with topics, the user picks the first
    pick = None
    for text in VAGUE:
        me = sender("dym")
        replies = talk(me, text)
        buttons = replies[-1].get("buttons") or []
        if kind_of(replies) == "聞き返し（もしかして）" and len(buttons) > 1:  # not a flow's own choice
            pick = (text, buttons[0]["title"])
            servers.talk(me, buttons[0]["payload"])
            break
    # 4. out of scope
    talk(sender("oos"), "税金の支払い方法を教えて")
    # 5. a whole procedure, then いいえ to 「解決しましたか？」 → handoff
    me = sender("unresolved")
    servers.talk(me, "秘密の質問の答えを忘れてしまいました")
    servers.talk(me, "/guide_all")
    assert servers.texts(me, "/guide_next")[-1] == "解決しましたか？"
    servers.talk(me, "いいえ")
    # 6. a step that does not work → handoff at step 2
    me = sender("failed")
    servers.talk(me, "機種変更で2要素認証のコードが確認できない")
    servers.talk(me, "/guide_next")
    servers.talk(me, "うまくいかない")
    # 7. left in the middle of a procedure, at step 3
    me = sender("left")
    servers.talk(me, "スマホを機種変更したのでワンタイムコードが見られません")
    servers.talk(me, "/guide_next")
    servers.talk(me, "/guide_next")
    # 8. はい at 「解決しましたか？」
    me = sender("resolved")
    servers.talk(me, "メールアドレスの大文字と小文字は区別されますか")
    servers.talk(me, "はい")

    out = tmp_path_factory.mktemp("insights")
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    db = servers.workdir / "tracker.db"
    assert insights.main(["--db", str(db), "--since", today, "--until", today, "--out", str(out)]) == 0
    return {"out": out, "sent": sent, "pick": pick, "db": db, "today": today}


def test_every_message_the_bot_could_not_answer_is_in_the_report(report):
    unanswered = [(sent, kind) for sent, kind in report["sent"] if kind]
    assert any(kind != "範囲外" for _, kind in unanswered), f"none of {GIBBERISH} went to the fallback: {report['sent']}"
    listed = {(m["文"], m["種類"]) for m in rows(report["out"] / "unanswered_messages.csv")}
    for text, kind in unanswered:
        assert (mask(text), kind) in listed, f"{text} ({kind}) not in the report"
    answered = {text for text, kind in report["sent"] if not kind} - {text for text, kind in unanswered}
    assert not answered & {m for m, _ in listed}


def test_unanswered_messages_are_grouped_and_counted(report):
    twice = next(text for text, kind in report["sent"] if kind == "回答できず")  # the fallback sent twice in a row
    group = next(g for g in rows(report["out"] / "unanswered.csv") if g["代表的な文"] == twice)
    assert int(group["件数"]) >= 2
    assert "聞き返し（もしかして）" in group["種類"] and "回答できず" in group["種類"]
    assert all(g["追加先インテント"] == "" for g in rows(report["out"] / "unanswered.csv"))  # for the reviewer to fill in


def test_did_you_mean_pick_is_reported(report):
    if not report["pick"]:
        pytest.skip(f"the model placed every one of {VAGUE}: no did-you-mean with topics to report")
    text, title = report["pick"]
    message = next(m for m in rows(report["out"] / "unanswered_messages.csv") if m["文"] == text and m["種類"] == "聞き返し（もしかして）")
    assert message["「もしかして」で選ばれたもの"] == title


def test_resolved_unresolved_failed_answers_and_handoffs(report):
    outcomes = {r["フロー"]: r for r in rows(report["out"] / "outcomes.csv")}
    assert int(outcomes["secret_question_forgotten"]["解決しない"]) >= 1
    assert int(outcomes["phone_changed"]["手順がうまくいかない"]) >= 1
    assert int(outcomes["email_case_sensitivity"]["解決した"]) >= 1
    handoffs = rows(report["out"] / "handoffs.csv")
    assert {"flow": "secret_question_forgotten", "why": "解決しない"} in [{"flow": h["フロー"], "why": h["きっかけ"]} for h in handoffs]
    failed = next(h for h in handoffs if h["フロー"] == "phone_changed" and h["きっかけ"] == "手順がうまくいかない")
    assert failed["ノード"] == "reset_two_factor" and failed["手順"] == "2"


def test_where_users_left_a_procedure(report):
    left = next(r for r in rows(report["out"] / "dropoffs.csv") if r["フロー"] == "phone_changed" and r["手順"] == "3")
    assert left["待っていた入力"] == "手順" and left["手順数"] == "7" and "送信" in left["手順の文"]


def test_personal_values_are_masked_everywhere(report):
    for path in report["out"].iterdir():
        text = path.read_text(encoding="utf-8-sig")
        for value in (EMAIL, PHONE, NUMBER, "taro.yamada"):
            assert value not in text, f"{value} in {path.name}"


def test_html_is_self_contained_with_charts(report):
    html = (report["out"] / "index.html").read_text(encoding="utf-8")
    first = next(text for text, kind in report["sent"] if kind)
    assert "答えられなかった質問" in html and first in html
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= 3
    assert not re.search(r'(src|href)="https?:', html) and "<script" not in html and "<link" not in html


def test_a_date_range_without_conversations(report, tmp_path):
    assert insights.main(["--db", str(report["db"]), "--since", "2000-01-01", "--until", "2000-01-31", "--out", str(tmp_path)]) == 0
    assert rows(tmp_path / "unanswered.csv") == [] and len(rows(tmp_path / "daily.csv")) == 31
    assert "この期間にはありません" in (tmp_path / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """EGOV_TEST_POSTGRES_URL, or a PostgreSQL of its own from scripts/services.sh."""
    if os.environ.get("EGOV_TEST_POSTGRES_URL"):
        yield os.environ["EGOV_TEST_POSTGRES_URL"]
        return
    services = Services(db="insights")
    try:
        services.start("pg")
        yield services.db_url()
    finally:
        services.remove()


def test_the_same_report_from_postgresql(report, tmp_path, postgres_url):
    """The events the servers wrote, copied into PostgreSQL with Rasa's schema: the report is the same."""
    url = postgres_url
    source, target = sa.create_engine(f"sqlite:///{report['db']}"), sa.create_engine(url)
    meta = sa.MetaData()
    events = sa.Table("events", meta, autoload_with=source)
    with target.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS events")
    meta.create_all(target)
    with source.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(sa.select(events))]
    with target.begin() as conn:
        conn.execute(events.insert(), rows)
    out = tmp_path / "pg"
    assert insights.main(["--db", url, "--since", report["today"], "--until", report["today"], "--out", str(out)]) == 0
    for name in ("unanswered.csv", "unanswered_messages.csv", "outcomes.csv", "handoffs.csv", "dropoffs.csv", "daily.csv"):
        assert (out / name).read_text(encoding="utf-8") == (report["out"] / name).read_text(encoding="utf-8"), name
