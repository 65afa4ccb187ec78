"""Understanding quality for `make bench`: trains each system from scratch and scores
it on the held-out tests/test_nlu.yml (never trained on).

Systems (all trained on the same data/nlu examples):
- project: config.yml as it is;
- project + LogisticRegression: config.yml with LogisticRegressionClassifier instead of DIET;
- Rasa without GiNZA: NFKC + bench.baselines.ScriptTokenizer + the project's
  character n-gram CountVectors + the project's DIET and FallbackClassifier;
- TF-IDF nearest example: scikit-learn, character n-grams, cosine similarity to the
  closest training example, NFKC-normalised text; no Rasa at all.

Rasa models are loaded with Agent.load and queried with `agent.parse_message`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.baselines import GINZA_ONLY
from serving.harness import serving_command
from usertext import nfkc

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "data" / "nlu"
TEST_FILE = ROOT / "tests" / "test_nlu.yml"  # held out: measured, never tuned on
TUNING_FILE = ROOT / "tests" / "nlu_tuning.yml"  # the fallback thresholds and the TF-IDF setting are chosen on this
FALLBACK, OOS = "nlu_fallback", "out_of_scope"
REJECTED = {FALLBACK, OOS}

# Fallback sweep: every system gets its threshold chosen by the same rule on the tuning file.
THRESHOLDS = [round(0.01 * i, 2) for i in range(0, 96)]
AMBIGUITIES = [0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2]
MAX_FALSE_FALLBACK = 0.03


@dataclass
class Prediction:
    text: str
    label: str
    ranking: list[tuple[str, float]]  # the classifier's own ranking, nlu_fallback removed
    served: str  # what the model answers as configured (may be nlu_fallback)
    ms: float = 0.0


@dataclass
class System:
    key: str
    title: str
    kind: str  # "rasa" or "tfidf"
    config: dict[str, Any] | None = None
    full_training: bool = False  # domain + rules too (the project model)
    model: Path | None = None
    train_s: float | None = None
    load_s: float | None = None
    predictions: list[Prediction] = field(default_factory=list)  # on the held-out file
    tuning_predictions: list[Prediction] = field(default_factory=list)  # on the tuning file
    fallback: tuple[float, float] | None = None  # (threshold, ambiguity) as configured


# ---------------------------------------------------------------- data


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) for every example in a Rasa NLU YAML file or folder."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(ex.get("text"), ex.get("intent")) for ex in data.intent_examples]


# ---------------------------------------------------------------- configs

CLASSIFIERS = {"components.linear.LinearIntentClassifier", "DIETClassifier", "LogisticRegressionClassifier"}
RASA_CHAR_NGRAMS = {"name": "CountVectorsFeaturizer", "analyzer": "char", "min_ngram": 1, "max_ngram": 4}

# config.yml's pipeline before issue 6 (GiNZA tokens + vectors, CountVectors, DIET).
PIPELINE_V0: list[dict[str, Any]] = [
    {"name": "components.text_normalizer.NFKCNormalizer"},
    {"name": "bench.baselines.GinzaNLP", "model": "ja_ginza"},
    {"name": "SpacyTokenizer"},
    {"name": "SpacyFeaturizer", "pooling": "mean"},
    {"name": "bench.baselines.DropSpacyDoc"},
    RASA_CHAR_NGRAMS,
    {"name": "CountVectorsFeaturizer", "analyzer": "word", "use_lemma": True},
    {"name": "RegexEntityExtractor", "case_sensitive": False, "use_lookup_tables": False, "use_regexes": True},
    {"name": "EntitySynonymMapper"},
    {
        "name": "DIETClassifier",
        "epochs": 60,
        "number_of_transformer_layers": 0,
        "random_seed": 42,
        "entity_recognition": False,
        "constrain_similarities": True,
    },
    {"name": "FallbackClassifier", "threshold": 0.45, "ambiguity_threshold": 0.1},
]


def read_config(path: Path = ROOT / "config.yml") -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def fallback_of(config: dict[str, Any]) -> tuple[float, float] | None:
    for item in config["pipeline"]:
        if item["name"] == "FallbackClassifier":
            return float(item.get("threshold", 0.3)), float(item.get("ambiguity_threshold", 0.1))
    return None


def nlu_only(config: dict[str, Any], pipeline: list[dict[str, Any]]) -> dict[str, Any]:
    return {"recipe": config.get("recipe", "default.v1"), "language": config["language"], "pipeline": copy.deepcopy(pipeline)}


def with_classifier(config: dict[str, Any], classifier: dict[str, Any]) -> dict[str, Any]:
    """The project's pipeline with another intent classifier in its classifier's place."""
    return nlu_only(config, [dict(classifier) if item["name"] in CLASSIFIERS else item for item in config["pipeline"]])


def without_ginza(config: dict[str, Any], pipeline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A tokenizer that needs no model in SpacyTokenizer's place; GiNZA's vectors and
    word/lemma counts (which need GiNZA's tokens) dropped; everything else as it is."""
    out: list[dict[str, Any]] = []
    tokenizer = {"name": "bench.baselines.ScriptTokenizer"}
    for item in pipeline if pipeline is not None else config["pipeline"]:
        name = item["name"]
        if name in ("SpacyTokenizer", "components.ginza.GinzaVectors"):
            if tokenizer not in out:
                out.append(tokenizer)
        elif name in GINZA_ONLY:
            continue
        elif name == "CountVectorsFeaturizer" and item.get("analyzer", "word") == "word":
            continue
        else:
            out.append(item)
    return nlu_only(config, out)


