"""The insight report and tools/add_example on synthetic tracker stores and project copies.

Events are written the way Rasa's SQLTrackerStore writes them (table `events`, the
event as JSON in `data`; shapes copied from a real store filled by tests/e2e), so the
report is tested on every case without servers. tests/e2e/test_insights_e2e.py runs
it on a store real conversations filled.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml

from contentcheck.check import run
from contentcheck.examples import read_examples
from contentcheck.files import copy_project
from insights import cli as insights
from insights.data import database_url, load
from insights.text import MASK, group_similar, mask
from tools import add_example

TZ = ZoneInfo("Asia/Tokyo")
DAY = date(2025, 4, 10)


# --- masking and grouping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, masked",
    [
        ("メールは taro.yamada@example.co.jp です", f"メールは {MASK} です"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ に送って", f"{MASK} に送って"),
        ("電話 090-1234-5678 まで", f"電話 {MASK} まで"),
        ("０９０－１２３４－５６７８", MASK),
        ("(03)1234-5678", MASK),
        ("+81-90-1234-5678", MASK),
        ("0120-123-456", MASK),
        ("到達番号 12345678901234567 です", f"到達番号 {MASK} です"),
        ("〒100-0013 東京都", f"{MASK} 東京都"),
        ("1234 5678 9012 3456", MASK),
        ("ワンタイムコード 123456 が通らない", f"ワンタイムコード {MASK} が通らない"),  # 6 digits: as in the logs
        ("キーは abcDEF1234567890abcdef1234567890XYZ です", f"キーは {MASK} です"),  # an API key, whole
        # ordinary numbers stay: they are what users ask about
        ("HTTP500内部サーバーエラー", "HTTP500内部サーバーエラー"),
        ("30分待ってもロック中", "30分待ってもロック中"),
        ("手順 3/7 でうまくいかない", "手順 3/7 でうまくいかない"),
        ("2023/3/12に追記された件", "2023/3/12に追記された件"),
        ("e-Govにログインできない", "e-Govにログインできない"),
    ],
)
def test_mask(text, masked):
    assert mask(text) == masked


def test_similar_messages_share_a_group_and_the_most_frequent_wording_leads():
    texts = [
        "ほげほげ",
        "ほげほげ",
        "ほげほげふがふが",
        "ﾛｸﾞｲﾝできない",
        "ログインできない！",
        "今日の天気は？",
        "明日の天気",
        "マイナンバーカードでログインしたい",
    ]
    groups = group_similar(texts)
    by_rep = {g.representative: g for g in groups}
    assert by_rep["ほげほげ"].count == 3
    assert {texts[i] for i in next(g for g in groups if "ﾛｸﾞｲﾝできない" in g.variants).members} == {"ﾛｸﾞｲﾝできない", "ログインできない！"}
    assert next(g for g in groups if "今日の天気は？" in g.variants).count == 2
    assert next(g for g in groups if "マイナンバーカードでログインしたい" in g.variants).count == 1
    assert groups[0].representative == "ほげほげ"  # largest first
    assert group_similar([]) == []


# --- a tracker store written like Rasa's ----------------------------------------------------------


class Store:
    """Writes events into an `events` table with Rasa's SQLTrackerStore columns."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        meta = sa.MetaData()
        self.table = sa.Table(
            "events",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255), nullable=False, index=True),
            sa.Column("type_name", sa.String(255), nullable=False),
            sa.Column("timestamp", sa.Float),
            sa.Column("intent_name", sa.String(255)),
            sa.Column("action_name", sa.String(255)),
            sa.Column("data", sa.Text),
        )
        meta.create_all(self.engine)
        self.rows: list[dict] = []
        self.clock = datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=TZ).timestamp()

    def add(self, sender: str, event: dict, intent: str | None = None, action: str | None = None, at: datetime | None = None) -> None:
        self.clock += 1
        ts = at.timestamp() if at else self.clock
        event = {**event, "timestamp": ts}
        self.rows.append(
            {
                "sender_id": sender,
                "type_name": event["event"],
                "timestamp": ts,
                "intent_name": intent,
                "action_name": action,
                "data": json.dumps(event, ensure_ascii=False),
            }
        )

    def flush(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.insert(), self.rows)
        self.rows = []

    def session(self, sender: str, at: datetime | None = None) -> None:
        self.add(sender, {"event": "action", "name": "action_session_start"}, action="action_session_start", at=at)
        self.add(sender, {"event": "session_started"}, at=at)
        self.add(sender, {"event": "action", "name": "action_listen"}, action="action_listen", at=at)

    def opens(self, sender: str, text: str, intent: str, ranking: list[tuple[str, float]] | None = None) -> None:
        """A new session, and the user's first message in it."""
        self.session(sender)
        self.user(sender, text, intent, ranking)

    def user(self, sender: str, text: str, intent: str, ranking: list[tuple[str, float]] | None = None, at: datetime | None = None) -> None:
        ranking = ranking or [(intent, 1.0)]
        parse = {
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "text": text,
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
        self.add(sender, {"event": "user", "text": text, "parse_data": parse}, intent=intent, at=at)

    def bot(self, sender: str, response: str, text: str = "…") -> None:
        self.add(sender, {"event": "bot", "text": text, "metadata": {"utter_action": response}})

    def action(self, sender: str, name: str) -> None:
        self.add(sender, {"event": "action", "name": name}, action=name)

    def slot(self, sender: str, name: str, value) -> None:
        self.add(sender, {"event": "slot", "name": name, "value": value}, action=name)

    def rewind(self, sender: str) -> None:
        self.add(sender, {"event": "rewind"})

    def handoff(self, sender: str, outcome: dict) -> None:
        """The bot hands the user over to the desk: the flow ends unresolved or failed."""
        self.bot(sender, "utter_handoff")
        self.ended(sender, outcome)

    def ended(self, sender: str, outcome: dict) -> None:
        """A flow ended: its state cleared, its outcome recorded (as action_guide sets them)."""
        self.slot(sender, "guide_state", None)
        self.slot(sender, "guide_outcome", outcome)

    def state(self, sender: str, flow: str, node: str, step: int, awaiting: str = "step") -> None:
        self.slot(
            sender,
            "guide_state",
            {"flow": flow, "node": node, "step": step, "awaiting": awaiting, "history": [], "trail": [], "paused": None},
        )


def fill(store: Store) -> None:
    """One conversation per case the report must show."""
    # gibberish → did you mean → gibberish again → Rasa gives up (rewind, no replay)
    s = "fallback"
    store.opens(s, "ほげほげふがふが", "nlu_fallback", [("nlu_fallback", 0.45), ("thanks", 0.28)])
    store.action(s, "action_two_stage_fallback")
    store.bot(s, "utter_did_you_mean")
    store.action(s, "action_listen")
    store.user(s, "ほげほげ", "nlu_fallback", [("nlu_fallback", 0.45)])
    store.action(s, "action_two_stage_fallback")
    store.bot(s, "utter_default")
    store.rewind(s)
    # low confidence → did you mean → the user picks a topic (rewind, then Rasa replays the pick)
    s = "picked"
    store.opens(s, "ログインがうまく 090-1234-5678", "nlu_fallback", [("nlu_fallback", 0.45), ("login_failed", 0.25)])
    store.action(s, "action_two_stage_fallback")
    store.bot(s, "utter_did_you_mean")
    store.user(s, "/login_failed", "login_failed")
    store.action(s, "action_two_stage_fallback")
    store.rewind(s)
    store.user(s, "/login_failed", "login_failed")
    store.action(s, "action_guide")
    store.state(s, "login_failed", "ask_registered", 0, "choice")
    # did you mean → どれにも当てはまらない
    s = "none"
    store.opens(s, "ろぐいんが", "nlu_fallback", [("nlu_fallback", 0.45), ("login_failed", 0.2)])
    store.bot(s, "utter_did_you_mean")
    store.user(s, "/out_of_scope", "out_of_scope")
    store.bot(s, "utter_ask_rephrase")
    # out of scope, answered politely: still a question the bot could not answer
    s = "oos"
    store.opens(s, "今日の天気は？", "out_of_scope", [("out_of_scope", 0.99)])
    store.bot(s, "utter_out_of_scope")
    # whole procedure, いいえ → handoff (unresolved)
    s = "unresolved"
    store.opens(s, "秘密の質問を忘れた", "secret_question_forgotten")
    store.state(s, "secret_question_forgotten", "reset_additional_auth", 1)
    store.user(s, "/guide_all", "guide_all")
    store.state(s, "secret_question_forgotten", "reset_additional_auth", 7)
    store.user(s, "/guide_next", "guide_next")
    store.bot(s, "utter_ask_resolved")
    store.slot(s, "guide_state", {"flow": "secret_question_forgotten", "node": "end", "step": 0, "awaiting": "resolved"})
    store.user(s, "いいえ", "deny")
    store.handoff(s, {"flow": "secret_question_forgotten", "result": "unresolved", "node": "end", "step": 0})
    # a step fails → handoff (failed at step 2)
    s = "failed"
    store.opens(s, "機種変更でコードが見られない", "phone_changed")
    store.state(s, "phone_changed", "reset_two_factor", 2)
    store.user(s, "うまくいかない", "guide_failed")
    store.handoff(s, {"flow": "phone_changed", "result": "failed", "node": "reset_two_factor", "step": 2})
    # resolved
    s = "resolved"
    store.opens(s, "大文字小文字は区別される？", "email_case_sensitivity")
    store.bot(s, "utter_ask_resolved")
    store.user(s, "はい", "affirm")
    store.ended(s, {"flow": "email_case_sensitivity", "result": "resolved"})
    # left at step 3; came back later in a new session and finished: only the first session left
    s = "left"
    store.opens(s, "スマホを替えた", "phone_changed")
    store.state(s, "phone_changed", "reset_two_factor", 3)
    store.opens(s, "スマホを替えた", "phone_changed")
    store.state(s, "phone_changed", "reset_two_factor", 7)
    store.user(s, "/guide_stop", "guide_stop")
    store.ended(s, {"flow": "phone_changed", "result": "stopped", "node": "reset_two_factor", "step": 7})
    # outside the date range: never counted
    s = "last-month"
    store.session(s, at=datetime(2025, 3, 1, 12, 0, tzinfo=TZ))
    store.user(s, "先月のほげほげ", "nlu_fallback", at=datetime(2025, 3, 1, 12, 0, 1, tzinfo=TZ))


@pytest.fixture
def store_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = Store(url)
    fill(store)
    store.flush()
    return url


def test_unanswered_messages_with_kind_guess_and_pick(store_url):
    found = load(store_url, DAY, DAY, TZ)
    by_text = {m.text: m for m in found.unanswered}
    assert set(by_text) == {"ほげほげふがふが", "ほげほげ", f"ログインがうまく {MASK}", "ろぐいんが", "今日の天気は？"}
    assert by_text["ほげほげふがふが"].kind == "did_you_mean" and by_text["ほげほげふがふが"].guess == "thanks"
    assert by_text["ほげほげ"].kind == "default"
    picked = by_text[f"ログインがうまく {MASK}"]
    assert (picked.kind, picked.guess, picked.chosen) == ("did_you_mean", "login_failed", "login_failed")
    assert by_text["ろぐいんが"].chosen == "none"
    assert by_text["今日の天気は？"].kind == "out_of_scope"


def test_counts_outcomes_handoffs_and_dropoffs(store_url):
    found = load(store_url, DAY, DAY, TZ)
    assert found.conversations == 9  # the "left" user had two sessions; last month's is outside the range
    assert found.user_messages == 18  # the replayed /login_failed counts once
    assert sorted((o.flow, o.result) for o in found.outcomes) == [
        ("email_case_sensitivity", "resolved"),
        ("phone_changed", "failed"),
        ("phone_changed", "stopped"),
        ("secret_question_forgotten", "unresolved"),
    ]
    assert sorted((h.flow, h.result, h.node, h.step) for h in found.handoffs) == [
        ("phone_changed", "failed", "reset_two_factor", 2),
        ("secret_question_forgotten", "unresolved", "end", 0),
    ]
    assert sorted((d.flow, d.node, d.step, d.awaiting) for d in found.dropoffs) == [
        ("login_failed", "ask_registered", 0, "choice"),
        ("phone_changed", "reset_two_factor", 3, "step"),
    ]
    assert found.daily[DAY]["unanswered"] == 5


def test_date_range_includes_both_days_in_local_time(store_url):
    assert [m.text for m in load(store_url, date(2025, 3, 1), date(2025, 3, 1), TZ).unanswered] == ["先月のほげほげ"]
    assert load(store_url, date(2025, 3, 2), DAY - timedelta(days=1), TZ).conversations == 0


def test_report_files(store_url, tmp_path):
    out = tmp_path / "report"
    assert insights.main(["--db", store_url, "--since", DAY.isoformat(), "--until", DAY.isoformat(), "--out", str(out)]) == 0
    assert (out / "unanswered.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    with (out / "unanswered.csv").open(encoding="utf-8-sig") as f:
        groups = list(csv.DictReader(f))
    hoge = next(g for g in groups if g["代表的な文"].startswith("ほげほげ"))
    assert hoge["件数"] == "2" and "回答できず 1" in hoge["種類"]
    picked = next(g for g in groups if g["代表的な文"] == f"ログインがうまく {MASK}")
    assert picked["利用者が選んだトピック"] == "login_failed"
    with (out / "dropoffs.csv").open(encoding="utf-8-sig") as f:
        left = next(r for r in csv.DictReader(f) if r["フロー"] == "phone_changed")
    assert left["手順"] == "3" and left["手順数"] == "7" and left["タイトル"] == "機種変更でワンタイムコードが確認できない"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "090-1234-5678" not in html and "data:image/png;base64," in html
    assert "python -m tools.add_example --intent login_failed" in html  # the pick suggests where the sentence belongs


def test_database_url_from_endpoints(tmp_path, monkeypatch):
    assert database_url("x/tracker.db", tmp_path).startswith("sqlite:////") and database_url("x/tracker.db", tmp_path).endswith(
        "x/tracker.db"
    )
    assert database_url("postgresql://u:p@h/db", tmp_path) == "postgresql://u:p@h/db"
    (tmp_path / "endpoints.yml").write_text('tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "tracker.db"\n', encoding="utf-8")
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'tracker.db'}"
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    (tmp_path / "endpoints.yml").write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.example\n  port: 5432\n  db: rasa\n  username: bot\n  password: ${DB_PASSWORD}\n",
        encoding="utf-8",
    )
    assert database_url(None, tmp_path) == "postgresql://bot:s3cret@db.example:5432/rasa"
    (tmp_path / "endpoints.yml").write_text("tracker_store:\n  type: redis\n", encoding="utf-8")
    assert database_url(None, tmp_path).endswith("/tracker.db")


