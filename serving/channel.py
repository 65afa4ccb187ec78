"""Rasa's REST channel with guards applied before anything is parsed, logged or stored,
and a clear answer whenever a turn cannot be completed.

Same URL and request shape as Rasa's own channel: POST /webhooks/rest/webhook with
{"sender": "...", "message": "...", "metadata": {...}}; the reply is the list of the
bot's messages.

Input (each refusal is a 400, or 413 for a body over 1 MB, with {"error": "..."}; stock Rasa 3.6 answered most of
these with a 500, an empty reply, or by silently merging conversations):
- the body must be UTF-8 JSON, an object, at most MAX_BODY_BYTES;
- `sender` is required: a string of 1–128 printable characters (stock Rasa put every
  request without one into one shared conversation named "default", and a sender
  longer than 255 characters cannot be stored in the SQL tracker store);
- `message` is required and must be a string ("" and spaces are fine: they are
  answered); `metadata`, when given, must be an object. The client cannot choose the
  input channel name.
- In the message: control characters (NUL and the like) are removed, lone UTF-16
  surrogates become U+FFFD, something shaped like an API key is replaced by a marker
  (the FAQ says the key goes to the desk in the inquiry form, so it must never enter
  the conversation: not echoed, not logged, not in the tracker store), and a message
  over MAX_MESSAGE_CHARS is not parsed: it becomes the intent message_too_long and
  the user is asked, politely, for a shorter one.

A turn that cannot be completed is never answered with silence or a stack trace:
- a custom action failed (action server stopped, unreachable or erroring): the
  turn is stored as Rasa stores it (the action's events are lost, so the
  conversation stays where it was), and the reply ends with the apology
  `utter_service_unavailable` (support contact included); the user sends the message
  again when the service is back and the conversation continues from there;
- the tracker store or the lock store failed (database or Redis down): nothing is
  stored, the reply is HTTP 503 with the same apology and Retry-After. Rasa's own
  behaviour here would be worse: its FailSafeTrackerStore carries on with an empty,
  in-memory conversation, so the user would get answers from a conversation that
  forgot everything (the guard turns that fallback into an error).
Each case writes one clear ERROR line (which action or store, the conversation id,
never the message text).

Too many messages (serving/rate_limit.py: per conversation and per client address, per
minute): HTTP 429 with Retry-After and `utter_too_many_messages`, before anything is
parsed by the NLU, logged or stored; one WARNING line (conversation id and which limit).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, overload

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.responses import SERVICE_UNAVAILABLE, TOO_MANY_MESSAGES
from serving.log_masking import CURRENT_USER_TEXT
from serving.rate_limit import Limits
from usertext import CONTROL_BUT_TAB_AND_LINE_BREAKS, REDACTED_SECRET, redact_secrets

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 3000  # a pasted error message with a description fits many times over
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 1_000_000  # a 100,000-character message still gets its polite answer
TOO_LONG_PAYLOAD = "/message_too_long"
SURROGATE = re.compile(r"[\ud800-\udfff]")
SENDER_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
UNAVAILABLE_RESPONSE = SERVICE_UNAVAILABLE.name
RETRY_AFTER_SECONDS = 10


class BadRequest(Exception):
    """The request is refused with a 4xx; the message says why (never with the values sent)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class StoreUnavailable(Exception):
    """The tracker store failed; raised instead of Rasa's silent in-memory fallback."""


@overload
def sanitize_message(text: str) -> str: ...
@overload
def sanitize_message(text: None) -> None: ...
def sanitize_message(text: str | None) -> str | None:
    """The message as Rasa may see it."""
    if text is None:
        return None
    text = SURROGATE.sub("\ufffd", CONTROL_BUT_TAB_AND_LINE_BREAKS.sub("", str(text)))
    if len(text) > MAX_MESSAGE_CHARS:
        return TOO_LONG_PAYLOAD
    return redact_secrets(text, REDACTED_SECRET)


