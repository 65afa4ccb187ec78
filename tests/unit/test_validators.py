"""Tables of good and bad inputs for every validated field type."""

from __future__ import annotations

from datetime import datetime

import pytest

from actions import validators as v

LONG = "あ" * 101
INJECTION = ["<script>alert(1)</script>", "'; DROP TABLE events; --", "{{7*7}}", "${jndi:ldap://x}", "javascript:alert(1)"]

GOOD_EMAILS = [
    ("taro.yamada@example.jp", "taro.yamada@example.jp"),
    ("Taro.Yamada@Example.JP", "taro.yamada@example.jp"),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
    ("  hanako+egov@mail.example.co.jp  ", "hanako+egov@mail.example.co.jp"),
    ("e-Gov.2020@e-gov.go.jp", "e-gov.2020@e-gov.go.jp"),
]
BAD_EMAILS = [
    ("", "email_empty"),
    ("   ", "email_empty"),
    ("taro", "email_format"),
    ("taro@", "email_format"),
    ("@example.jp", "email_format"),
    ("taro@example", "email_format"),
    ("taro@@example.jp", "email_format"),
    ("taro..yamada@example.jp", "email_format"),
    ("taro@exa_mple.jp", "email_format"),
    ("たろう@example.jp", "email_format"),
    ("taro@example.jp\x00", "email_format"),
    ("a" * 250 + "@example.jp", "email_too_long"),
    ("<script>@example.jp", "email_format"),
    ("taro@example.jp; DROP TABLE", "email_format"),
    ("taro@example.jp,hanako@example.jp", "email_format"),
    ("mailto:taro@example.jp", "email_format"),
    ("abcDEF1234567890abcdef1234567890XYZ", "secret"),
]


GOOD_NUMBERS = [
    ("123456789012345678", "123456789012345678"),
    ("１２３４５６７８９０", "1234567890"),
    (" 2026-1124-001 ", "2026-1124-001"),
    ("123 456 789", "123456789"),
]
BAD_NUMBERS = [
    ("", "number_empty"),
    ("  ", "number_empty"),
    ("abc", "number_format"),
    ("12", "number_format"),
    ("-123456", "number_format"),
    ("123456-", "number_format"),
    ("12a456", "number_format"),
    ("１２３ａ", "number_format"),
    ("1" * 41, "number_too_long"),
    ("<b>123</b>", "number_format"),
    ("123; DROP TABLE", "number_format"),
    ("１２３４５６７８９０１２３４５６７８９０１２３４５６７８９０１２３４５６７８９０１", "number_too_long"),
    ("12.34", "number_format"),
    ("到達番号123", "number_format"),
    ("123\x00456", "number_format"),
]


GOOD_NAMES = [
    ("山田 太郎", "山田 太郎"),
    ("山田　太郎", "山田 太郎"),
    ("株式会社ｲｰｶﾞﾌﾞ", "株式会社イーガブ"),
    ("デジタル庁", "デジタル庁"),
    ("ＡＢＣ商事（株）", "ABC商事(株)"),
]
BAD_NAMES = [
    ("", "text_empty"),
    ("　", "text_empty"),
    (LONG, "text_too_long"),
    ("山田\x00太郎", "text_format"),
    ("山田\n太郎", "text_format"),
    ("https://example.jp", "text_format"),
    ("<b>山田</b>", "text_format"),
    ("山田{太郎}", "text_format"),
    ("山田`太郎`", "text_format"),
    ("abcDEF1234567890abcdef1234567890XYZ", "secret"),
    ("[REDACTED_SECRET]", "secret"),
    *[(text, "text_format") for text in INJECTION if text != "'; DROP TABLE events; --"],
    ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｊｐ", "text_format"),
]


GOOD_SOFTWARE_IDS = [("SW-0001", "SW-0001"), ("ｓｗ＿００１", "sw_001"), ("abc.def", "abc.def")]
BAD_SOFTWARE_IDS = [
    ("", "text_empty"),
    ("ソフト", "software_id_format"),
    ("-abc", "software_id_format"),
    ("a/b", "software_id_format"),
    ("<x>", "software_id_format"),
    ("abc;DROP", "software_id_format"),
    ("a" * 65, "text_too_long"),
    ("abcDEF1234567890abcdef1234567890XYZ", "secret"),
    ("${jndi}", "software_id_format"),
    ("ab@cd", "software_id_format"),
    ("ab#cd", "software_id_format"),
    ("ab%cd", "software_id_format"),
    ("ab\x00cd", "software_id_format"),
    ("ab,cd", "software_id_format"),
    ("[REDACTED_SECRET]", "secret"),
]


