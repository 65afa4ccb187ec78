"""docs/editors_guide.md, followed to the letter on a copy of the project.

Every YAML example in the guide carries a `<!-- test: ID ACTION FILE -->` mark; these
tests apply each example exactly as written (replace "before" with "after", append,
create), then run the content check on the copy and talk to the real guide action
over the copy's flows and domain, rendering each message the way Rasa does.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionDidYouMean, ActionGuide, ActionShowTopics
from actions.answers import choice_payload
from actions.content import FLOWS_FILE_ENV, parse_flows
from actions.guide import Engine
from contentcheck.check import run
from contentcheck.examples import read_examples
from contentcheck.files import copy_project
from contentcheck.flows import check_flows
from contentcheck.project import Check
from contentcheck.rasa_validate import check_rasa
from contentcheck.schema import syntax
from serving.harness import serving_command

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "editors_guide.md"
MARK = re.compile(r"<!-- test: (\S+) (replace|append|create) (\S+) -->")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
NEW_TOPIC = "clear_browser_cache"


@dataclass
class GuideEdit:
    group: str
    action: str
    file: str
    blocks: list[str]


def guide_edits() -> list[GuideEdit]:
    text = GUIDE.read_text(encoding="utf-8")
    marks = list(MARK.finditer(text))
    edits = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        wanted = 2 if mark.group(2) == "replace" else 1
        blocks = [m.group(2) for m in FENCE.finditer(text, mark.end(), end)][:wanted]
        assert len(blocks) == wanted, f"guide mark {mark.group(0)} needs {wanted} code block(s)"
        edits.append(GuideEdit(mark.group(1), mark.group(2), mark.group(3), blocks))
    return edits


def apply_edit(root: Path, edit: GuideEdit) -> None:
    path = root / edit.file
    if edit.action == "create":
        assert not path.exists(), f"the guide creates {edit.file}, which already exists"
        path.write_text(edit.blocks[0], encoding="utf-8")
    elif edit.action == "append":
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + edit.blocks[0], encoding="utf-8")
    else:
        before, after = edit.blocks
        text = path.read_text(encoding="utf-8")
        assert text.count(before) == 1, f"the guide's 変更前 for {edit.file} occurs {text.count(before)} times:\n{before}"
        path.write_text(text.replace(before, after), encoding="utf-8")


def apply(root: Path, group: str) -> list[GuideEdit]:
    """Does what the guide says for one example, on the copy at root."""
    done = [e for e in guide_edits() if e.group == group]
    assert done, f"no guide example {group!r}"
    for edit in done:
        apply_edit(root, edit)
    return done


def new_problems(root: Path, baseline: set[str]) -> list[str]:
    return [str(p) for p in run(root, rasa=False) if str(p) not in baseline]


class Bot:
    """The guide action over the copy's flows and domain; messages rendered as Rasa renders them."""

    def __init__(self, root: Path, monkeypatch, tracker_for) -> None:
        from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.trackers import DialogueStateTracker

        monkeypatch.setenv(FLOWS_FILE_ENV, str(root / "content" / "flows.yml"))
        self.domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
        rasa_domain = Domain.from_path(str(root / "domain.yml"))
        self.nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
        self.rasa_tracker = DialogueStateTracker("guide", rasa_domain.slots)
        self.tracker_for = tracker_for
        self.slots: dict[str, Any] = {}

    def render(self, message: dict[str, Any]) -> dict[str, Any]:
        """What Rasa makes of an action server message (rasa/core/actions/action.py, _utter_responses)."""
        response = dict(message)
        name = response.pop("response", None)
        draft = asyncio.run(self.nlg.generate(name, self.rasa_tracker, "rest", **response)) if name else {}
        buttons = response.pop("buttons", []) or []
        if buttons:
            draft.setdefault("buttons", []).extend(buttons)
        draft.update({k: v for k, v in response.items() if v})
        return draft

    def say(self, intent: str, entities: list[dict] | None = None, action=None, ranking=None) -> list[dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        tracker = self.tracker_for(intent, dict(self.slots), entities, ranking)
        events = (action or ActionGuide()).run(dispatcher, tracker, self.domain)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return [self.render(m) for m in dispatcher.messages]

    def texts(self, intent: str, **kwargs) -> list[str]:
        return [m.get("text") or "" for m in self.say(intent, **kwargs)]


# --- the guide itself -----------------------------------------------------------------


def test_every_yaml_example_in_the_guide_is_applied_by_a_test():
    text = GUIDE.read_text(encoding="utf-8")
    file_blocks = [m for m in FENCE.finditer(text) if m.group(1) in ("yaml", "text")]  # text: the FAQ file
    applied = sum(len(e.blocks) for e in guide_edits())
    assert len(file_blocks) == applied, "a ```yaml or ```text example in docs/editors_guide.md has no <!-- test: … --> mark"
    tested = {"change-answer", "change-response", "add-example", "add-answer-example", "add-step", "new-topic", "add-choice", "faq-update"}
    assert {e.group for e in guide_edits()} == tested


def test_every_command_in_the_guide_exists():
    """`make X` targets are in the Makefile; `.venv/bin/python -m <tool> …` parses with that tool's own options
    (a package's options are those of its cli module)."""
    text = GUIDE.read_text(encoding="utf-8")
    commands = [line.strip() for m in FENCE.finditer(text) if m.group(1) == "" for line in m.group(2).splitlines() if line.strip()]
    assert commands
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in commands:
        words = shlex.split(command)
        if words[0] == "make":
            assert re.search(rf"^{words[1]}:", makefile, re.M), f"Makefile has no target {words[1]}"
        else:
            assert words[:2] == [".venv/bin/python", "-m"], command
            module = importlib.import_module(words[2])
            if hasattr(module, "__path__"):  # a package: `python -m package` runs its cli
                module = importlib.import_module(f"{words[2]}.cli")
            module.build_parser().parse_args(words[3:])  # exits on an unknown option


def test_the_guides_rule_is_written_like_the_existing_faq_rules():
    """If the project changes how FAQ rules look, the guide must change with it."""
    rules = yaml.safe_load((ROOT / "data" / "rules" / "guide.yml").read_text(encoding="utf-8"))["rules"]
    existing = next(r for r in rules if r["steps"][0] == {"intent": "login_failed"})
    (edit,) = [e for e in guide_edits() if e.group == "new-topic" and e.file == "data/rules/guide.yml"]
    (new,) = yaml.safe_load(edit.blocks[0])
    assert yaml.safe_dump(new["steps"]).replace(NEW_TOPIC, "login_failed") == yaml.safe_dump(existing["steps"])


# --- 1. change an answer ----------------------------------------------------------------


def test_change_an_answer_in_flows(project, baseline, monkeypatch, tracker_for):
    *_, edit = apply(project, "change-answer")  # the FAQ's copy first, then the flow
    assert new_problems(project, baseline) == []
    new_text = yaml.safe_load(edit.blocks[1])[0]
    bot = Bot(project, monkeypatch, tracker_for)
    shown = "\n".join(bot.texts("email_case_sensitivity"))
    assert new_text in shown and yaml.safe_load(edit.blocks[0])[0] not in shown


def test_change_a_frame_response_in_domain(project, baseline, monkeypatch, tracker_for):
    (edit,) = apply(project, "change-response")
    assert new_problems(project, baseline) == []
    new_text = yaml.safe_load(edit.blocks[1])["utter_glad_resolved"][0]["text"]
    bot = Bot(project, monkeypatch, tracker_for)
    bot.say("email_case_sensitivity")
    assert bot.texts("affirm") == [new_text]


# --- 2. add an example ------------------------------------------------------------------


def test_add_an_example(project, baseline):
    (edit,) = apply(project, "add-example")
    assert new_problems(project, baseline) == []
    added = edit.blocks[1].splitlines()[-1].strip()[2:]
    examples, _ = read_examples(sorted((project / "data" / "nlu").glob("*.yml")), project)
    assert [e.intent for e in examples if e.text == added] == ["login_failed"]


def test_the_guides_add_example_command_does_the_same(project, baseline):
    from tools import add_example

    text = GUIDE.read_text(encoding="utf-8")
    command = next(line for line in text.splitlines() if line.startswith(".venv/bin/python -m tools.add_example --intent"))
    words = shlex.split(command)[3:]
    assert add_example.main([*words, "--root", str(project)]) == 0
    assert new_problems(project, baseline) == []
    examples, _ = read_examples(sorted((project / "data" / "nlu").glob("*.yml")), project)
    assert [e.intent for e in examples if e.text == words[-1]] == [words[1]]
    assert add_example.main([*words, "--root", str(project)]) == 1  # the second time it is a duplicate


# --- 3. add a step ----------------------------------------------------------------------


def test_add_a_step_to_a_procedure(project, baseline, monkeypatch, tracker_for):
    *_, edit = apply(project, "add-step")  # the FAQ's copy first, then the flow
    assert new_problems(project, baseline) == []
    new_step = yaml.safe_load(edit.blocks[1].replace("        ", "", 1).split("steps:")[1])[-1]
    flows = parse_flows(project / "content" / "flows.yml")
    node = flows["phone_changed"].nodes[flows["phone_changed"].start]
    assert len(node.steps) == 8 and node.steps[2] == new_step
    bot = Bot(project, monkeypatch, tracker_for)
    assert bot.texts("phone_changed")[-1].startswith("手順 1/8\n")
    bot.say("guide_next")
    assert bot.texts("guide_next") == [f"手順 3/8\n{new_step}"]
    assert "⑧" in bot.texts("guide_all")[0]
    finish = bot.texts("guide_next")
    assert finish[-1] == "解決しましたか？"
    handoff = bot.texts("deny")[0]
    assert "(①〜⑧)" in handoff  # the summary the guide says to update


def test_add_an_answer_example_to_an_option(project, baseline, monkeypatch):
    from actions.answers import load_vocabulary, option_choices, read

    phrase = "何度やっても入れてもらえない"
    choices = option_choices("account_locked", parse_flows(project / "content" / "flows.yml")["account_locked"].nodes["ask_still_locked"])
    assert read(phrase, choices, load_vocabulary()) is None  # before the edit: not understood
    apply(project, "add-answer-example")
    assert new_problems(project, baseline) == []
    choices = option_choices("account_locked", parse_flows(project / "content" / "flows.yml")["account_locked"].nodes["ask_still_locked"])
    reading = read(phrase, choices, load_vocabulary())
    assert reading and choices[reading.index].title == "はい、ロックされたままです"  # no retraining


def test_faq_update_is_found_by_the_report_and_the_check_then_fixed_in_the_flows(project, baseline):
    from contentcheck import faq_trace

    faq_edit, flows_edit = [e for e in guide_edits() if e.group == "faq-update"]
    apply_edit(project, faq_edit)
    assert faq_trace.main(["--root", str(project)]) == 1
    report = (project / "reports" / "faq" / "index.md").read_text(encoding="utf-8")
    assert "### フロー「account_locked」" in report and "ノード「temporary_lock」の text" in report and "「30分」→「1時間」" in report
    assert any("temporary_lock" in p and "にありません" in p for p in new_problems(project, baseline))
    apply_edit(project, flows_edit)
    assert new_problems(project, baseline) == []
    assert faq_trace.main(["--root", str(project)]) == 0


# --- 4. a new FAQ topic ------------------------------------------------------------------


def test_new_topic_passes_every_check_including_rasa_data_validate(project, baseline, tmp_path):
    apply(project, "new-topic")
    assert new_problems(project, baseline) == []
    before = Check(copy_project(tmp_path / "unedited"))
    after = Check(project)
    for check in (before, after):
        assert syntax(check)
        check_flows(check)
        check_rasa(check)
    assert {str(p) for p in after.problems} - {str(p) for p in before.problems} == set()


def test_new_topic_is_needed_in_every_file_the_guide_names(tmp_path, baseline):
    """Leave out any one of the guide's seven edits and the check says what is missing."""
    edits = [e for e in guide_edits() if e.group == "new-topic"]
    assert sorted(e.file for e in edits) == sorted(
        [
            "content/faq/login.txt",
            "domain.yml",
            f"data/nlu/{NEW_TOPIC}.yml",
            "content/flows.yml",
            "data/rules/guide.yml",
            "tests/test_stories.yml",
            "tests/test_nlu.yml",
        ]
    )
    for left_out in edits:
        root = copy_project(tmp_path / left_out.file.replace("/", "_"))
        for edit in edits:
            if edit is not left_out:
                apply_edit(root, edit)
        assert new_problems(root, baseline), f"leaving out the edit to {left_out.file} went unnoticed"


def test_new_topic_walks_in_conversation(project, monkeypatch, tracker_for):
    apply(project, "new-topic")
    flow = parse_flows(project / "content" / "flows.yml")[NEW_TOPIC]
    node = flow.nodes[flow.start]
    bot = Bot(project, monkeypatch, tracker_for)
    first = bot.say(NEW_TOPIC)
    assert [m["text"] for m in first] == [node.intro[0], f"手順 1/3\n{node.steps[0]}"]
    assert first[-1]["buttons"][0]["title"] == "できました（次へ）"
    assert bot.texts("guide_next") == [f"手順 2/3\n{node.steps[1]}"]
    assert bot.texts("guide_back") == [f"手順 1/3\n{node.steps[0]}"]
    bot.say("guide_next")
    assert bot.texts("guide_next") == [f"手順 3/3\n{node.steps[2]}"]
    finish = bot.texts("guide_next")
    assert finish == [f"<注意>\n{node.notes[0]}", "解決しましたか？"]
    handoff = bot.texts("deny")[0]
    assert "e-Gov利用者サポートデスク" in handoff and node.summary in handoff
    assert bot.slots["guide_outcome"] == {"flow": NEW_TOPIC, "result": "unresolved", "node": "end", "step": 0}


@pytest.mark.skipif(os.environ.get("EGOV_SLOW_TESTS") != "1", reason="trains a model on the copy (about 2 minutes): set EGOV_SLOW_TESTS=1")
def test_new_topic_after_training_passes_rasa_test_and_the_nlu_gate(project, monkeypatch, capsys):
    """What `make test` does after the guide's step ⑦: train, the test stories, the held-out sentences and their floor."""
    from tools import nlu_gate

    apply(project, "new-topic")
    rasa = serving_command()
    env = {**os.environ, "PYTHONPATH": str(project), "RASA_TELEMETRY_ENABLED": "false"}
    model = project / "models" / "guide.tar.gz"
    for command in (
        [*rasa, "train", "--fixed-model-name", "guide", "--out", "models"],
        [
            *rasa,
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            "tests/test_stories.yml",
            "--fail-on-prediction-errors",
            "--out",
            "results/stories",
        ],
        [*rasa, "test", "nlu", "--model", str(model), "--nlu", "tests/test_nlu.yml", "--out", "results/nlu"],
    ):
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command[1:3])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    monkeypatch.setenv(FLOWS_FILE_ENV, str(project / "content" / "flows.yml"))  # the gate counts the new topic as FAQ
    assert nlu_gate.main(str(project / "results" / "nlu")) == 0, capsys.readouterr().out
    assert NEW_TOPIC in capsys.readouterr().out