def systems_under_test() -> list[System]:
    project = read_config()
    return [
        System("project", "config.yml: GiNZA vectors + char TF-IDF + linear classifier", "rasa", project, full_training=True),
        System(
            "project_lr",
            "config.yml with Rasa's LogisticRegressionClassifier",
            "rasa",
            with_classifier(project, {"name": "LogisticRegressionClassifier"}),
        ),
        System("no_ginza", "config.yml without GiNZA (ScriptTokenizer, same features and classifier)", "rasa", without_ginza(project)),
        System("v0_diet", "before issue 6: GiNZA + CountVectors + DIET", "rasa", nlu_only(project, PIPELINE_V0)),
        System(
            "no_ginza_diet", "Rasa without GiNZA: ScriptTokenizer + char CountVectors + DIET", "rasa", without_ginza(project, PIPELINE_V0)
        ),
        System("tfidf", "TF-IDF char n-gram nearest example (scikit-learn)", "tfidf"),
    ]


# ---------------------------------------------------------------- training


def train(system: System, out_dir: Path, log_dir: Path) -> None:
    """Trains from scratch (empty cache) into out_dir/<key>.tar.gz and times it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / f"{system.key}.config.yml"
    config_path.write_text(yaml.safe_dump(system.config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": cache, "PYTHONPATH": str(ROOT)}
        if system.full_training:
            cmd = [
                *serving_command(),
                "train",
                "--config",
                str(config_path),
                "--domain",
                str(ROOT / "domain.yml"),
                "--data",
                str(ROOT / "data"),
                "--force",
            ]
        else:
            cmd = [*serving_command(), "train", "nlu", "--config", str(config_path), "--nlu", str(TRAIN_DIR)]
        cmd += ["--out", str(out_dir), "--fixed-model-name", system.key]
        log = log_dir / f"train-{system.key}.log"
        start = time.perf_counter()
        with log.open("w") as fh:
            done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        system.train_s = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"training {system.key} failed; see {log}")
    system.model = out_dir / f"{system.key}.tar.gz"


# ---------------------------------------------------------------- prediction


def quiet_rasa() -> None:
    logging.disable(logging.INFO)
    os.environ.setdefault("LOG_LEVEL", "WARNING")


async def _parse_all(model: Path, tests: list[tuple[str, str]]) -> tuple[list[Prediction], float]:
    from rasa.core.agent import Agent

    start = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - start
    await agent.parse_message("こんにちは")  # first call builds TF functions
    predictions = []
    for text, label in tests:
        t0 = time.perf_counter()
        result = await agent.parse_message(text)
        ms = 1000 * (time.perf_counter() - t0)
        ranking = [(r["name"], float(r["confidence"])) for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK]
        served = (result.get("intent") or {}).get("name") or FALLBACK
        predictions.append(Prediction(text, label, ranking, served, ms))
    return predictions, load_s


def predict_rasa(system: System, tests: list[tuple[str, str]], tuning: list[tuple[str, str]]) -> None:
    if system.model is None or not system.model.is_file():  # Agent.load would pick another model in the folder
        raise FileNotFoundError(f"no model file {system.model}")
    quiet_rasa()
    system.tuning_predictions, _ = asyncio.run(_parse_all(system.model, tuning))
    system.predictions, system.load_s = asyncio.run(_parse_all(system.model, tests))
    system.fallback = fallback_of(system.config)


TFIDF_GRID = [(a, n) for a in ("char_wb", "char") for n in ((1, 2), (1, 3), (1, 4), (2, 4))]


def _tfidf_predict(train_examples, tests, analyzer: str, ngrams: tuple[int, int]) -> list[Prediction]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    labels = [i for _, i in train_examples]
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True)
    matrix = vectorizer.fit_transform([nfkc(t).strip() for t, _ in train_examples])
    predictions = []
    for text, label in tests:
        t0 = time.perf_counter()
        sims = (matrix @ vectorizer.transform([nfkc(text).strip()]).T).toarray().ravel()
        best: dict[str, float] = {}
        for idx in np.argsort(-sims):
            best.setdefault(labels[idx], float(sims[idx]))
            if len(best) >= 10:
                break
        ranking = sorted(best.items(), key=lambda kv: -kv[1])
        predictions.append(Prediction(text, label, ranking, ranking[0][0], 1000 * (time.perf_counter() - t0)))
    return predictions


def predict_tfidf(
    system: System, train_examples: list[tuple[str, str]], tests: list[tuple[str, str]], tuning: list[tuple[str, str]]
) -> str:
    """Nearest training example by cosine similarity of TF-IDF character n-gram vectors.

    The n-gram setting is the best of TFIDF_GRID on the tuning file (a favour to the
    baseline, like the fallback tuning every system gets). Returns the setting."""
    best = None
    for analyzer, ngrams in TFIDF_GRID:
        preds = _tfidf_predict(train_examples, tuning, analyzer, ngrams)
        top1 = sum(p.ranking[0][0] == p.label for p in preds) / len(preds)
        if best is None or top1 > best[0]:
            best = (top1, analyzer, ngrams)
    _, analyzer, ngrams = best
    start = time.perf_counter()
    system.predictions = _tfidf_predict(train_examples, tests, analyzer, ngrams)
    system.tuning_predictions = _tfidf_predict(train_examples, tuning, analyzer, ngrams)
    system.train_s = time.perf_counter() - start
    system.load_s = 0.0
    return f"analyzer={analyzer}, ngram_range={ngrams}, sublinear_tf"


# ---------------------------------------------------------------- metrics


def decide(p: Prediction, threshold: float, ambiguity: float) -> str:
    """What a FallbackClassifier with these settings would answer."""
    if not p.ranking:
        return FALLBACK
    top = p.ranking[0][1]
    second = p.ranking[1][1] if len(p.ranking) > 1 else 0.0
    if top < threshold or (top - second) < ambiguity:
        return FALLBACK
    return p.ranking[0][0]


def score(predictions: list[Prediction], answers: list[str]) -> dict[str, float]:
    """Top-1/top-3/macro-F1 of the classifier; OOS recall and false fallback of the answers."""
    from sklearn.metrics import f1_score

    labels = [p.label for p in predictions]
    top1 = [p.ranking[0][0] if p.ranking else FALLBACK for p in predictions]
    oos = [a for p, a in zip(predictions, answers, strict=True) if p.label == OOS]
    inscope = [a for p, a in zip(predictions, answers, strict=True) if p.label != OOS]
    routed = sum(a == p.label or (p.label == OOS and a in REJECTED) for p, a in zip(predictions, answers, strict=True))
    ms = sorted(p.ms for p in predictions)
    return {
        "n": len(predictions),
        "top1": sum(t == y for t, y in zip(top1, labels, strict=True)) / len(labels),
        "macro_f1": float(f1_score(labels, top1, labels=sorted(set(labels)), average="macro", zero_division=0)),
        "top3": sum(p.label in [name for name, _ in p.ranking[:3]] for p in predictions) / len(predictions),
        "oos_recall": sum(a in REJECTED for a in oos) / max(1, len(oos)),
        "false_fallback": sum(a in REJECTED for a in inscope) / max(1, len(inscope)),
        "routed": routed / len(predictions),
        "parse_ms_p50": statistics.median(ms),
        "parse_ms_p95": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
    }


def sweep(predictions: list[Prediction]) -> list[dict[str, float]]:
    rows = []
    for t in THRESHOLDS:
        for a in AMBIGUITIES:
            s = score(predictions, [decide(p, t, a) for p in predictions])
            rows.append({"threshold": t, "ambiguity": a, "oos_recall": s["oos_recall"], "false_fallback": s["false_fallback"]})
    return rows


def best_fallback(rows: list[dict[str, float]]) -> dict[str, float]:
    """Highest OOS recall with false fallback ≤ 3 %, then fewest false fallbacks.

    Many settings usually tie; of those, the ambiguity threshold with the widest
    range of tied thresholds and the middle of that range, so the choice does not
    sit on an edge where one more or one fewer message would flip it."""
    ok = [r for r in rows if r["false_fallback"] <= MAX_FALSE_FALLBACK]
    if ok:
        top = max(ok, key=lambda r: (r["oos_recall"], -r["false_fallback"]))
    else:
        top = max(rows, key=lambda r: r["oos_recall"] - r["false_fallback"])
    ties = [r for r in rows if (r["oos_recall"], r["false_fallback"]) == (top["oos_recall"], top["false_fallback"])]
    ambiguity = max(sorted({r["ambiguity"] for r in ties}), key=lambda a: sum(r["ambiguity"] == a for r in ties))
    run = sorted((r for r in ties if r["ambiguity"] == ambiguity), key=lambda r: r["threshold"])
    return run[(len(run) - 1) // 2]


def evaluate(system: System) -> dict[str, Any]:
    """Held-out scores at the fallback the sweep chooses on the tuning file and, for
    Rasa models, as configured."""
    preds = system.predictions
    rows = sweep(system.tuning_predictions)
    tuned = best_fallback(rows)
    result: dict[str, Any] = {
        "key": system.key,
        "title": system.title,
        "train_s": system.train_s,
        "load_s": system.load_s,
        "tuned_fallback": {"threshold": tuned["threshold"], "ambiguity": tuned["ambiguity"]},
        "tuned": score(preds, [decide(p, tuned["threshold"], tuned["ambiguity"]) for p in preds]),
        "sweep": rows,
    }
    if system.kind == "rasa":
        result["configured_fallback"] = system.fallback
        result["served"] = score(preds, [p.served for p in preds])
    return result


def confusion(predictions: list[Prediction], answers: list[str]) -> tuple[list[str], list[str], list[list[int]]]:
    rows = sorted({p.label for p in predictions})
    cols = rows + [FALLBACK] if FALLBACK in answers else rows
    cols += sorted({a for a in answers if a not in cols})
    index_r, index_c = {k: i for i, k in enumerate(rows)}, {k: i for i, k in enumerate(cols)}
    matrix = [[0] * len(cols) for _ in rows]
    for p, a in zip(predictions, answers, strict=True):
        matrix[index_r[p.label]][index_c[a]] += 1
    return rows, cols, matrix


def errors(predictions: list[Prediction], answers: list[str]) -> list[dict[str, Any]]:
    out = []
    for p, a in zip(predictions, answers, strict=True):
        top = p.ranking[0] if p.ranking else (FALLBACK, 0.0)
        if top[0] != p.label or (p.label != OOS and a in REJECTED) or (p.label == OOS and a not in REJECTED):
            out.append({"text": p.text, "label": p.label, "top1": top[0], "confidence": round(top[1], 3), "answer": a})
    return out


def per_intent_f1(predictions: list[Prediction]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = [p.label for p in predictions]
    top1 = [p.ranking[0][0] if p.ranking else FALLBACK for p in predictions]
    names = sorted(set(labels))
    prec, rec, f1, support = precision_recall_fscore_support(labels, top1, labels=names, zero_division=0)
    return {
        n: {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(d)}
        for n, a, b, c, d in zip(names, prec, rec, f1, support, strict=True)
    }


def component_costs(model: Path, texts: list[str], rounds: int = 3) -> dict[str, float]:
    """Milliseconds per message spent in each node of the NLU graph (in-process), plus
    the rest of `parse_message` (graph runner, message handling) as "(Rasa overhead)"."""
    from rasa.core.agent import Agent
    from rasa.engine import graph

    quiet_rasa()
    agent = Agent.load(str(model))
    spent: dict[str, float] = {}
    original = graph.GraphNode.__call__

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[self._node_name] = spent.get(self._node_name, 0.0) + time.perf_counter() - start

    async def run() -> float:
        for text in texts[:20]:
            await agent.parse_message(text)
        spent.clear()
        start = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                await agent.parse_message(text)
        return time.perf_counter() - start

    graph.GraphNode.__call__ = timed
    try:
        total = asyncio.run(run())
    finally:
        graph.GraphNode.__call__ = original
    n = rounds * len(texts)
    costs = {}
    for node, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        name = node.removeprefix("run_").rstrip("0123456789")
        costs[name] = costs.get(name, 0.0) + 1000 * seconds / n
    costs = {k: v for k, v in costs.items() if v >= 0.005}
    costs["(Rasa overhead: graph runner, message handling)"] = 1000 * total / n - sum(costs.values())
    costs["(total parse_message)"] = 1000 * total / n
    return costs
