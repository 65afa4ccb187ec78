"""Bad input through the REST channel (serving/channel.py) against real servers.

Each case starts a procedure, sends the bad request in the same conversation, and
then proves: a clear reply or a 4xx with a reason, the server still up, the stored
conversation readable and whole, and the procedure continuing at the same step.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability.checks import (
    CONTACT,
    PROCEDURE_QUESTION,
    TOO_LONG,
    conversation_intact,
    new_sender,
    start_procedure,
    step_text,
    texts_of,
)

# name → message text; each is answered (HTTP 200) with at least one message.
ANSWERED = {
    "empty": "",
    "whitespace-only": "  \t\n\u3000  ",
    "100000-characters": "あ" * 100_000,
    "emoji": "😀🙏🏽👨‍👩‍👧‍👦🇯🇵",
    "combining-characters": "か\u3099き\u3099 e\u0301 Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d",
    "control-characters-and-NUL": "\x00こん\x07にち\x1b[31mは\x7f\x08",
    "lone-surrogate": "\ud800abc\udfff",
    "html-script": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "sql-looking": "'; DROP TABLE events; -- 1' OR '1'='1",
}


@pytest.mark.parametrize("text", list(ANSWERED.values()), ids=list(ANSWERED))
def test_answered_and_conversation_intact(single, text):
    me = new_sender("bad")
    start_procedure(single, me)
    reply = single.post({"sender": me, "message": text})
    assert reply.status_code == 200, reply.text[:300]
    messages = reply.json()
    assert messages and all(m.get("text") or m.get("buttons") for m in messages), messages
    texts = texts_of(messages)
    if len(text) > 3000:
        assert TOO_LONG in texts
    assert not any("<script>" in t for t in texts)
    # Consistent: the procedure is where this reply left it (a cleaned message may be
    # understood as a move, e.g. an emoji as 次へ; then the step shown is the new one).
    shown = [int(t.split("/")[0].removeprefix("手順 ")) for t in texts if t.startswith("手順 ")]
    stored = conversation_intact(single, me, single.workdir / "tracker.db", expected_step=shown[-1] if shown else 1)
    assert stored[0] == PROCEDURE_QUESTION and stored[-1] == "/guide_resume"
    cleaned = stored[1]  # as Rasa stored it (a rephrase after "did you mean" adds the rephrase twice)
    assert not any(ch in cleaned for ch in "\x00\x07\x1b\x7f\x08"), repr(cleaned)
    assert len(cleaned) <= 3000
    cleaned.encode("utf-8")  # storable: no lone surrogates left


# name → raw request body; each is refused with a 4xx and a reason, nothing stored.
def body(**fields) -> bytes:
    return json.dumps(fields).encode()


REFUSED = {
    "invalid-utf8": (b'{"sender": "%s", "message": "\xff\xfe\xc3\x28"}', 400),
    "invalid-json": (b'{"sender": "%s", "message": "x"', 400),
    "not-json": (b"sender=%s&message=hello", 400),
    "json-array": (b'["%s", "hello"]', 400),
    "json-string": (b'"%s"', 400),
    "json-null": (b"null", 400),
    "empty-body": (b"", 400),
    "missing-sender": (body(message="こんにちは"), 400),
    "missing-message": (b'{"sender": "%s"}', 400),
    "message-number": (b'{"sender": "%s", "message": 12345}', 400),
    "message-list": (b'{"sender": "%s", "message": ["a", "b"]}', 400),
    "message-null": (b'{"sender": "%s", "message": null}', 400),
    "message-object": (b'{"sender": "%s", "message": {"text": "hi"}}', 400),
    "message-bool": (b'{"sender": "%s", "message": true}', 400),
    "sender-object": (body(sender={"id": "x"}, message="こんにちは"), 400),
    "sender-list": (body(sender=["x"], message="こんにちは"), 400),
    "sender-number": (body(sender=12345, message="こんにちは"), 400),
    "sender-empty": (body(sender="  ", message="こんにちは"), 400),
    "sender-10000-chars": (body(sender="s" * 10_000, message="こんにちは"), 400),
    "sender-control-chars": (body(sender="a\x00b", message="こんにちは"), 400),
    "metadata-not-object": (b'{"sender": "%s", "message": "hi", "metadata": [1]}', 400),
    "deeply-nested": (b'{"sender": "%s", "message": "hi", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    "body-over-1MB": (body(sender="SENDER", message="あ" * 400_000), 413),
}


@pytest.mark.parametrize("raw,status", list(REFUSED.values()), ids=list(REFUSED))
def test_refused_with_reason_and_conversation_intact(single, raw, status):
    me = new_sender("bad")
    start_procedure(single, me)
    if b"%s" in raw:
        raw = raw.replace(b"%s", me.encode())
    raw = raw.replace(b"SENDER", me.encode())
    reply = single.post(raw=raw)
    assert reply.status_code == status, reply.text[:300]
    assert reply.json().get("error"), reply.text[:300]
    stored = conversation_intact(single, me, single.workdir / "tracker.db")
    assert stored == [PROCEDURE_QUESTION, "/guide_resume"]  # the refused request left nothing


def test_parallel_messages_for_one_sender(single):
    """20 requests at once in one conversation: every one answered, turns one after the
    other (Rasa's lock store), each /guide_next seeing the previous one's state."""
    me = new_sender("par")
    start_procedure(single, me)
    messages = ["/guide_next"] * 6 + ["こんにちは"] * 14
    with ThreadPoolExecutor(len(messages)) as pool:
        replies = list(pool.map(lambda m: single.post({"sender": me, "message": m}), messages))
    assert [r.status_code for r in replies] == [200] * len(messages)
    assert all(r.json() for r in replies)
    shown = sorted(t for r in replies[:6] for t in texts_of(r.json()) if t.startswith("手順 "))
    assert shown == sorted(step_text(n) for n in range(2, 8)), shown  # each step exactly once
    stored = conversation_intact(single, me, single.workdir / "tracker.db", expected_step=7)
    assert sorted(stored[1:-1]) == sorted(messages)  # each stored once


def test_error_replies_never_echo_the_input(single):
    """A 400 names the field, never the value (values may be personal)."""
    value = "taro.yamada@example.jp"
    reply = single.post(raw=json.dumps({"sender": {"mail": value}, "message": value}).encode())
    assert reply.status_code == 400 and value not in reply.text
    assert not any(c in reply.text for c in CONTACT)  # a programming error, not a user-facing message
