"""The input channel's guards and turn handling (serving/channel.py), without a server."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from serving import channel
from serving.channel import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_SENDER_CHARS,
    TOO_LONG_PAYLOAD,
    BadRequest,
    GuardedRestInput,
    StoreUnavailable,
    apology_text,
    checked_message,
    checked_metadata,
    checked_sender,
    harden,
    parse_body,
    sanitize_message,
)

KEY = "k9XbQ2mZ7rT4vW8yP1sD6fG3hJ5lN0cA"  # fake: made up for this test


def refusal(check, value) -> tuple[str, int]:
    with pytest.raises(BadRequest) as caught:
        check(value)
    return str(caught.value), caught.value.status


# --- the body --------------------------------------------------------------------------------


def test_a_json_object_is_read():
    assert parse_body(json.dumps({"sender": "a", "message": "こんにちは"}).encode()) == {"sender": "a", "message": "こんにちは"}


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"", "empty body: expected a JSON object"),
        (None, "empty body: expected a JSON object"),
        (b"\xff\xfe{}", "body is not valid UTF-8"),
        (b"{sender: a}", "body is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "body is not valid JSON"),  # too deep for the parser
        (b'["a list"]', "body must be a JSON object"),
        (b'"text"', "body must be a JSON object"),
    ],
)
def test_bad_bodies_are_refused_with_a_400(raw, reason):
    assert refusal(parse_body, raw) == (reason, 400)


def test_a_body_over_the_limit_is_a_413():
    raw = json.dumps({"sender": "a", "message": "x" * MAX_BODY_BYTES}).encode()
    assert refusal(parse_body, raw) == (f"body larger than {MAX_BODY_BYTES} bytes", 413)
    assert parse_body(json.dumps({"message": "あ" * 100_000}).encode())  # a long message still fits


# --- sender, message, metadata -----------------------------------------------------------------


@pytest.mark.parametrize("sender", ["web-5f0c1a2b", "a", "利用者", "x" * MAX_SENDER_CHARS])
def test_good_senders(sender):
    assert checked_sender(sender) == sender


@pytest.mark.parametrize(
    "sender,reason",
    [
        (None, "'sender' is required"),
        (42, "'sender' must be a string"),
        ("   ", "'sender' must not be empty"),
        ("x" * (MAX_SENDER_CHARS + 1), f"'sender' must be at most {MAX_SENDER_CHARS} characters"),
        ("a\x00b", "'sender' must not contain control characters"),
        ("a\nb", "'sender' must not contain control characters"),
        ("a\x85b", "'sender' must not contain control characters"),
        ("a\ud800b", "'sender' must not contain control characters"),
    ],
)
def test_bad_senders(sender, reason):
    assert refusal(checked_sender, sender) == (reason, 400)


@pytest.mark.parametrize("value,reason", [(None, "'message' is required"), (["hi"], "'message' must be a string")])
def test_bad_messages(value, reason):
    assert refusal(checked_message, value) == (reason, 400)


@pytest.mark.parametrize(
    "text,seen",
    [
        ("", ""),
        ("   ", "   "),  # answered, not refused
        ("ログイン\nできない\tです\r", "ログイン\nできない\tです\r"),  # line breaks and tabs stay
        ("ロ\x00グ\x1bイ\x7fン", "ログイン"),  # other control characters go
        ("あ\ud800い", "あ\ufffdい"),  # a lone surrogate becomes U+FFFD
        (f"APIキーは {KEY} です", "APIキーは [REDACTED_SECRET] です"),
        ("ＨＴＴＰ５００", "HTTP500"),  # the redaction reads the NFKC form
        ("x" * MAX_MESSAGE_CHARS, "x" * MAX_MESSAGE_CHARS),
        ("x" * (MAX_MESSAGE_CHARS + 1), TOO_LONG_PAYLOAD),
        ("x" * MAX_MESSAGE_CHARS + "\x00", "x" * MAX_MESSAGE_CHARS),  # counted after the control characters go
    ],
)
def test_the_message_as_rasa_sees_it(text, seen):
    assert checked_message(text) == seen == sanitize_message(text)


def test_no_message_stays_none():
    assert sanitize_message(None) is None


@pytest.mark.parametrize("value", [None, {}, {"page": "/login"}])
def test_good_metadata(value):
    assert checked_metadata(value) == value


@pytest.mark.parametrize("value", ["page", ["a"], 1])
def test_bad_metadata(value):
    assert refusal(checked_metadata, value) == ("'metadata' must be an object", 400)


# --- the apology and the tracker store ---------------------------------------------------------


def test_the_apology_comes_from_the_domain(domain):
    agent = SimpleNamespace(domain=Domain.from_dict(domain))
    assert apology_text(agent) == domain["responses"]["utter_service_unavailable"][0]["text"]
    assert apology_text(SimpleNamespace(domain=None)) == "Service unavailable."


def test_a_failing_tracker_store_stops_the_turn():
    store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    harden(SimpleNamespace(tracker_store=store))
    with pytest.raises(StoreUnavailable):
        store.on_tracker_store_error(ConnectionError("database down"))
    harden(SimpleNamespace(tracker_store=None))  # nothing to harden: no error


# --- one turn ----------------------------------------------------------------------------------


def turn(on_new_message, agent) -> tuple[int, list]:
    message = UserMessage("こんにちは", CollectingOutputChannel(), "user-1", input_channel="rest")
    return asyncio.run(GuardedRestInput().handle_turn(on_new_message, message, agent))


@pytest.fixture
def agent(domain):
    return SimpleNamespace(domain=Domain.from_dict(domain))


def test_a_completed_turn_returns_the_bot_messages(agent):
    async def answer(message):
        await message.output_channel.send_text_message(message.sender_id, "はい")
        assert channel.CURRENT_TURN.get().sender == "user-1"

    status, messages = turn(answer, agent)
    assert status == 200 and [m["text"] for m in messages] == ["はい"]
    assert channel.CURRENT_TURN.get() is None  # reset after the turn


def test_a_failed_action_adds_the_apology(agent):
    channel._install_watch()

    async def answer(message):
        await message.output_channel.send_text_message(message.sender_id, "途中まで")
        logging.getLogger("rasa.core.processor").error("Encountered an exception while running action 'action_guide'.")

    status, messages = turn(answer, agent)
    assert status == 200 and [m["text"] for m in messages] == ["途中まで", apology_text(agent)]


@pytest.mark.parametrize("error", [StoreUnavailable("db"), LockError("redis"), RuntimeError("rasa")])
def test_a_store_or_lock_failure_is_a_503_with_the_apology(agent, error):
    async def answer(message):
        raise error

    status, messages = turn(answer, agent)
    assert status == 503 and messages == [{"recipient_id": "user-1", "text": apology_text(agent)}]


def test_the_watch_only_counts_errors_of_the_current_turn():
    record = logging.LogRecord("rasa.core.processor", logging.ERROR, "", 0, "while running action 'action_x'", None, None)
    assert channel.WATCH.filter(record)  # never drops a record, also outside a turn
    failures = channel.Turn("user-1")
    token = channel.CURRENT_TURN.set(failures)
    try:
        channel.WATCH.filter(record)
        channel.WATCH.filter(logging.LogRecord("x", logging.WARNING, "", 0, "while running action 'action_y'", None, None))
        channel.WATCH.filter(logging.LogRecord("x", logging.ERROR, "", 0, "something else", None, None))
    finally:
        channel.CURRENT_TURN.reset(token)
    assert failures.failed_actions == ["action_x", "(unknown)"]