NOW = datetime(2026, 11, 25, 12, 0, 0)
GOOD_DATETIMES = [
    ("2026/11/24 14:05:30", datetime(2026, 11, 24, 14, 5, 30)),
    ("２０２６／１１／２４　１４：０５：３０", datetime(2026, 11, 24, 14, 5, 30)),
    ("2026-11-24 14:05", datetime(2026, 11, 24, 14, 5, 0)),
    ("11月24日 午後2時5分", datetime(2026, 11, 24, 14, 5, 0)),
    ("11月24日 午前9時5分10秒", datetime(2026, 11, 24, 9, 5, 10)),
    ("昨日の15時ごろ", datetime(2026, 11, 24, 15, 0, 0)),
    ("今朝9時半", datetime(2026, 11, 25, 9, 30, 0)),
    ("おとといの夜8時", datetime(2026, 11, 23, 20, 0, 0)),
    ("3日前 10:00", datetime(2026, 11, 22, 10, 0, 0)),
    ("2026年11月19日 13時00分00秒", datetime(2026, 11, 19, 13, 0, 0)),
    ("今日 午後0時", datetime(2026, 11, 25, 12, 0, 0)),
]
BAD_DATETIMES = [
    ("", "datetime_empty"),
    ("   ", "datetime_empty"),
    ("さっき", "datetime_format"),
    ("ごろ", "datetime_format"),
    ("2026/13/01 10:00", "datetime_format"),
    ("2026/11/31 10:00", "datetime_format"),
    ("11月24日", "datetime_no_time"),
    ("昨日", "datetime_no_time"),
    ("2026/11/24 25:00", "datetime_format"),
    ("2026/11/24 10:61", "datetime_format"),
    ("2026/11/26 10:00", "datetime_future"),
    ("今日 23時", "datetime_future"),
    ("2026/11/17 10:00", "datetime_too_old"),
    ("2025/11/24 10:00", "datetime_too_old"),
    ("10日前 10:00", "datetime_too_old"),
    ("<script>alert(1)</script>", "datetime_format"),
    ("2026/11/24 14:05:30" + "0" * 60, "datetime_format"),
    ("2026/11/24\x0014:05", "datetime_format"),
]


def parse_datetime(raw: str):
    return v.parse_datetime_ja(raw, NOW)


# field type → its validator, the inputs it accepts (with their normal form) and those it refuses
FIELDS = {
    "email": (v.validate_email, GOOD_EMAILS, BAD_EMAILS),
    "number": (v.validate_number, GOOD_NUMBERS, BAD_NUMBERS),
    "name": (v.validate_name, GOOD_NAMES, BAD_NAMES),
    "software_id": (v.validate_software_id, GOOD_SOFTWARE_IDS, BAD_SOFTWARE_IDS),
    "datetime": (parse_datetime, GOOD_DATETIMES, BAD_DATETIMES),
}


def cases(good: bool) -> list:
    return [
        pytest.param(validate, raw, out, id=f"{field}-{i}")
        for field, (validate, accepted, refused) in FIELDS.items()
        for i, (raw, out) in enumerate(accepted if good else refused)
    ]


@pytest.mark.parametrize("validate,raw,expected", cases(good=True))
def test_good_values_are_accepted_in_their_normal_form(validate, raw, expected):
    assert validate(raw) == (expected, None)


@pytest.mark.parametrize("validate,raw,problem", cases(good=False))
def test_bad_values_name_their_problem(validate, raw, problem):
    assert validate(raw) == (None, problem)


def test_sql_looking_names_are_just_text():
    # Values are never put into SQL by us; a quote is a legitimate character in names.
    assert v.validate_name("O'Brien 商事")[1] is None


def test_date_without_year_in_the_future_means_last_year():
    when, problem = v.parse_datetime_ja("12月31日 10:00", datetime(2027, 1, 2, 9, 0))
    assert problem is None and when == datetime(2026, 12, 31, 10, 0)