def test_project_endpoints_point_at_tracker_db():
    root = Path(__file__).resolve().parents[2]
    assert database_url(None, root) == f"sqlite:///{root / 'tracker.db'}"


def test_unreadable_store_says_so(tmp_path, capsys):
    assert insights.main(["--db", str(tmp_path / "missing-dir" / "none.db"), "--out", str(tmp_path / "out")]) == 1
    assert "トラッカーストアを読めませんでした" in capsys.readouterr().out


# --- add_example ------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_project(tmp_path / "project")


def examples_of(root: Path, intent: str) -> list[str]:
    found, _ = read_examples(sorted((root / "data" / "nlu").glob("*.yml")), root)
    return [e.text for e in found if e.intent == intent]


def test_add_example_appends_to_the_intents_block_in_block_format(project):
    path = project / "data" / "nlu" / "login_failed.yml"
    before = path.read_text(encoding="utf-8").splitlines()
    result = add_example.add(project, "login_failed", "パスワードを入れても先に進めない")
    assert result.ok, result.message
    after = path.read_text(encoding="utf-8").splitlines()
    last = max(i for i, line in enumerate(before) if line.startswith("    - "))  # the block's last example
    assert after == before[: last + 1] + ["    - パスワードを入れても先に進めない"] + before[last + 1 :]
    assert result.message.startswith(f"data/nlu/login_failed.yml:{last + 2} に")
    assert "パスワードを入れても先に進めない" in examples_of(project, "login_failed")
    yaml.safe_load(path.read_text(encoding="utf-8"))


