"""8. `rasa data validate`, run in-process, each warning in Japanese at the line it is about.

Rasa warns about two things this project does on purpose; each is justified here,
and any other warning is a problem:
- responses sent from custom actions, and the utter_ask_<slot> questions forms send,
  look "unused" to Rasa, which only reads stories and rules; the ones accepted are
  exactly those actions/responses.py declares or a form slot asks;
- `guide_choose` is only ever sent by buttons (its payload names a branch), and
  `message_too_long` only by the input channel, so they have no NLU examples by design.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

from actions.responses import BUTTON_ONLY_INTENTS
from contentcheck.files import find_line, top_level_lines, yaml_files
from contentcheck.project import Check
from contentcheck.responses import used_by_code

UNUSED_RESPONSE = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
INTENT_WITHOUT_EXAMPLES = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data")


def check_rasa(check: Check) -> None:
    accepted = used_by_code(check.domain)
    for message in rasa_warnings(check.root):
        if not justified(message, accepted):
            check.add(*translate(check, message))


def justified(message: str, action_responses: set[str]) -> bool:
    m = UNUSED_RESPONSE.search(message)
    if m:
        return m.group(1) in action_responses
    m = INTENT_WITHOUT_EXAMPLES.search(message)
    return bool(m and m.group(1) in BUTTON_ONLY_INTENTS)


def translate(check: Check, message: str) -> tuple[Path | str, int, str]:
    """A `rasa data validate` warning in Japanese, at the line it is about."""
    domain = check.domain_file
    names = re.findall(r"'([^']+)'", message)
    m = re.search(r"The intent '(\w+)' is not used in any story or rule", message)
    if m:
        return (
            domain,
            check.domain_line("intents", m.group(1)),
            f"インテント「{m.group(1)}」はどのルールにも使われていません。data/rules/ にこのインテントへの応答のルールを追加するか、"
            "不要なら domain.yml と data/nlu/ から削除してください。",
        )
    m = UNUSED_RESPONSE.search(message)
    if m:
        return (
            domain,
            top_level_lines(check.domain_node, "responses").get(m.group(1), 1),
            f"応答「{m.group(1)}」はどのルールにも使われていません。不要なら削除してください。",
        )
    m = INTENT_WITHOUT_EXAMPLES.search(message)
    if m:
        return (
            domain,
            check.domain_line("intents", m.group(1)),
            f"インテント「{m.group(1)}」の例文がありません。data/nlu/ に例文を書いてください。",
        )
    conflict = re.search(r"conflict", message, re.I)
    for name in names:
        found = find_line(name, yaml_files(check.root, "data") + [domain])
        if found:
            if conflict:
                return (
                    *found,
                    f"ルールまたはストーリー「{name}」が他と矛盾しています（同じ状況で別の応答になっています）。steps を見直してください。（{message}）",
                )
            return *found, f"rasa data validate の指摘です。この行の「{name}」を確認してください。（{message}）"
    return domain, 1, f"rasa data validate の指摘です。（{message}）"


def rasa_warnings(root: Path) -> list[str]:
    """What `rasa data validate` warns about, run in-process (its import is the slow part, paid once)."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS
    from rasa.validator import Validator

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    handler = Collect()
    loggers = [logging.getLogger(name) for name in ("rasa.validator", "rasa.shared", "rasa.core.training")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                importer = TrainingDataImporter.load_from_config(
                    domain_path=str(root / "domain.yml"), training_data_paths=[str(root / "data")], config_path=str(root / "config.yml")
                )
                validator = Validator.from_importer(importer)
                validator.verify_domain_validity()
                validator.verify_actions_in_stories_rules()
                validator.verify_forms_in_stories_rules()
                validator.verify_form_slots()
                validator.verify_slot_mappings()
                validator.verify_nlu(True)
                validator.verify_story_structure(True)
                validator.warn_if_config_mandatory_keys_are_not_set()
            except Exception as exc:  # noqa: BLE001 - reported to the editor like any warning
                messages.append(str(exc))
        expected = [re.compile(pattern) for category, pattern in EXPECTED_WARNINGS if category is UserWarning]  # the CLI hides these too
        messages += [
            str(w.message)
            for w in caught
            if issubclass(w.category, UserWarning)
            and "rasa" in w.filename.replace("\\", "/")
            and not any(p.match(str(w.message)) for p in expected)
        ]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    return list(dict.fromkeys(m.strip() for m in messages if m.strip()))