def test_new_topic_appears_in_the_topic_list_and_in_did_you_mean(project, monkeypatch, tracker_for):
    apply(project, "new-topic")
    bot = Bot(project, monkeypatch, tracker_for)
    topics = bot.say("help", action=ActionShowTopics())
    assert "ログイン画面が正しく表示されない" in [b["title"] for b in topics[0]["buttons"]]
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": NEW_TOPIC, "confidence": 0.3}]
    asked = bot.say("nlu_fallback", action=ActionDidYouMean(), ranking=ranking)
    assert asked[0]["buttons"][0] == {"title": "ログイン画面が正しく表示されない", "payload": f"/{NEW_TOPIC}"}


def test_a_branch_question_in_the_new_topic(project, baseline, monkeypatch, tracker_for):
    apply(project, "new-topic")
    apply(project, "add-choice")
    assert new_problems(project, baseline) == []
    flows = parse_flows(project / "content" / "flows.yml")
    engine = Engine(flows)
    turn = engine.start(None, NEW_TOPIC)
    assert turn.says[-1].text == "お使いのブラウザはどれですか？"
    assert [b["title"] for b in turn.says[-1].buttons] == ["Google Chrome または Microsoft Edge", "それ以外のブラウザ"]
    bot = Bot(project, monkeypatch, tracker_for)
    bot.say(NEW_TOPIC)
    entity = [{"entity": "guide_option", "value": choice_payload("ask_browser", 1).split('"')[3]}]
    other = bot.texts("guide_choose", entities=entity)
    assert other == [flows[NEW_TOPIC].nodes["other_browser"].text[0], "解決しましたか？"]
    bot.slots.clear()
    bot.say(NEW_TOPIC)
    entity = [{"entity": "guide_option", "value": "ask_browser:0"}]
    assert bot.texts("guide_choose", entities=entity)[-1].startswith("手順 1/3\n")


