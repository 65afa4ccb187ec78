"""Validate action-server replies with a validator built once, not once per call.

Rasa 3.6 checks every reply of the action server with `jsonschema.validate(result,
schema)`. That function first validates the *schema itself* against its metaschema
(JSON Schema 2020-12 here, since Rasa's schema names none) before checking the reply:
about 60-70 ms of CPU per custom-action call on this machine, i.e. most of a guided
flow turn (measured with cProfile; `make bench`, docs/benchmarks.md). The schema is a
constant, so it is checked once here and the compiled validator is reused. The reply
is held to exactly the same schema and the same error (jsonschema's best match) is
raised, with Rasa's own message appended.

Installed when the `components` package is imported, which `rasa run`, `rasa shell`
and `rasa train` do when they load config.yml's custom components.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_validator: Any = None


def _compiled(schema: dict[str, Any]) -> Any:
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)  # once per process instead of once per action call
        _validator = cls(schema)
    return _validator


def install() -> bool:
    """Replace RemoteAction._validate_action_result; False when Rasa's code is not the expected one."""
    try:
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
    except ImportError:  # pragma: no cover - Rasa not installed (e.g. the action server's own venv)
        return False
    original = getattr(RemoteAction, "_validate_action_result", None)
    if original is None or getattr(original, "_compiled_once", False):
        return original is not None

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        from jsonschema.exceptions import ValidationError, best_match

        error = best_match(_compiled(self.action_response_format_spec()).iter_errors(result))
        if error is None:
            return True
        if isinstance(error, ValidationError):
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
        raise error

    _validate_action_result._compiled_once = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result
    logger.debug("Action-server replies are validated with a precompiled JSON schema.")
    return True
