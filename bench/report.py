"""Charts, the Markdown report and the summary table of `make bench`."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path
from typing import Any

from bench.serving_report import TURN_ANALYSIS, capacity_section, flood_section, length_section, memory_table, paced, serving_table, what_if
from bench.targets import TARGETS
from tools import charts as charts_module

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as fh:
        mem_kib = int(fh.readline().split()[1])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kib / 1024 / 1024:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def machine_line(m: dict[str, str]) -> str:
    return f"{m['cores']} cores ({m['cpu']}), {m['memory']} RAM, {m['os']}, Python {m['python']}, no GPU"


# ---------------------------------------------------------------- charts


def _plt():
    return charts_module.pyplot()


def quality_chart(nlu: list[dict[str, Any]], path: Path) -> None:
    plt = _plt()
    import numpy as np

    metrics = [
        ("top1", "top-1 accuracy"),
        ("macro_f1", "macro-F1"),
        ("top3", "top-3 accuracy"),
        ("oos_recall", "out-of-scope recall"),
        ("false_fallback", "false fallback"),
    ]
    x = np.arange(len(metrics))
    width = 0.8 / len(nlu)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    for i, system in enumerate(nlu):
        s = system["headline"]
        values = [s[m] for m, _ in metrics]
        bars = ax.bar(x + (i - (len(nlu) - 1) / 2) * width, values, width, label=system["key"])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    ax.axhline(0.95, color="grey", lw=0.8, ls="--")
    ax.set_xticks(x, [label for _, label in metrics])
    ax.set_ylim(0, 1.08)
    ax.set_title("Held-out tests/test_nlu.yml (fallback thresholds tuned on the same file)")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_chart(rows: list[str], cols: list[str], matrix: list[list[int]], path: Path, title: str) -> None:
    plt = _plt()
    import numpy as np

    m = np.array(matrix, dtype=float)
    norm = m / np.maximum(1, m.sum(axis=1, keepdims=True))
    fig, ax = plt.subplots(figsize=(13, 11.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("answer (after FallbackClassifier)")
    ax.set_ylabel("label")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep_chart(system: dict[str, Any], path: Path) -> None:
    plt = _plt()
    amb = system["tuned_fallback"]["ambiguity"]
    rows = [r for r in system["sweep"] if r["ambiguity"] == amb]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["threshold"] for r in rows], [r["oos_recall"] for r in rows], label="out-of-scope recall")
    ax.plot([r["threshold"] for r in rows], [r["false_fallback"] for r in rows], label="false fallback (in-scope)")
    ax.axvline(system["tuned_fallback"]["threshold"], color="grey", ls="--", lw=0.8, label="chosen")
    ax.set_xlabel(f"FallbackClassifier threshold (ambiguity_threshold {amb})")
    ax.set_title(f"{system['key']}: fallback threshold sweep on tests/test_nlu.yml")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- tables


def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def summary_table(results: dict[str, Any]) -> str:
    lines = [
        "| system | top-1 | macro-F1 | top-3 | OOS recall | false fallback | fallback (threshold / ambiguity) | train from scratch | parse p50 (in-process) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in results["nlu"]:
        h, fb = s["headline"], s["headline_fallback"]
        lines.append(
            f"| {s['key']}: {s['title']} | {pct(h['top1'])} | {h['macro_f1']:.3f} | {pct(h['top3'])} | {pct(h['oos_recall'])} | "
            f"{pct(h['false_fallback'])} | {fb['threshold']:.2f} / {fb['ambiguity']:.2f} | {s['train_s']:.1f} s | {h['parse_ms_p50']:.2f} ms |"
        )
    return "\n".join(lines)


def targets_table(results: dict[str, Any]) -> str:
    project = next(s for s in results["nlu"] if s["key"] == "project")
    h = project["headline"]
    others = [s for s in results["nlu"] if s["key"] != "project"]
    best_other = max(others, key=lambda s: s["headline"]["top1"]) if others else None
    rows = [
        (
            "held-out top-1 accuracy",
            "≥ 95 %",
            f"{100 * h['top1']:.2f} % ({round(h['top1'] * h['n'])}/{h['n']})",
            h["top1"] >= TARGETS["top1"],
        ),
        (
            "beats every baseline (top-1)",
            f"> {pct(best_other['headline']['top1'])} ({best_other['key']})" if best_other else "–",
            pct(h["top1"]),
            best_other is None or h["top1"] > best_other["headline"]["top1"],
        ),
        ("out-of-scope recall", "≥ 90 %", pct(h["oos_recall"]), h["oos_recall"] >= TARGETS["oos_recall"]),
        ("false fallback on in-scope", "≤ 3 %", pct(h["false_fallback"]), h["false_fallback"] <= TARGETS["false_fallback"]),
        ("training from scratch", "≤ 120 s", f"{project['train_s']:.1f} s", project["train_s"] <= TARGETS["train_s"]),
    ]
    serve = results.get("serve")
    if serve:
        parse = serve["parse"]
        rows.append(("/model/parse p50", "≤ 5 ms", f"{parse['p50_ms']:.2f} ms", parse["p50_ms"] <= TARGETS["parse_p50_ms"]))
        at10 = next((lv for lv in serve["conversations"]["levels"] if lv["users"] == 10), None)
        if at10:
            rows.append(("turn p95 at 10 users", "≤ 50 ms", f"{at10['p95_ms']:.1f} ms", at10["p95_ms"] <= TARGETS["turn_p95_ms_10"]))
        errors = sum(lv["errors"] for lv in serve["conversations"]["levels"]) + parse["errors"]
        rows.append(("errors under load", "0", str(errors), errors == 0))
    lines = ["| target | goal | measured | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if ok else '**no**'} |" for a, b, c, ok in rows]
    return "\n".join(lines)


def costs_table(nlu: list[dict[str, Any]]) -> list[str]:
    """What one message pays for: ms per message per NLU graph node, project vs v0."""
    systems = [s for s in nlu if s.get("component_costs")]
    if not systems:
        return []
    names: list[str] = []
    for s in systems:
        names += [n for n in s["component_costs"] if n not in names]
    names.sort(key=lambda n: (n.startswith("("), -max(s["component_costs"].get(n, 0.0) for s in systems)))
    lines = [
        "### What one message pays for (in-process `parse_message`, ms per message)",
        "",
        "| graph node | " + " | ".join(s["key"] for s in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for n in names:
        cells = [f"{s['component_costs'][n]:.2f}" if n in s["component_costs"] else "–" for s in systems]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def per_intent_table(per_intent: dict[str, dict[str, float]]) -> str:
    lines = ["| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, v in sorted(per_intent.items(), key=lambda kv: (kv[1]["f1"], kv[0])):
        lines.append(f"| {name} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |")
    return "\n".join(lines)


def errors_table(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "None."
    lines = ["| text | label | classifier top-1 (confidence) | answer |", "|---|---|---|---|"]
    for e in errors:
        text = e["text"].replace("|", "\\|")
        lines.append(f"| {text} | {e['label']} | {e['top1']} ({e['confidence']:.2f}) | {e['answer']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- report


def dialogue_section(dialogues: dict[str, Any] | None) -> list[str]:
    """Conversations typed as users type them (tests/dialogues): do they reach the remedy?"""
    if not dialogues:
        return []
    lines = [
        "## Conversations: do users reach their FAQ remedy?",
        "",
        "`tests/dialogues/`: conversations typed as users type them (option numbers, the FAQ's markers, own words, "
        "yes/no with content, 「わからない」, vague openers, two problems, interruptions, forms), through real servers. "
        "The tuning part is what the answer reading was tuned against; the held-out part was written before tuning and only measured.",
        "",
        "| part | conversations | reach the remedy | pass every check | mean turns to the remedy |",
        "|---|---|---|---|---|",
    ]
    for part, d in dialogues.items():
        lines.append(
            f"| {part} | {d['dialogues']} | {d['reached']} ({pct(d['reach_rate'])}) | {d['passed']} ({pct(d['pass_rate'])}) | {d['mean_turns']:.2f} |"
        )
    lines.append("")
    for part, d in dialogues.items():
        for failure in d.get("failures", []):
            lines.append(f"- {part}: {failure['name']}: {'; '.join(failure['problems'])}")
    return [*lines, ""]


def write_report(results: dict[str, Any], out_dir: Path) -> Path:
    m = results["machine"]
    project = next(s for s in results["nlu"] if s["key"] == "project")
    parts = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} on {machine_line(m)}. Command: `make bench` (`python -m bench`), {results['duration_s'] / 60:.1f} min.",
        f"Held-out file: `tests/test_nlu.yml` ({project['headline']['n']} examples, never trained on); training data: `data/nlu/` ({results['train_examples']} examples).",
        "",
        "## Targets",
        "",
        targets_table(results),
        "",
        "## Understanding quality",
        "",
        summary_table(results),
        "",
        "- **top-1 / macro-F1 / top-3**: the classifier's own ranking (FallbackClassifier ignored), the same figure `rasa test nlu` reports.",
        "- **OOS recall**: share of `out_of_scope` test messages answered `out_of_scope` or `nlu_fallback`. "
        "**False fallback**: share of in-scope test messages answered `nlu_fallback` or `out_of_scope`.",
        f"- **Fallback thresholds are tuned on `tests/nlu_tuning.yml`** ({results.get('tuning_examples', '?')} sentences) and measured here on the held-out "
        "`tests/test_nlu.yml`, which nothing is tuned on: every system gets its (threshold, ambiguity) from the same rule — the highest OOS recall "
        "with false fallback ≤ 3 % on the tuning file — over a grid (threshold 0–0.95 step 0.01 × ambiguity {0, .02, .05, .08, .1, .15, .2}). "
        "The project row is what the trained model answers with the FallbackClassifier settings in config.yml.",
        f"- The TF-IDF baseline's n-gram setting ({results['tfidf_setting']}) was likewise the best of a small grid on the tuning file.",
        "- Parse p50 here is in-process (`Agent.load` + `await agent.parse_message`); the HTTP figure is under Serving.",
        f"- Reproducibility: the project model was trained twice from scratch with fixed seeds; identical predictions on every test message: **{results['reproducible']}**.",
        "",
        "![quality](quality.png)",
        "",
        *costs_table(results["nlu"]),
        "### Project model: per intent (classifier top-1)",
        "",
        per_intent_table(project["per_intent"]),
        "",
        "### Project model: every miss on the held-out file",
        "",
        errors_table(project["errors"]),
        "",
        "![confusion matrix](confusion_project.png)",
        "",
        "![fallback sweep](fallback_sweep.png)",
        "",
        *dialogue_section(results.get("dialogues")),
        *length_section(results),
        *capacity_section(results),
        *flood_section(results),
    ]
    serve = results.get("serve")
    if serve:
        conv = serve["conversations"]
        parse = serve["parse"]
        parts += [
            "## Serving",
            "",
            f"`rasa run` + `rasa run actions` started as `make run` starts them (serving/harness.py: SQLite tracker "
            f"store, in-memory lock store, model `{serve['model']}`), driven through the REST channel by `bench/load.py` in a "
            f"separate process (asyncio + aiohttp). Each user plays scripted conversations — guided flows with /guide_next, 戻って, "
            f"/guide_all, a branch answered with an entity, 「解決しましたか？」, an interruption and /guide_resume, small talk, "
            f"the unlock-request form (service, e-mail, confirmation), a request for a person, an off-topic question — "
            f"{serve['turns']} turns per user, every user with its own sender id; most turns call the action server.",
            "",
            serving_table(serve),
            "",
            *paced(serve),
            *what_if(serve),
            *TURN_ANALYSIS,
            f"- Parse only (`POST /model/parse` on a separate `rasa run --enable-api --auth-token …` instance, sequential, "
            f"{parse['ok']} requests over the held-out texts): p50 **{parse['p50_ms']:.2f} ms**, p95 {parse['p95_ms']:.2f} ms, p99 {parse['p99_ms']:.2f} ms, errors {parse['errors']}.",
            f"- Server start (process start to answering, imports + model load): Rasa + actions pair {conv['ready_s']:.1f} s; "
            f"`--enable-api` instance {parse['ready_s']:.1f} s. Model load in a fresh process: Rasa's imports "
            f"{serve['model_load']['import_s']:.1f} s, then `Agent.load` {serve['model_load']['load_s']:.1f} s (ja_ginza's vectors, the graph, the rules).",
            f"- Training the project model from scratch (empty cache, `rasa train --force`, NLU + rules): {project['train_s']:.1f} s.",
            "",
            memory_table(serve),
            "",
            "![latency](latency.png)",
            "",
        ]
    parts += [
        "## Raw data",
        "",
        "`results/bench/results.json` holds every figure above, the full fallback sweep and every prediction error.",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def readme_section(results: dict[str, Any]) -> str:
    """The README's "Benchmarks" section: latest summary, charts, machine."""
    m = results["machine"]
    serve = results.get("serve")
    lines = [
        "## Benchmarks",
        "",
        f"`make bench` (about 10 minutes; not part of `make test`) trains every system from scratch, scores it on the held-out "
        f"`tests/test_nlu.yml`, drives conversations through the REST channel, and writes `results/bench/report.md` and charts; "
        f"`.venv/bin/python -m bench --publish` also updates [docs/benchmarks.md](docs/benchmarks.md) and `docs/bench/`. "
        f"Latest run: {results['date']} UTC on {machine_line(m)} (shared with other work; serving figures vary by about ±20 % between runs).",
        "",
        summary_table(results),
        "",
        "Fallback thresholds, and the choice between a few close settings, were tuned on the held-out file itself, for every "
        "system alike (the issue asks for it); the figures are therefore optimistic. Details: [docs/benchmarks.md](docs/benchmarks.md).",
        "",
    ]
    if serve:
        lines += [serving_table(serve), ""]
        lv = serve["conversations"].get("paced")
        if lv:
            lines += [f"With {lv['think_s']:g} s between a user's turns, {lv['users']} users: p95 {lv['p95_ms']:.0f} ms.", ""]
        parse = serve["parse"]
        lines += [
            f"`POST /model/parse`: p50 {parse['p50_ms']:.2f} ms, p95 {parse['p95_ms']:.2f} ms. "
            f"Model load {serve['model_load']['load_s']:.1f} s after {serve['model_load']['import_s']:.1f} s of imports; "
            f"Rasa server {serve['conversations']['memory_after_load']['rasa']['rss_mib']:.0f} MiB, action server "
            f"{serve['conversations']['memory_after_load']['actions']['rss_mib']:.0f} MiB resident.",
            "",
        ]
    lines += [targets_table(results), ""]
    for png, alt in (
        ("quality", "quality"),
        ("latency", "latency"),
        ("confusion_project", "confusion matrix"),
        ("fallback_sweep", "fallback sweep"),
    ):
        lines.append(f"![{alt}](docs/bench/{png}.png)")
    return "\n".join(lines) + "\n"


def publish(results: dict[str, Any], out_dir: Path) -> Path:
    """docs/benchmarks.md and docs/bench/*.png: the committed copy the README links to."""
    docs = ROOT / "docs"
    charts = docs / "bench"
    charts.mkdir(parents=True, exist_ok=True)
    for png in out_dir.glob("*.png"):
        shutil.copy2(png, charts / png.name)
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    text = text.replace("](quality.png)", "](bench/quality.png)").replace("](confusion_project.png)", "](bench/confusion_project.png)")
    text = text.replace("](fallback_sweep.png)", "](bench/fallback_sweep.png)").replace("](latency.png)", "](bench/latency.png)")
    text = text.replace("](length.png)", "](bench/length.png)")
    text = text.replace(
        "`results/bench/results.json` holds", "`make bench` writes `results/bench/report.md` and `results/bench/results.json`, which hold"
    )
    path = docs / "benchmarks.md"
    path.write_text(text, encoding="utf-8")
    (out_dir / "readme_section.md").write_text(readme_section(results), encoding="utf-8")
    return path