def parse_body(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        raise BadRequest("empty body: expected a JSON object")
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not valid UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise BadRequest("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def checked_sender(value: Any) -> str:
    if value is None:
        raise BadRequest("'sender' is required")
    if not isinstance(value, str):
        raise BadRequest("'sender' must be a string")
    if not value.strip():
        raise BadRequest("'sender' must not be empty")
    if len(value) > MAX_SENDER_CHARS:
        raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} characters")
    if SENDER_FORBIDDEN.search(value):
        raise BadRequest("'sender' must not contain control characters")
    return value


def checked_message(value: Any) -> str:
    if value is None:
        raise BadRequest("'message' is required")
    if not isinstance(value, str):
        raise BadRequest("'message' must be a string")
    return sanitize_message(value)


def checked_metadata(value: Any) -> dict | None:
    if value is not None and not isinstance(value, dict):
        raise BadRequest("'metadata' must be an object")
    return value


# --- what went wrong during a turn -------------------------------------------------------


@dataclass
class Turn:
    sender: str
    failed_actions: list[str] = field(default_factory=list)


CURRENT_TURN: contextvars.ContextVar[Turn | None] = contextvars.ContextVar("egov_current_turn", default=None)
ACTION_FAILED = re.compile(r"while running action '([^']+)'")


class ActionFailureWatch(logging.Filter):
    """Notices Rasa's report of a failed action for the turn being handled.

    Rasa 3.6 (rasa/core/processor.py `_run_action`) catches any exception of an action,
    including RemoteAction's "Failed to execute custom action" when the action server
    cannot be reached, logs it on this logger and carries on without the action's
    events. That log record is the only sign a turn went wrong; it is raised in the
    task handling the request, so the turn is found through a context variable.
    Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        turn = CURRENT_TURN.get()
        if turn is not None and record.levelno >= logging.ERROR:
            found = ACTION_FAILED.search(str(record.msg))
            turn.failed_actions.append(found.group(1) if found else "(unknown)")
        return True


WATCH = ActionFailureWatch()


def _install_watch() -> None:
    processor_logger = logging.getLogger("rasa.core.processor")
    if WATCH not in processor_logger.filters:
        processor_logger.addFilter(WATCH)


def _store_failed(error: Exception) -> None:
    raise StoreUnavailable(f"{type(error).__name__}: {error}") from error


def harden(agent: Any) -> None:
    """Tracker store errors stop the turn instead of continuing on an empty conversation."""
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore) and getattr(store, "_on_tracker_store_error", None) is not _store_failed:
        # The documented constructor argument `on_tracker_store_error`, set on the
        # instance Rasa created (the processor shares it).
        store._on_tracker_store_error = _store_failed


# --- what the channel itself says, from the domain ------------------------------------------


def response_text(agent: Any, name: str) -> str:
    """A response's text from domain.yml (make check proves it exists)."""
    responses = getattr(getattr(agent, "domain", None), "responses", None) or {}
    for variant in responses.get(name) or []:
        if variant.get("text"):
            return variant["text"]
    return "Service unavailable." if name == UNAVAILABLE_RESPONSE else "Too many messages."


def apology_text(agent: Any) -> str:
    return response_text(agent, UNAVAILABLE_RESPONSE)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    # Kept for code that calls the stock hooks; receive() below does the checking.
    def _extract_message(self, req: Request) -> str | None:
        return sanitize_message(super()._extract_message(req))

    async def _extract_sender(self, req: Request) -> str | None:
        sender = await super()._extract_sender(req)
        return None if sender is None else checked_sender(sender)

    async def handle_turn(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage, agent: Any
    ) -> tuple[int, list]:
        """Runs one turn; returns the HTTP status and what to send back."""
        collector = message.output_channel
        turn = Turn(message.sender_id)
        turn_token = CURRENT_TURN.set(turn)
        text_token = CURRENT_USER_TEXT.set(message.text)
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("Conversation %s: the turn was cancelled (request timeout); nothing was answered.", message.sender_id)
            raise
        except Exception as exc:  # store, lock store, or Rasa itself: nothing was stored
            cause = exc.__cause__ or exc
            logger.error(
                "Conversation %s: the turn could not be processed and was not stored (%s: %s). "
                "Check the tracker store and the lock store. The user was asked to try again (HTTP 503).",
                message.sender_id,
                type(exc).__name__,
                cause,
                exc_info=not isinstance(exc, StoreUnavailable | LockError),  # known causes: one clear line
            )
            return 503, [{"recipient_id": message.sender_id, "text": apology_text(agent)}]
        finally:
            CURRENT_USER_TEXT.reset(text_token)
            CURRENT_TURN.reset(turn_token)
        messages = list(getattr(collector, "messages", []))
        if turn.failed_actions:
            logger.error(
                "Conversation %s: action(s) %s failed (is the action server up?); "
                "the user was sent %s and the conversation stays at its last step.",
                message.sender_id,
                ", ".join(turn.failed_actions),
                UNAVAILABLE_RESPONSE,
            )
            messages.append({"recipient_id": message.sender_id, "text": apology_text(agent)})
        return 200, messages

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        _install_watch()
        limits = Limits.from_environment()
        bp = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = parse_body(request.body)
                sender = checked_sender(body.get("sender"))
                text = checked_message(body.get("message"))
                metadata = checked_metadata(body.get("metadata"))
            except BadRequest as exc:
                return response.json({"error": str(exc)}, status=exc.status)
            agent = request.app.ctx.agent
            refused = limits.refusal(sender, limits.client_address(request.ip, request.headers.get("x-forwarded-for")))
            if refused:
                logger.warning("Conversation %s: message refused, too many per minute for this %s.", sender, refused.scope)
                return response.json(
                    [{"recipient_id": sender, "text": response_text(agent, TOO_MANY_MESSAGES.name)}],
                    status=429,
                    headers={"Retry-After": str(refused.retry_after)},
                )
            harden(agent)
            message = UserMessage(text, CollectingOutputChannel(), sender, input_channel=self.name(), metadata=metadata)
            status, messages = await self.handle_turn(on_new_message, message, agent)
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
            return response.json(messages, status=status, headers=headers)

        return bp
