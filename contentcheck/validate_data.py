"""`rasa data validate` with zero unexplained warnings.

Rasa warns about two things this project does on purpose; each is justified here,
and any other warning fails the check:
- responses sent from custom actions, and the utter_ask_<slot> questions forms send,
  look "unused" to Rasa, which only reads stories and rules; the ones this script
  accepts are exactly those the code names or a form slot asks (tools/check_content.py);
- `guide_choose` is only ever sent by buttons (its payload names a branch), and
  `message_too_long` only by the input channel, so they have no NLU examples by design.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUTTON_ONLY_INTENTS = {"guide_choose", "message_too_long"}

UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
INTENT_WITHOUT_EXAMPLES = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data")


def justified(message: str, action_responses: set) -> bool:
    m = UNUSED_RESPONSE.search(message)
    if m:
        return m.group(1) in action_responses
    m = INTENT_WITHOUT_EXAMPLES.search(message)
    return bool(m and m.group(1) in BUTTON_ONLY_INTENTS)


def main() -> int:
    from contentcheck.check import BUILTIN_RESPONSES, form_question_responses, responses_sent_by_code

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    action_responses = responses_sent_by_code() | form_question_responses(domain) | BUILTIN_RESPONSES
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--domain", "domain.yml", "--data", "data", "--config", "config.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = proc.stdout + proc.stderr
    warnings = [line.split("UserWarning:", 1)[1].strip() for line in output.splitlines() if "UserWarning:" in line]
    warnings += [line.split("WARNING", 1)[1].strip() for line in output.splitlines() if " WARNING " in line]
    unexplained = [w for w in warnings if not justified(w, action_responses)]
    explained = len(warnings) - len(unexplained)
    if proc.returncode != 0 or unexplained:
        print(output[-5000:])
        print(f"rasa data validate: {len(unexplained)} unexplained warning(s), exit code {proc.returncode}")
        for w in unexplained:
            print(f"  - {w}")
        return 1
    print(f"rasa data validate: OK (0 errors, {explained} justified warnings: see tools/validate_data.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
