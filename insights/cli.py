"""Insight report from the tracker store: what users asked that the bot could not answer.

    python -m insights --since 2025-04-01 --until 2025-04-30
    python -m insights --db postgresql://user:pass@host:5432/rasa --since 2025-04-01
    python -m insights --db path/to/tracker.db --out reports/insights

Reads Rasa's SQL tracker store (SQLite by default, as configured in endpoints.yml;
any SQLAlchemy URL such as PostgreSQL) and writes reports/insights/index.html
(charts embedded, no external files) and CSVs: unanswered messages grouped by
similar text and counted, the "did you mean" picks, the answers to 「解決しましたか？」,
handoffs, and where users left a procedure. Personal values are masked (＊＊＊).
Parts: insights/data.py (reading), insights_text.py (masking, grouping),
insights_report.py (HTML, charts, CSV).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from insights.data import NoConversations, database_url, load
from insights.report import default_period, flow_info, write_report

ROOT = Path(__file__).resolve().parent.parent


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は 2025-04-01 の形で書いてください: {value}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m insights", description="トラッカーストアからインサイトレポート（HTML と CSV）を作ります。"
    )
    parser.add_argument(
        "--db",
        help="SQLite のファイル、または SQLAlchemy の URL（例: postgresql://user:pass@host:5432/rasa）。既定: endpoints.yml の tracker_store",
    )
    parser.add_argument("--endpoints", type=Path, help="tracker_store を読む endpoints.yml（既定: プロジェクトの endpoints.yml）")
    parser.add_argument("--since", type=_date, help="集計の最初の日（この日を含む。既定: 30 日前）")
    parser.add_argument("--until", type=_date, help="集計の最後の日（この日を含む。既定: 今日）")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "insights", help="出力フォルダ（既定: reports/insights）")
    parser.add_argument("--flows", type=Path, default=ROOT / "content" / "flows.yml", help="トピック名と手順の文を読む flows.yml")
    parser.add_argument("--similarity", type=float, default=0.45, help="似た文をまとめる近さ（0〜1、大きいほど厳しい。既定: 0.45）")
    parser.add_argument("--tz", default="Asia/Tokyo", help="日付の区切りに使うタイムゾーン（既定: Asia/Tokyo）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tz = ZoneInfo(args.tz)
    until = args.until or datetime.now(tz).date()
    since = args.since or default_period(until)[0]  # the 30 days up to --until
    if since > until:
        print(f"--since（{since}）が --until（{until}）より後です。")
        return 2
    url = database_url(args.db, ROOT, args.endpoints)
    try:
        insights = load(url, since, until, tz)
    except NoConversations:
        print(
            f"まだ会話の記録がありません（{_safe(url)} に会話が保存されていません）。"
            "`make run` でアシスタントを起動し、表示されたページでボットと会話すると記録されます。"
            "そのあとで、もう一度このコマンドを実行してください。"
        )
        return 0
    except Exception as exc:  # noqa: BLE001 - say what to check instead of a traceback
        print(f"トラッカーストアを読めませんでした（{_safe(url)}）: {exc}")
        return 1
    index = write_report(args.out, insights, flow_info(args.flows), _safe(url), args.similarity)
    print(
        f"{since} 〜 {until}: 会話 {insights.conversations} 件、発言 {insights.user_messages} 件、"
        f"答えられなかった発言 {len(insights.unanswered)} 件、窓口への引き継ぎ {len(insights.handoffs)} 件、"
        f"手順の途中でやめた会話 {len(insights.dropoffs)} 件"
    )
    print(f"レポート: {index}")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for the report and messages."""
    from sqlalchemy.engine.url import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return url.split("@")[-1]


if __name__ == "__main__":
    sys.exit(main())