def test_add_example_into_a_shared_file_finds_the_intents_block(project):
    """guide_next lives in data/nlu/guide.yml with other intents: the sentence lands in its block."""
    assert add_example.add(project, "guide_next", "次の手順お願いします！").ok
    assert "次の手順お願いします！" in examples_of(project, "guide_next")
    assert "次の手順お願いします！" not in examples_of(project, "guide_back")


@pytest.mark.parametrize(
    "intent, text, reason",
    [
        ("login_failed", "パスワード忘れた", "既に data/nlu/login_failed.yml:"),
        ("login_failed", "ﾊﾟｽﾜｰﾄﾞ  忘れた", "既に data/nlu/login_failed.yml:"),  # same after NFKC and spaces
        ("account_locked", "パスワード忘れた", "インテント「login_failed」の例文として"),
        ("login_failed", "パスワードリセットのやり方", "テスト用の例文"),
        ("no_such_intent", "なにか", "domain.yml の intents にありません"),
        ("login_failed", f"メールは {MASK} です", "「＊＊＊」"),
        ("login_failed", "一行目\n二行目", "複数行"),
        ("login_failed", "   ", "空"),
        ("guide_choose", "選びます", "ボタン専用"),
    ],
)
def test_add_example_refuses(project, intent, text, reason):
    before = {p.name: p.read_text(encoding="utf-8") for p in (project / "data" / "nlu").glob("*.yml")}
    result = add_example.add(project, intent, text)
    assert not result.ok and reason in result.message, result.message
    assert before == {p.name: p.read_text(encoding="utf-8") for p in (project / "data" / "nlu").glob("*.yml")}


