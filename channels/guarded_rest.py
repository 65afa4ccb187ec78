"""Rasa's REST channel with guards applied before anything is parsed, logged or stored.

- Something shaped like an API key is replaced by a marker: the FAQ says the key
  goes to the desk in the inquiry form, so it must never enter the conversation
  (not echoed, not logged, not in the tracker store).
- Control characters (NUL and the like) are removed.
- Over-long messages are not parsed: they become the intent message_too_long, and
  the user is asked, politely, for a shorter one.
Same URL as Rasa's own channel: POST /webhooks/rest/webhook.
"""

from __future__ import annotations

import re

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from actions.validators import REDACTED_SECRET, redact_secrets

MAX_MESSAGE_CHARS = 3000  # a pasted error message with a description fits many times over
MAX_SENDER_CHARS = 128
TOO_LONG_PAYLOAD = "/message_too_long"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitize_message(text: str | None) -> str | None:
    """The message as Rasa may see it."""
    if text is None:
        return None
    text = CONTROL.sub("", str(text))
    if len(text) > MAX_MESSAGE_CHARS:
        return TOO_LONG_PAYLOAD
    return redact_secrets(text, REDACTED_SECRET)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        return sanitize_message(super()._extract_message(req))

    async def _extract_sender(self, req: Request) -> str | None:
        sender = await super()._extract_sender(req)
        return None if sender is None else str(sender)[:MAX_SENDER_CHARS]