# --- 7. test results for support staff ------------------------------------------------------


def test_test_report_page_shows_what_the_guide_describes(tmp_path):
    from tools import test_report

    stories, nlu = tmp_path / "stories", tmp_path / "nlu"
    stories.mkdir()
    nlu.mkdir()
    (stories / "failed_test_stories.yml").write_text(
        'version: "3.1"\nstories:\n- story: phone changed (tests/test_stories.yml)\n  steps:\n  - intent: phone_changed\n'
        "  - action: action_guide  # predicted: utter_default\n",
        encoding="utf-8",
    )
    (stories / "story_report.json").write_text(
        '{"action_guide": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2},'
        ' "conversation_accuracy": {"accuracy": 0.5, "correct": 1, "with_warnings": 0, "total": 2}}',
        encoding="utf-8",
    )
    report = {
        "phone_changed": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2, "confused_with": {"login_failed": 1}},
        "login_failed": {"precision": 0.5, "recall": 1.0, "f1-score": 0.667, "support": 1},
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1},
        "accuracy": 0.75,
        "macro avg": {"precision": 0.8, "recall": 0.8, "f1-score": 0.8, "support": 4},
    }
    (nlu / "intent_report.json").write_text(__import__("json").dumps(report), encoding="utf-8")
    (nlu / "intent_errors.json").write_text(
        '[{"text": "スマホを替えた", "intent": "phone_changed", "intent_prediction": {"name": "login_failed", "confidence": 0.61}}]',
        encoding="utf-8",
    )
    for image in ("intent_confusion_matrix.png", "intent_histogram.png"):
        (nlu / image).write_bytes(b"\x89PNG\r\n\x1a\n")
    assert test_report.main([str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for heading in ("失敗したテストストーリー", "インテントごとの精度", "取り違えの多い組み合わせ", "間違えた文（1 件）", "確信度の分布"):
        assert heading in page
    assert "<span class='predicted'>  - action: action_guide  # predicted: utter_default</span>" in page
    assert "<tr class='bad'><td>phone_changed</td><td>機種変更でワンタイムコードが確認できない</td>" in page  # an FAQ topic under the floor
    assert "<tr class=''><td>greet</td>" in page
    assert "src='nlu/intent_confusion_matrix.png'" in page and "href='stories/failed_test_stories.yml'" in page
    assert "1 件が失敗しました" in page and "スマホを替えた" in page


def test_test_report_page_for_a_run_that_stopped_early(tmp_path):
    from tools import test_report

    assert test_report.main([str(tmp_path / "results")]) == 0
    page = (tmp_path / "results" / "index.html").read_text(encoding="utf-8")
    assert "stories/failed_test_stories.yml がありません" in page and "nlu/intent_report.json がありません" in page
