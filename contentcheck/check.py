"""Content check for editors: `make check`. Runs in seconds, without training.

Every problem names the file and line and says what to do, in Japanese, because
the people who read it edit YAML, not Python. Exit code 1 when anything is wrong.

    python -m contentcheck                 # the project
    python -m contentcheck --root DIR      # a copy (tests, trying an edit safely)

The checks, in order (docs/editors_guide.md lists them with an example message each),
one module each:
  1. YAML syntax, and the same key written twice in one place      schema.py
  2. schema: Rasa's own schema for domain/data/test files; the keys content/flows.yml knows
  3. flows: every node, branch and flow referenced exists and is reachable; each flow
     has its intent and a rule that starts it; each intent a rule hands to the guide
     has a flow; typed answers read as their option; quotes stand in the FAQ   flows.py
  4. references: every intent, action and form that rules and stories name exists   rules.py
  5. responses: every response is used; every response and intent the code declares
     (actions/responses.py) exists; the {variables} the code fills in are kept; button
     payloads name real intents                                        responses.py
     form fields: domain.yml and content/requests.yml agree with actions/fields.py   form_fields.py
  6. examples: no duplicate or conflicting examples, enough per intent, held-out
     test examples for every FAQ topic and none copied from training   examples.py
  7. test stories: one for every intent                                rules.py
  8. `rasa data validate` (only when 1-7 pass), each warning translated with file and line   rasa_validate.py
"""

from __future__ import annotations

from pathlib import Path

from actions.content import Problem
from contentcheck import examples, flows, form_fields, rasa_validate, responses, rules, schema
from contentcheck.project import Check


def run(root: Path | None = None, rasa: bool = True) -> list[Problem]:
    """All problems in the project at root (default: this project, or $EGOV_CONTENT_ROOT)."""
    check = Check(root)
    if schema.syntax(check):
        schema.schema(check)
        flows.check_flows(check)
        flows.faq(check)
        rules.references(check)
        responses.check_responses(check)
        form_fields.check_fields(check)
        examples.check_examples(check)
        rules.stories_cover_intents(check)
        if rasa and not check.problems:
            rasa_validate.check_rasa(check)
    return check.problems
