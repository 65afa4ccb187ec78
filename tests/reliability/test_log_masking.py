"""serving/log_masking.py rule by rule (no servers). The end-to-end proof on real DEBUG
logs is test_security.py::test_no_personal_value_in_any_log_line_of_full_form_conversations."""

from __future__ import annotations

import logging
import sys

import pytest

from serving.log_masking import CURRENT_USER_TEXT, Masker, MaskingFilter


@pytest.mark.parametrize(
    "line,hidden,kept",
    [
        ("mail taro.yamada@example.co.jp ok", "taro.yamada@example.co.jp", "mail"),
        ("全角 ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "全角"),
        ("到達番号123456789012345678です", "123456789012345678", "到達番号"),
        ("到達番号１２３４５６７８９０１２３４５６７８", "１２３４５６７８９０１２３４５６７８", "到達番号"),
        ("tel 03-1234-5678 / 090 1234 5678", "1234-5678", "tel"),
        ("key abcDEF1234567890abcdef1234567890XYZ end", "abcDEF1234567890abcdef1234567890XYZ", "end"),
    ],
)
def test_patterns(line, hidden, kept):
    masked = Masker().mask(line)
    assert hidden not in masked and kept in masked


@pytest.mark.parametrize(
    "line",
    [
        '{"intent": {"name": "greet", "confidence": 0.98765432}}',
        "object at 0x7f187d064c40",
        "sender web-550e8400-e29b-41d4-a716-446655440000",
        "model_id='0f3c1a2b4d5e6f708192a3b4c5d6e7f8'",
        'File "/work/main/.venv/lib/python3.10/site-packages/redis/connection.py", line 1467',
        "port 5005, 3000 characters, step 3/7",
    ],
)
def test_what_operators_need_stays_readable(line):
    assert Masker().mask(line) == line


@pytest.mark.parametrize(
    "line",
    [
        r'{"slot_values": "\tguide_state: None\n\tapplicant_name: \u5c71\u7530\u592a\u90ce\n\tagency: None"}',
        r'{"rasa_events": ["SlotSet(key: applicant_name, value: \u5c71\u7530\u592a\u90ce)"]}',
        "Current slot values:\n\tapplicant_name: 山田太郎\n\tunlock_service: egov_application",
        "{'applicant_name': '山田太郎', 'email': None}",
        '{"event": "slot", "name": "applicant_name", "value": "\\u5c71\\u7530\\u592a\\u90ce"}',
    ],
)
def test_personal_slot_values_in_every_shape_and_remembered(line):
    rules = Masker()
    masked = rules.mask(line)
    assert "[SLOT:applicant_name]" in masked
    assert "山田太郎" not in masked and r"\u5c71\u7530\u592a\u90ce" not in masked
    assert "egov_application" in rules.mask("unlock_service: egov_application")  # choices are not personal
    later = rules.mask(r"BotUttered('\u7533\u8acb\u8005\uff1a\u5c71\u7530\u592a\u90ce') 山田太郎")
    assert "山田太郎" not in later and r"\u5c71\u7530\u592a\u90ce" not in later and "[PERSONAL]" in later


def test_current_user_text_as_typed_and_json_escaped():
    rules = Masker()
    token = CURRENT_USER_TEXT.set("鈴木一郎です")
    try:
        masked = rules.mask(r'{"parse_data_text": "\u9234\u6728\u4e00\u90ce\u3067\u3059"} Received 鈴木一郎です')
    finally:
        CURRENT_USER_TEXT.reset(token)
    assert "鈴木" not in masked and r"\u9234" not in masked and masked.count("[USER_TEXT]") == 2
    assert Masker().mask("鈴木一郎です") == "鈴木一郎です"  # outside the turn: nothing to recognise it by


def test_filter_masks_message_args_and_traceback():
    try:
        raise ValueError("bad address taro@example.jp")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", ("hanako@example.jp",), sys.exc_info())
    assert MaskingFilter(Masker()).filter(record) is True
    text = logging.Formatter().format(record)
    assert "example.jp" not in text and "[EMAIL]" in text and "ValueError" in text
