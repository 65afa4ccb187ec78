"""usertext: the one spelling, control characters, API keys and personal values, on tables of inputs."""

from __future__ import annotations

import pytest

import usertext
from insights.text import MASK
from insights.text import mask as report_mask
from serving.log_masking import Masker


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ＨＴＴＰ５００", "HTTP500"),
        ("ﾛｸﾞｲﾝ", "ログイン"),
        ("ＧビズＩＤ", "GビズID"),
        ("①", "1"),
        (None, ""),
        ("  そのまま  ", "  そのまま  "),  # not trimmed: callers that store a value trim it
    ],
)
def test_nfkc(text, expected):
    assert usertext.nfkc(text) == expected


def test_squash_ignores_every_white_space():
    assert usertext.squash("Ｇビズ ID\nで　ログイン\t") == "GビズIDでログイン"
    assert usertext.squash(None) == ""


@pytest.mark.parametrize(
    "char,in_a_value,in_a_message",
    [
        ("\x00", True, True),
        ("\x0b", True, True),
        ("\x1f", True, True),
        ("\x7f", True, True),
        ("\t", True, False),  # a message keeps its tabs and line breaks...
        ("\n", True, False),
        ("\r", True, False),
        ("\x85", True, False),  # ...and C1 controls are only refused in one-line values
        ("a", False, False),
        ("\u3000", False, False),
    ],
)
def test_the_two_control_character_sets(char, in_a_value, in_a_message):
    assert bool(usertext.CONTROL_CHARACTERS.search(char)) is in_a_value
    assert bool(usertext.CONTROL_BUT_TAB_AND_LINE_BREAKS.search(char)) is in_a_message


@pytest.mark.parametrize(
    "text,secret",
    [
        ("abcDEF1234567890abcdef1234567890XYZ", True),
        ("キーは sk_live_0123456789abcdefABCDEF0123456789 です", True),
        ("123456789012345678", False),
        ("taro.yamada@example.jp", False),
        ("SW-0001", False),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", False),
    ],
)
def test_secret_detection(text, secret):
    assert usertext.looks_like_secret(text) is secret
    assert (usertext.REDACTED_SECRET in usertext.redact_secrets(text, usertext.REDACTED_SECRET)) is secret


def test_redaction_leaves_the_rest_of_the_message():
    key = "k9XbQ2mZ7rT4vW8yP1sD6fG3hJ5lN0cA"  # fake
    assert usertext.redact_secrets(f"ＡＰＩキーは {key} です") == "APIキーは [REDACTED_SECRET] です"
    assert usertext.looks_like_secret("[REDACTED_SECRET]")


@pytest.mark.parametrize(
    "text,found",
    [
        ("123456", "123456"),  # a one-time code: the shortest personal number
        ("12345", None),
        ("到達番号123456789012345678です", "123456789012345678"),
        ("１２３－４５６７－８９０１", "１２３－４５６７－８９０１"),
        ("1234 5678 9012 3456", "1234 5678 9012 3456"),
        ("HTTP500", None),
        ("0.98765432", None),  # a confidence in a log line
        ("0x7f1234567890", None),  # glued to a letter: part of an id
        ("2023/3/12", None),
    ],
)
def test_personal_numbers(text, found):
    match = usertext.PERSONAL_NUMBER.search(text)
    assert (match.group(0) if match else None) == found


@pytest.mark.parametrize(
    "text,found",
    [
        ("メールは taro.yamada@example.co.jp です", "taro.yamada@example.co.jp"),
        ("メールはtaro@example.jpです", "メールはtaro@example.jpです"),  # too much rather than too little
        ("山田@example.jp", "山田@example.jp"),
        ("ｔａｒｏ＋ｅｇｏｖ＠ｅｘａｍｐｌｅ．ｊｐ に", "ｔａｒｏ＋ｅｇｏｖ＠ｅｘａｍｐｌｅ．ｊｐ"),
        ("hanako+egov@mail.example.jp", "hanako+egov@mail.example.jp"),
        ("taro@example", None),
    ],
)
def test_email_addresses(text, found):
    match = usertext.EMAIL.search(text)
    assert (match.group(0) if match else None) == found


@pytest.mark.parametrize(
    "text", ["ワンタイムコード 123456 が通らない", "taro@example.jp", "受付番号 2026-1124-001", "abcDEF1234567890abcdef1234567890XYZ"]
)
def test_logs_and_the_report_hide_the_same_values(text):
    assert Masker(personal_slots=()).mask(text) != text
    assert MASK in report_mask(text)
