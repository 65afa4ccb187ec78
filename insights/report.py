"""The insight report as files: one self-contained HTML page (charts embedded as PNG) and CSVs.

All text reaching these files was masked when it was read (insights/data.py);
CSVs are UTF-8 with a BOM so that Excel on Japanese Windows opens them correctly.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import shlex
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from insights.data import KINDS, Insights
from insights.text import Group, group_similar
from tools import charts as charts_module

RESULTS = {  # guide_outcome result → Japanese label, chart colour
    "resolved": ("解決した", "#2e7d32"),
    "unresolved": ("解決しない", "#c62828"),
    "failed": ("手順がうまくいかない", "#ef6c00"),
    "stopped": ("途中でやめた", "#757575"),
    "form": ("問い合わせフォームへ", "#1565c0"),
}
TOP_GROUPS = 30


@dataclass
class FlowInfo:
    title: str
    steps: dict[str, list[str]]  # procedure node → its steps


@dataclass
class Tables:
    """Every table of the report, as (header, rows): the HTML and the CSV show the same."""

    groups: list[Group]
    unanswered: tuple[list[str], list[list[Any]]]
    messages: tuple[list[str], list[list[Any]]]
    outcomes: tuple[list[str], list[list[Any]]]
    handoffs: tuple[list[str], list[list[Any]]]
    dropoffs: tuple[list[str], list[list[Any]]]
    daily: tuple[list[str], list[list[Any]]]


def flow_info(flows_file: Path) -> dict[str, FlowInfo]:
    """Titles and steps from content/flows.yml, so the report speaks the editors' words."""
    try:
        from actions.content import parse_flows

        flows = parse_flows(flows_file)
    except Exception:  # noqa: BLE001 - the report still works with bare flow ids
        return {}
    return {
        flow_id: FlowInfo(flow.title, {node.id: list(node.steps) for node in flow.nodes.values() if node.type == "procedure"})
        for flow_id, flow in flows.items()
    }


def _title(flows: dict[str, FlowInfo], flow_id: str) -> str:
    return flows[flow_id].title if flow_id in flows else flow_id


def build_tables(insights: Insights, flows: dict[str, FlowInfo], similarity: float = 0.45) -> Tables:
    messages = sorted(insights.unanswered, key=lambda m: m.when)
    groups = group_similar([m.text for m in messages], similarity)
    group_of = {i: n for n, g in enumerate(groups, 1) for i in g.members}

    def chosen_label(value: str | None) -> str:
        return "どれにも当てはまらない" if value == "none" else (_title(flows, value) if value else "")

    unanswered_rows = []
    for n, group in enumerate(groups, 1):
        members = [messages[i] for i in group.members]
        kinds = Counter(m.kind for m in members)
        guesses = Counter(m.guess for m in members if m.guess)
        chosen = Counter(m.chosen for m in members if m.chosen and m.chosen != "none")
        unanswered_rows.append(
            [
                n,
                group.count,
                group.representative,
                " / ".join(t for t, _ in group.variants.most_common(6) if t != group.representative),
                "、".join(f"{KINDS.get(k, k)} {c}" for k, c in kinds.most_common()),
                guesses.most_common(1)[0][0] if guesses else "",
                chosen.most_common(1)[0][0] if chosen else "",
                min(m.when for m in members).strftime("%Y-%m-%d %H:%M"),
                max(m.when for m in members).strftime("%Y-%m-%d %H:%M"),
                "",
            ]
        )
    message_rows = [
        [
            m.when.strftime("%Y-%m-%d %H:%M:%S"),
            m.text,
            KINDS.get(m.kind, m.kind),
            m.guess or "",
            f"{m.confidence:.2f}",
            chosen_label(m.chosen),
            group_of.get(i, ""),
        ]
        for i, m in enumerate(messages)
    ]
    by_flow: dict[str, Counter] = {}
    for o in insights.outcomes:
        by_flow.setdefault(o.flow, Counter())[o.result] += 1
    outcome_rows = []
    for flow_id, counts in sorted(by_flow.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(counts.values())
        answered = counts["resolved"] + counts["unresolved"]
        outcome_rows.append(
            [
                flow_id,
                _title(flows, flow_id),
                *[counts[r] for r in RESULTS],
                total,
                f"{counts['resolved'] / answered:.0%}" if answered else "",
            ]
        )
    handoff_counts = Counter((h.flow, h.result, h.node or "", h.step or "") for h in insights.handoffs)
    handoff_rows = [
        [flow, _title(flows, flow), RESULTS.get(result, (result,))[0], node, step, count]
        for (flow, result, node, step), count in sorted(handoff_counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    ]
    drop_counts = Counter((d.flow, d.node or "", d.awaiting, d.step or 0) for d in insights.dropoffs)
    drop_rows = []
    for (flow, node, awaiting, step), count in sorted(drop_counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1], kv[0][3])):
        steps = flows[flow].steps.get(node, []) if flow in flows else []
        text = steps[step - 1] if awaiting == "step" and 0 < step <= len(steps) else ""
        drop_rows.append(
            [flow, _title(flows, flow), node, "手順" if awaiting == "step" else "選択肢", step or "", len(steps) or "", text, count]
        )
    days = []
    day = insights.since
    while day <= insights.until:
        c = insights.daily.get(day, Counter())
        days.append([day.isoformat(), c["conversations"], c["messages"], c["unanswered"]])
        day += timedelta(days=1)
    return Tables(
        groups=groups,
        unanswered=(
            [
                "順位",
                "件数",
                "代表的な文",
                "ほかの言い方",
                "種類",
                "NLU の推測",
                "利用者が選んだトピック",
                "最初",
                "最後",
                "追加先インテント",
            ],
            unanswered_rows,
        ),
        messages=(["日時", "文", "種類", "NLU の推測", "確信度", "「もしかして」で選ばれたもの", "グループ"], message_rows),
        outcomes=(["フロー", "タイトル", *[label for label, _ in RESULTS.values()], "合計", "解決率（はい/(はい+いいえ)）"], outcome_rows),
        handoffs=(["フロー", "タイトル", "きっかけ", "ノード", "手順", "件数"], handoff_rows),
        dropoffs=(["フロー", "タイトル", "ノード", "待っていた入力", "手順", "手順数", "手順の文", "件数"], drop_rows),
        daily=(["日付", "会話数", "利用者の発言数", "答えられなかった発言数"], days),
    )


