"""One page for support staff: what `rasa test` found, in results/index.html.

    python -m tools.test_report results

Reads what `rasa test core` (results/stories) and `rasa test nlu` (results/nlu) write:
failed_test_stories.yml, story_report.json, stories_with_warnings.yml,
intent_report.json, intent_errors.json and the confusion-matrix and histogram
images, and writes an index page beside them that links every file. Works with
whatever is there (a run that stopped early still gets a page saying what is missing).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUMMARY_ROWS = ("accuracy", "macro avg", "weighted avg", "micro avg")

CSS = """
body{font-family:"Noto Sans CJK JP","Hiragino Sans","Yu Gothic",Meiryo,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.6;padding:0 1em}
h1{font-size:1.6em;border-bottom:3px solid #1565c0;padding-bottom:.3em}h2{font-size:1.25em;margin-top:2em;border-left:6px solid #1565c0;padding-left:.5em}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef2f7}td.num{text-align:right}tr.bad td{background:#ffebee}.ok{color:#2e7d32;font-weight:bold}.ng{color:#c62828;font-weight:bold}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}pre .predicted{background:#ffcdd2}img{max-width:100%;border:1px solid #ddd}
.note{color:#555;font-size:.9em}
"""


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _missing(name: str) -> str:
    return f"<p class='note'>{html.escape(name)} がありません（<code>make test</code> の rasa test の段で作られます）。</p>"


def _faq_titles() -> dict[str, str]:
    try:
        from actions.content import load_flows

        return {flow_id: flow.title for flow_id, flow in load_flows().items()}
    except Exception:  # noqa: BLE001 - the page works without titles
        return {}


def _stories(results: Path) -> list[str]:
    folder = results / "stories"
    failed_file = folder / "failed_test_stories.yml"
    report = _json(folder / "story_report.json") or {}
    parts = ["<h2>テストストーリー（rasa test core）</h2>"]
    conv = report.get("conversation_accuracy") or {}
    if failed_file.exists():
        failed_text = failed_file.read_text(encoding="utf-8")
        failed = len(re.findall(r"^- story:", failed_text, re.M))
        total = conv.get("total")
        verdict = "<span class='ok'>すべて通りました</span>" if failed == 0 else f"<span class='ng'>{failed} 件が失敗しました</span>"
        parts.append(f"<p>{verdict}" + (f"（{total} 件中）" if total else "") + "</p>")
        if failed:
            parts.append(
                "<h3>失敗したテストストーリー</h3><p class='note'>「# predicted:」の行が、ボットが実際に選んだ動き（または認識したインテント）です。"
                "その行の上の期待どおりにならなかった理由を、ルール（data/rules/）か例文（data/nlu/）で直します。</p>"
            )
            lines = [
                f"<span class='predicted'>{html.escape(line)}</span>" if "# predicted:" in line else html.escape(line)
                for line in failed_text.splitlines()
            ]
            parts.append("<pre>" + "\n".join(lines) + "</pre>")
    else:
        parts.append(_missing("stories/failed_test_stories.yml"))
    warnings_file = folder / "stories_with_warnings.yml"
    if warnings_file.exists() and re.search(r"^- story:", warnings_file.read_text(encoding="utf-8"), re.M):
        parts.append("<h3>警告のあったストーリー</h3><pre>" + html.escape(warnings_file.read_text(encoding="utf-8")) + "</pre>")
    actions = {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v and k not in SUMMARY_ROWS}
    if actions:
        rows = sorted(actions.items(), key=lambda kv: (kv[1]["f1-score"], kv[0]))
        wrong = {name for name, v in rows if v["f1-score"] < 1.0}
        parts.append(f"<details{' open' if wrong else ''}><summary>動き（アクション）ごとの正解率</summary>")
        parts.append(_metrics_table(rows, bad=wrong) + "</details>")
    if (folder / "story_confusion_matrix.png").exists():
        parts.append("<h3>動きの取り違え（混同行列）</h3><img src='stories/story_confusion_matrix.png' alt='動きの混同行列'>")
    return parts


def _metrics_table(rows: list[tuple[str, dict]], titles: dict[str, str] | None = None, bad: set[str] | None = None) -> str:
    """Precision/recall/F1 rows; `bad` rows are highlighted; a topic column when titles are given."""
    body = []
    for name, v in rows:
        confused = "、".join(f"{k} {n}" for k, n in sorted((v.get("confused_with") or {}).items(), key=lambda kv: -kv[1]))
        title = f"<td>{html.escape(titles.get(name, ''))}</td>" if titles is not None else ""
        body.append(
            f"<tr class='{'bad' if name in (bad or set()) else ''}'><td>{html.escape(name)}</td>{title}"
            f"<td class='num'>{v['f1-score']:.3f}</td><td class='num'>{v['precision']:.3f}</td><td class='num'>{v['recall']:.3f}</td>"
            f"<td class='num'>{v['support']}</td><td>{html.escape(confused)}</td></tr>"
        )
    topic = "<th>トピック</th>" if titles is not None else ""
    head = f"<tr><th>名前</th>{topic}<th>F1</th><th>適合率</th><th>再現率</th><th>件数</th><th>取り違えた先</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _nlu(results: Path) -> list[str]:
    from tools.nlu_gate import MIN_ACCURACY, MIN_FAQ_F1

    folder = results / "nlu"
    report = _json(folder / "intent_report.json")
    parts = ["<h2>テスト用の例文の認識（rasa test nlu）</h2>"]
    if not report:
        return parts + [_missing("nlu/intent_report.json")]
    titles = _faq_titles()
    accuracy = report.get("accuracy", 0)
    weak = [k for k, v in report.items() if k in titles and isinstance(v, dict) and v.get("f1-score", 1) < MIN_FAQ_F1]
    verdict = "ok" if accuracy >= MIN_ACCURACY and not weak else "ng"
    parts.append(
        f"<p>正解率 <span class='{verdict}'>{accuracy:.1%}</span>（下限 {MIN_ACCURACY:.0%}）、"
        f"FAQ トピックの F1 の下限 {MIN_FAQ_F1}"
        + (f"：下回ったトピック <span class='ng'>{html.escape('、'.join(weak))}</span>" if weak else "")
        + "</p>"
    )
    intents = sorted(
        ((k, v) for k, v in report.items() if isinstance(v, dict) and "f1-score" in v and k not in SUMMARY_ROWS),
        key=lambda kv: (kv[1]["f1-score"], kv[0]),
    )
    parts.append(
        "<h3>インテントごとの精度（低い順）</h3><p class='note'>赤い行は FAQ トピックの下限を下回ったものです。例文を足すと良くなります（編集者ガイド 2 節）。</p>"
    )
    parts.append(_metrics_table(intents, titles, bad=set(weak)))
    if (folder / "intent_confusion_matrix.png").exists():
        parts.append("<h3>取り違えの多い組み合わせ（混同行列）</h3><img src='nlu/intent_confusion_matrix.png' alt='インテントの混同行列'>")
    errors = _json(folder / "intent_errors.json")
    if errors is not None:
        parts.append(f"<h3>間違えた文（{len(errors)} 件）</h3>")
        if errors:
            rows = "".join(
                f"<tr><td>{html.escape(e.get('text', ''))}</td><td>{html.escape(e.get('intent', ''))}</td>"
                f"<td>{html.escape((e.get('intent_prediction') or {}).get('name') or '')}</td>"
                f"<td class='num'>{(e.get('intent_prediction') or {}).get('confidence') or 0:.2f}</td></tr>"
                for e in sorted(errors, key=lambda e: (e.get("intent", ""), e.get("text", "")))
            )
            parts.append(
                f"<table><thead><tr><th>文</th><th>正解</th><th>認識したもの</th><th>確信度</th></tr></thead><tbody>{rows}</tbody></table>"
            )
    if (folder / "intent_histogram.png").exists():
        parts.append(
            "<h3>確信度の分布</h3><p class='note'>正しく認識した文（右）と間違えた文（左）の確信度です。間違えた文の確信度が高いほど、例文の見直しが必要です。</p>"
            "<img src='nlu/intent_histogram.png' alt='確信度のヒストグラム'>"
        )
    return parts


def write_index(results: Path) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    files = sorted(p.relative_to(results).as_posix() for p in results.rglob("*") if p.is_file() and p.name != "index.html")
    parts = [
        "<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>テスト結果</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>テスト結果（rasa test）</h1>",
        f"<p class='note'>作成: {datetime.now().strftime('%Y-%m-%d %H:%M')}　フォルダ: {html.escape(str(results))}</p>",
        *_stories(results),
        *_nlu(results),
        "<h2>このフォルダのファイル</h2><ul>"
        + "".join(f"<li><a href='{html.escape(f)}'>{html.escape(f)}</a></li>" for f in files)
        + "</ul>",
        "</body></html>",
    ]
    index = results / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.test_report", description="rasa test の結果を results/index.html にまとめます。")
    parser.add_argument("results", nargs="?", type=Path, default=ROOT / "results", help="rasa test の出力フォルダ（既定: results）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"テスト結果のまとめ: {write_index(args.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