def test_add_example_for_an_intent_without_examples_creates_its_file(project):
    domain = project / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8").replace("  # conversation\n", "  - ask_fee\n  # conversation\n"), encoding="utf-8")
    assert add_example.add(project, "ask_fee", "手数料はかかりますか").ok
    assert examples_of(project, "ask_fee") == ["手数料はかかりますか"]


def test_add_example_dry_run_writes_nothing(project, capsys):
    before = (project / "data" / "nlu" / "login_failed.yml").read_text(encoding="utf-8")
    assert add_example.main(["--root", str(project), "--dry-run", "--intent", "login_failed", "ログインが通らないです"]) == 0
    assert (project / "data" / "nlu" / "login_failed.yml").read_text(encoding="utf-8") == before
    assert "書き込みません" in capsys.readouterr().out


def test_add_examples_from_the_reviewed_report_csv(project, store_url, tmp_path, capsys):
    out = tmp_path / "report"
    insights.main(["--db", store_url, "--since", DAY.isoformat(), "--until", DAY.isoformat(), "--out", str(out)])
    path = out / "unanswered.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    for row in rows:  # the reviewer: one sentence rewritten without the mask and filed; the rest left alone
        if row["代表的な文"].startswith("ログインがうまく"):
            row["代表的な文"], row["追加先インテント"] = "ログインがうまくいきません", "login_failed"
        if row["代表的な文"] == "今日の天気は？":
            row["追加先インテント"] = "out_of_scope"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows)
    assert add_example.main(["--root", str(project), "--csv", str(path)]) == 0
    assert "ログインがうまくいきません" in examples_of(project, "login_failed")
    assert "今日の天気は？" in examples_of(project, "out_of_scope")
    assert "make check" in capsys.readouterr().out
    assert [str(p) for p in run(project, rasa=False) if "ログインがうまくいきません" in str(p) or "今日の天気" in str(p)] == []
    assert add_example.main(["--root", str(project), "--csv", str(path)]) == 1  # the second time both are duplicates


def test_add_examples_from_a_csv_excel_saved_as_shift_jis(project, tmp_path):
    path = tmp_path / "reviewed.csv"
    path.write_bytes(
        "順位,件数,代表的な文,追加先インテント\r\n1,3,ログイン画面で止まってしまう,login_failed\r\n2,1,ほげ,\r\n".encode("cp932")
    )
    assert add_example.main(["--root", str(project), "--csv", str(path)]) == 0
    assert "ログイン画面で止まってしまう" in examples_of(project, "login_failed")


def test_no_conversations_yet_is_said_in_japanese_not_as_an_sql_error(tmp_path, capsys):
    from insights import cli as insights_cli

    missing = tmp_path / "tracker.db"
    assert insights_cli.main(["--db", str(missing), "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "まだ会話の記録がありません" in said and "make run" in said and "no such table" not in said
    assert not missing.exists()  # the check does not leave an empty database behind
    import sqlite3

    sqlite3.connect(missing).close()  # a file without Rasa's tables, as a store that never saved
    assert insights_cli.main(["--db", str(missing), "--out", str(tmp_path / "out")]) == 0
    assert "まだ会話の記録がありません" in capsys.readouterr().out