# --- charts ------------------------------------------------------------------------------------


def _pyplot():
    return charts_module.pyplot()


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    fig.clf()
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(text: str, n: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def charts(tables: Tables) -> dict[str, str]:
    """Base64 PNGs by name; a chart with nothing to show is left out."""
    plt = _pyplot()
    out: dict[str, str] = {}
    header, days = tables.daily
    if days:
        fig, ax = plt.subplots(figsize=(8, 2.8))
        labels = [d[0][5:] for d in days]
        ax.bar(labels, [d[2] for d in days], color="#90caf9", label="利用者の発言")
        ax.bar(labels, [d[3] for d in days], color="#e53935", label="答えられなかった発言")
        ax.set_ylabel("件数")
        ax.legend(loc="upper left", fontsize=8)
        step = max(1, len(labels) // 15)
        ax.set_xticks(range(0, len(labels), step))
        ax.set_xticklabels(labels[::step], rotation=45, fontsize=8)
        out["daily"] = _png(fig)
    _, rows = tables.unanswered
    if rows:
        top = rows[:15][::-1]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 0.8))
        ax.barh([f"{r[0]}. {_short(r[2])}" for r in top], [r[1] for r in top], color="#e53935")
        ax.set_xlabel("件数")
        ax.xaxis.get_major_locator().set_params(integer=True)
        out["unanswered"] = _png(fig)
    _, rows = tables.outcomes
    if rows:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
        rows = rows[::-1]  # most used flow on top
        left = [0] * len(rows)
        labels = [_short(r[1], 24) for r in rows]
        for i, (label, colour) in enumerate(RESULTS.values()):
            values = [r[2 + i] for r in rows]
            ax.barh(labels, values, left=left, color=colour, label=label)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel("件数")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
        out["outcomes"] = _png(fig)
    _, rows = tables.dropoffs
    if rows:
        top = rows[:15][::-1]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 0.8))
        ax.barh([f"{_short(r[1], 20)} {r[3]}{r[4]}" + (f"/{r[5]}" if r[5] else "") for r in top], [r[7] for r in top], color="#ef6c00")
        ax.set_xlabel("件数")
        ax.xaxis.get_major_locator().set_params(integer=True)
        out["dropoffs"] = _png(fig)
    plt.close("all")
    return out


# --- files --------------------------------------------------------------------------------------

CSV_FILES = {
    "unanswered": "unanswered.csv",
    "messages": "unanswered_messages.csv",
    "outcomes": "outcomes.csv",
    "handoffs": "handoffs.csv",
    "dropoffs": "dropoffs.csv",
    "daily": "daily.csv",
}


