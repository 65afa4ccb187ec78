"""`make bench`: understanding quality against baselines and serving latency, in one run.

    python -m bench                 # everything (about 10 minutes on 2 cores)
    python -m bench --skip-serving  # quality only
    python -m bench --reuse-models  # keep models already in results/bench/models
    python -m bench --publish       # also copy the report and charts to docs/
    python -m bench --publish-only  # copy the last run's report and charts to docs/

Writes results/bench/report.md, results/bench/results.json and PNG charts next to
them, and prints the summary table. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import nlu as bench_nlu
from bench import report as bench_report
from bench import serving_report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench"
SERVED_MODEL = ROOT / "models" / "egov-login-help.tar.gz"


def log(message: str) -> None:
    print(message, flush=True)


def quality(reuse: bool, only: set[str] | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    models = OUT / "models"
    tests = bench_nlu.load_examples(bench_nlu.TEST_FILE)
    tuning = bench_nlu.load_examples(bench_nlu.TUNING_FILE)
    train_examples = bench_nlu.load_examples(bench_nlu.TRAIN_DIR)
    extra: dict[str, Any] = {"train_examples": len(train_examples), "test_examples": len(tests), "tuning_examples": len(tuning)}
    results = []
    project_predictions = None
    for system in bench_nlu.systems_under_test():
        if only and system.key not in only and system.key != "project":
            continue
        log(f"- {system.key}: {system.title}")
        if system.kind == "tfidf":
            extra["tfidf_setting"] = bench_nlu.predict_tfidf(system, train_examples, tests, tuning)
        else:
            model = models / f"{system.key}.tar.gz"
            if reuse and model.exists():
                system.model = model
                system.train_s = json.loads((models / f"{system.key}.train.json").read_text())["train_s"]
            else:
                bench_nlu.train(system, models, OUT / "logs")
                (models / f"{system.key}.train.json").write_text(json.dumps({"train_s": system.train_s}))
                log(f"  trained from scratch in {system.train_s:.1f} s")
            bench_nlu.predict_rasa(system, tests, tuning)
        result = bench_nlu.evaluate(system)
        if system.key in ("project", "v0_diet"):
            result["component_costs"] = bench_nlu.component_costs(system.model, [t for t, _ in tests])
        if system.key == "project":
            answers = [p.served for p in system.predictions]
            result["headline"], result["headline_fallback"] = (
                result["served"],
                dict(zip(("threshold", "ambiguity"), system.fallback, strict=True)),
            )
            result["per_intent"] = bench_nlu.per_intent_f1(system.predictions)
            result["errors"] = bench_nlu.errors(system.predictions, answers)
            result["confusion"] = bench_nlu.confusion(system.predictions, answers)
            project_predictions = system.predictions
            tuned = result["tuned_fallback"]
            if (tuned["threshold"], tuned["ambiguity"]) != tuple(system.fallback):
                log(
                    f"  note: the sweep prefers threshold {tuned['threshold']} / ambiguity {tuned['ambiguity']} (config.yml: {system.fallback})"
                )
        else:
            result["headline"], result["headline_fallback"] = result["tuned"], result["tuned_fallback"]
        h = result["headline"]
        log(
            f"  top-1 {h['top1']:.3f}  macro-F1 {h['macro_f1']:.3f}  top-3 {h['top3']:.3f}  OOS recall {h['oos_recall']:.3f}  "
            f"false fallback {h['false_fallback']:.3f}  parse p50 {h['parse_ms_p50']:.2f} ms"
        )
        results.append(result)
    marker = models / "reproducible.json"
    if project_predictions and not reuse:
        extra["reproducible"] = reproducibility(project_predictions, models)
        marker.write_text(json.dumps({"reproducible": extra["reproducible"]}))
    else:  # --reuse-models: the check made when these models were trained
        extra["reproducible"] = json.loads(marker.read_text())["reproducible"] if marker.exists() else "not checked (--reuse-models)"
    return results, extra


def reproducibility(first: list[bench_nlu.Prediction], models: Path) -> str:
    """Trains the project model a second time from scratch; same ranking for every test message?"""
    log("- project, second training from scratch (fixed seeds: same predictions?)")
    system = next(s for s in bench_nlu.systems_under_test() if s.key == "project")
    system.key = "project_again"
    bench_nlu.train(system, models, OUT / "logs")
    bench_nlu.predict_rasa(system, [(p.text, p.label) for p in first], [])
    same = all(
        [n for n, _ in a.ranking] == [n for n, _ in b.ranking]
        and all(abs(x - y) < 1e-6 for (_, x), (_, y) in zip(a.ranking, b.ranking, strict=True))
        for a, b in zip(first, system.predictions, strict=True)
    )
    (models / "project_again.tar.gz").unlink(missing_ok=True)
    log(f"  identical rankings and confidences: {same}")
    return "yes" if same else "NO"


def serving(users: list[int], turns: int, texts: list[str]) -> dict[str, Any]:
    from bench import serve as bench_serve

    load = bench_serve.model_load(SERVED_MODEL)
    log(f"- model load in a fresh process: imports {load['import_s']:.1f} s, Agent.load {load['load_s']:.1f} s")
    log(f"- conversations through the REST channel ({SERVED_MODEL.relative_to(ROOT)})")
    conv = bench_serve.conversations(SERVED_MODEL, users, turns, log=lambda m: log(m))
    log("- what-if: in-memory tracker store (not how `make run` serves)")
    memory = [bench_serve.conversations_in_memory(SERVED_MODEL, u, turns, log=lambda m: log(m)) for u in users if u in (1, 10)]
    log("- parse only: rasa run --enable-api")
    parse = bench_serve.parse_only(SERVED_MODEL, texts, log=lambda m: log(m))
    return {
        "model": str(SERVED_MODEL.relative_to(ROOT)),
        "turns": turns,
        "model_load": load,
        "conversations": conv,
        "in_memory": memory,
        "parse": parse,
    }


def dialogue_suite() -> dict[str, Any]:
    """The dialogue suite (tests/dialogues) through real servers: share of conversations
    that reach their FAQ remedy, and turns to get there, per part."""
    import tempfile

    from serving.harness import Stack
    from tools import dialogues

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dialogues-") as tmp:
        with Stack(Path(tmp), model=SERVED_MODEL) as servers:
            for part in dialogues.PARTS:
                results = [dialogues.run(d, servers.talk) for d in dialogues.load(part)]
                summary = dialogues.summary(results)
                summary["failures"] = [{"name": r.dialogue.name, "problems": r.problems} for r in results if not r.ok]
                out[part] = summary
                log(
                    f"- {part}: {summary['reached']}/{summary['dialogues']} reach their remedy ({summary['reach_rate']:.1%}), "
                    f"{summary['passed']} pass every check, mean {summary['mean_turns']:.2f} turns to the remedy"
                )
    return out


def length(turns: int) -> list[dict[str, Any]]:
    from bench import serve as bench_serve

    return [bench_serve.latency_by_length(SERVED_MODEL, turns, stock=stock, log=log) for stock in (False, True)]


def capacity() -> list[dict[str, Any]]:
    from bench import throughput

    return throughput.servers(SERVED_MODEL, log=log)


def flood() -> list[dict[str, Any]]:
    from bench import throughput

    return throughput.flood(SERVED_MODEL, log=log)


# Serving sections that can be measured alone and added to the last run (--add).
SECTIONS = {
    "length": ("a turn's cost against the length of the conversation", lambda args: length(args.length_turns)),
    "capacity": ("capacity: one Rasa server and several behind nginx, patched and stock", lambda args: capacity()),
    "flood": ("a flood into one conversation, with the rate limit on and off", lambda args: flood()),
}


def charts(results: dict[str, Any]) -> None:
    project = next(s for s in results["nlu"] if s["key"] == "project")
    bench_report.quality_chart(results["nlu"], OUT / "quality.png")
    rows, cols, matrix = project["confusion"]
    bench_report.confusion_chart(rows, cols, matrix, OUT / "confusion_project.png", "project model on tests/test_nlu.yml: label → answer")
    bench_report.sweep_chart(project, OUT / "fallback_sweep.png")
    if results.get("serve"):
        serving_report.latency_chart(results["serve"], OUT / "latency.png")
    if results.get("length"):
        serving_report.length_chart(results["length"], OUT / "length.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-serving", action="store_true", help="quality only")
    ap.add_argument("--reuse-models", action="store_true", help="do not retrain models already in results/bench/models")
    ap.add_argument("--only", default="", help="comma-separated system keys (the project is always included)")
    ap.add_argument("--users", default="1,10,50", help="concurrency levels")
    ap.add_argument("--turns", type=int, default=40, help="turns per user at every level")
    ap.add_argument("--publish", action="store_true", help="copy report and charts to docs/benchmarks.md and docs/bench/")
    ap.add_argument("--publish-only", action="store_true", help="publish the last run (results/bench/results.json) without measuring")
    ap.add_argument("--add", default="", help=f"measure only these serving sections ({', '.join(SECTIONS)}) and add them to the last run")
    ap.add_argument("--length-turns", type=int, default=270, help="turns in the long conversation")
    args = ap.parse_args(argv)
    if args.add:
        results = json.loads((OUT / "results.json").read_text(encoding="utf-8"))
        for name in args.add.split(","):
            title, measure = SECTIONS[name]
            log(f"== {title} ==")
            results[name] = measure(args)
        (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        charts(results)
        bench_report.write_report(results, OUT)
        if args.publish:
            print(f"Published: {bench_report.publish(results, OUT).relative_to(ROOT)} and docs/bench/")
        return 0
    if args.publish_only:
        results = json.loads((OUT / "results.json").read_text(encoding="utf-8"))
        bench_report.write_report(results, OUT)
        print(f"Published: {bench_report.publish(results, OUT).relative_to(ROOT)} and docs/bench/")
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log("== understanding quality: tests/test_nlu.yml (held out) ==")
    nlu, extra = quality(args.reuse_models, {k for k in args.only.split(",") if k} or None)
    results: dict[str, Any] = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": bench_report.machine(),
        "nlu": nlu,
        **extra,
    }
    if not args.skip_serving:
        if not SERVED_MODEL.exists():
            log(f"no model at {SERVED_MODEL}: run `make train` first")
            return 1
        log("== dialogues: conversations typed as users type them (tests/dialogues) ==")
        results["dialogues"] = dialogue_suite()
        for name, (title, measure) in SECTIONS.items():
            log(f"== {title} ==")
            results[name] = measure(args)
        log("== serving ==")
        texts = [t for t, _ in bench_nlu.load_examples(bench_nlu.TEST_FILE)]
        results["serve"] = serving([int(u) for u in args.users.split(",")], args.turns, texts)
    results["duration_s"] = time.perf_counter() - started
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    charts(results)
    report = bench_report.write_report(results, OUT)
    print()
    print(bench_report.summary_table(results))
    if results.get("serve"):
        print()
        print(serving_report.serving_table(results["serve"]))
    print()
    print(bench_report.targets_table(results))
    print(f"\nReport: {report.relative_to(ROOT)}")
    if args.publish:
        print(f"Published: {bench_report.publish(results, OUT).relative_to(ROOT)} and docs/bench/")
    errors = (
        sum(lv["errors"] for lv in results["serve"]["conversations"]["levels"]) + results["serve"]["parse"]["errors"]
        if results.get("serve")
        else 0
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