def write_csv(path: Path, table: tuple[list[str], list[list[Any]]]) -> None:
    header, rows = table
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _table(table: tuple[list[str], list[list[Any]]], limit: int | None = None, numeric: tuple[int, ...] = ()) -> str:
    header, rows = table
    if not rows:
        return '<p class="empty">この期間にはありません。</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows[:limit]:
        cells = "".join(
            f'<td class="num">{html.escape(str(v))}</td>' if i in numeric else f"<td>{html.escape(str(v))}</td>" for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    more = f'<p class="note">ほか {len(rows) - limit} 行は CSV にあります。</p>' if limit and len(rows) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _img(images: dict[str, str], name: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{images[name]}" alt="{html.escape(alt)}">' if name in images else ""


CSS = """
body{font-family:"Noto Sans CJK JP","Hiragino Sans","Yu Gothic",Meiryo,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.6;padding:0 1em}
h1{font-size:1.6em;border-bottom:3px solid #1565c0;padding-bottom:.3em}h2{font-size:1.25em;margin-top:2em;border-left:6px solid #1565c0;padding-left:.5em}
.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{background:#f5f7fa;border-radius:8px;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.6em}.card span{font-size:.85em;color:#555}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eef2f7}td.num{text-align:right;white-space:nowrap}img{max-width:100%;margin:.5em 0}
.note,.empty{color:#555;font-size:.9em}code{background:#f0f0f0;padding:0 .3em;border-radius:3px}
"""


def write_html(path: Path, insights: Insights, tables: Tables, images: dict[str, str], source: str) -> None:
    unanswered = len(insights.unanswered)
    rate = f"{unanswered / insights.user_messages:.1%}" if insights.user_messages else "—"
    resolved = sum(1 for o in insights.outcomes if o.result == "resolved")
    answered = sum(1 for o in insights.outcomes if o.result in ("resolved", "unresolved"))
    cards = [
        (insights.conversations, "会話"),
        (insights.user_messages, "利用者の発言"),
        (f"{unanswered}（{rate}）", "答えられなかった発言"),
        (f"{resolved}/{answered}" if answered else "—", "「解決しましたか？」に「はい」"),
        (len(insights.handoffs), "窓口への引き継ぎ"),
        (len(insights.dropoffs), "手順の途中でやめた会話"),
    ]
    dym = [m for m in insights.unanswered if m.kind == "did_you_mean"]
    picked = Counter(m.chosen for m in dym)
    example = ""
    if tables.unanswered[1]:
        # the first group a user resolved through "did you mean" makes the most telling example
        row = next((r for r in tables.unanswered[1] if r[6]), tables.unanswered[1][0])
        example = f"python -m tools.add_example --intent {row[6] or '<インテント>'} {shlex.quote(row[2])}"
    parts = [
        "<!doctype html><html lang='ja'><head><meta charset='utf-8'>",
        "<title>インサイトレポート</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>インサイトレポート：e-Gov ログインヘルプ アシスタント</h1>",
        f"<p>期間：{insights.since.isoformat()} 〜 {insights.until.isoformat()}　データ：{html.escape(source)}</p>",
        "<p class='note'>メールアドレス・電話番号・長い数字は「＊＊＊」に置き換えています。同じ内容の CSV がこのページと同じフォルダにあります。</p>",
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{html.escape(str(v))}</b><span>{html.escape(k)}</span></div>" for v, k in cards)
        + "</div>",
        "<h2>日ごとの発言数</h2>",
        _img(images, "daily", "日ごとの発言数"),
        "<h2>答えられなかった質問（似た文をまとめて件数順）</h2>",
        "<p>聞き返し・言い換えのお願い・回答できず・範囲外になった利用者の発言です。当てはまるトピックがあれば、"
        "その例文に足してください（<code>unanswered.csv</code> の「追加先インテント」に書き込んで "
        "<code>python -m tools.add_example --csv unanswered.csv</code>、または 1 文ずつ下のコマンド）。"
        "どのトピックにも当たらない質問が多ければ、新しいトピックの候補です。</p>",
        f"<p><code>{html.escape(example)}</code></p>" if example else "",
        _img(images, "unanswered", "答えられなかった質問の件数"),
        _table(tables.unanswered, TOP_GROUPS, numeric=(0, 1)),
        "<h2>「もしかして」の結果</h2>",
        f"<p>聞き返した {len(dym)} 件のうち、トピックが選ばれた {sum(c for k, c in picked.items() if k and k != 'none')} 件、"
        f"「どれにも当てはまらない」{picked['none']} 件、そのほか（別の文を入力・離脱）{picked[None]} 件。"
        "選ばれたトピックは、その文を例文に足す第一の候補です（表の「利用者が選んだトピック」）。</p>",
        "<h2>「解決しましたか？」の回答</h2>",
        _img(images, "outcomes", "トピックごとの結果"),
        _table(tables.outcomes, numeric=tuple(range(2, 9))),
        "<h2>窓口への引き継ぎ</h2>",
        "<p>「解決しましたか？」に「いいえ」、または手順の途中で「うまくいかない」と答えて窓口を案内した件数です。</p>",
        _table(tables.handoffs, numeric=(4, 5)),
        "<h2>手順の途中でやめた場所</h2>",
        "<p>会話の最後に、利用者が手順や選択肢の途中にいたものです。同じ手順に集中していれば、その説明を見直してください。</p>",
        _img(images, "dropoffs", "手順の途中でやめた場所"),
        _table(tables.dropoffs, numeric=(4, 5, 7)),
        "<h2>答えられなかった発言（すべて）</h2>",
        _table(tables.messages, 200, numeric=(4, 6)),
        "<h2>CSV</h2><ul>" + "".join(f"<li><a href='{name}'>{name}</a></li>" for name in CSV_FILES.values()) + "</ul>",
        "</body></html>",
    ]
    path.write_text("\n".join(p for p in parts if p), encoding="utf-8")


def write_report(out: Path, insights: Insights, flows: dict[str, FlowInfo], source: str, similarity: float = 0.45) -> Path:
    """Writes index.html and the CSVs into out; returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(insights, flows, similarity)
    for name, filename in CSV_FILES.items():
        write_csv(out / filename, getattr(tables, name))
    index = out / "index.html"
    write_html(index, insights, tables, charts(tables), source)
    return index


def default_period(today: date, days: int = 30) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today
