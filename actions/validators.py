"""Pure normalisation and validation of the identity-verification fields.

Each validator returns (value, None) when the input is acceptable, or
(None, problem) where `problem` names a domain response `utter_invalid_<problem>`
that explains, politely and with an example, what is wrong. No Japanese here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import usertext
from usertext import CONTROL_CHARACTERS, looks_like_secret

Result = tuple[str | None, str | None]

MAX_TEXT = 100
MAX_EMAIL = 254
# RFC 5321 limits, and the characters people actually have in addresses.
EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
MARKUP = re.compile(r"[<>{}\[\]\\`$]|https?://|javascript:", re.IGNORECASE)
NUMBER = re.compile(r"^[0-9][0-9-]{2,38}[0-9]$")
SOFTWARE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def nfkc(text: str | None) -> str:
    """A field value in one spelling, trimmed."""
    return usertext.nfkc(text).strip()


def validate_email(text: str | None) -> Result:
    if looks_like_secret(text):
        return None, "secret"
    value = re.sub(r"\s+", "", nfkc(text)).lower()
    if not value:
        return None, "email_empty"
    if len(value) > MAX_EMAIL:
        return None, "email_too_long"
    if CONTROL_CHARACTERS.search(value) or not EMAIL.match(value) or ".." in value:
        return None, "email_format"
    return value, None


def validate_number(text: str | None) -> Result:
    """到達番号 / 受付番号: digits (full-width accepted), hyphens allowed inside."""
    if looks_like_secret(text):
        return None, "secret"
    value = re.sub(r"\s+", "", nfkc(text))
    if not value:
        return None, "number_empty"
    if len(value) > 40:
        return None, "number_too_long"
    if not NUMBER.match(value):
        return None, "number_format"
    return value, None


def validate_name(text: str | None) -> Result:
    """Free-text names (手続名称, 法人名, 氏名, 行政機関…): plain text, one line."""
    value = re.sub(r"[ \t\u3000]+", " ", nfkc(text))
    if looks_like_secret(value):
        return None, "secret"
    if not value:
        return None, "text_empty"
    if len(value) > MAX_TEXT:
        return None, "text_too_long"
    if CONTROL_CHARACTERS.search(value) or MARKUP.search(value):
        return None, "text_format"
    return value, None


def validate_software_id(text: str | None) -> Result:
    value = re.sub(r"\s+", "", nfkc(text))
    if not value:
        return None, "text_empty"
    if looks_like_secret(value):
        return None, "secret"
    if len(value) > 64:
        return None, "text_too_long"
    if not SOFTWARE_ID.match(value):
        return None, "software_id_format"
    return value, None


# --- date and time ----------------------------------------------------------

RELATIVE_DAYS = {
    "今日": 0,
    "本日": 0,
    "今朝": 0,
    "今晩": 0,
    "今夜": 0,
    "昨日": 1,
    "きのう": 1,
    "昨晩": 1,
    "昨夜": 1,
    "一昨日": 2,
    "おととい": 2,
}
EVENING_WORDS = ("今晩", "今夜", "昨晩", "昨夜")
FULL = re.compile(r"(?:(\d{4})[/\-年.])?(\d{1,2})[/\-月.](\d{1,2})日?")
TIME_COLON = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
TIME_JA = re.compile(r"(午前|午後|朝|夜|夕方)?\s*(\d{1,2})時(?:(半)|(\d{1,2})分)?(?:(\d{1,2})秒)?")
DAYS_AGO = re.compile(r"(\d{1,2})日前")
WINDOW = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)  # a phone clock slightly ahead is not "the future"


def parse_datetime_ja(text: str | None, now: datetime) -> tuple[datetime | None, str | None]:
    """Understands 2026/11/24 14:05:30, 11月24日 午後2時5分, 昨日の15時ごろ, 今朝9時半.

    Returns (datetime, None) or (None, problem): datetime_empty, datetime_format,
    datetime_no_time, datetime_future, datetime_too_old.
    """
    value = nfkc(text)
    if not value:
        return None, "datetime_empty"
    if len(value) > 60 or CONTROL_CHARACTERS.search(value):
        return None, "datetime_format"
    day = None
    m = FULL.search(value)
    if m:
        year = int(m.group(1)) if m.group(1) else now.year
        try:
            day = datetime(year, int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None, "datetime_format"
        if not m.group(1) and day.date() > now.date():
            day = day.replace(year=year - 1)  # "12月31日" written on 1 January
        rest = value[m.end() :]
    else:
        rest = value
        for word, back in RELATIVE_DAYS.items():
            if word in value:
                day = datetime(now.year, now.month, now.day) - timedelta(days=back)
                break
        ago = DAYS_AGO.search(value)
        if day is None and ago:
            day = datetime(now.year, now.month, now.day) - timedelta(days=int(ago.group(1)))
            rest = value[ago.end() :]
    if day is None:
        return None, "datetime_format"
    hour: int | None = None  # None: no time in the text
    minute = second = 0
    m = TIME_COLON.search(rest)
    if m:
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if re.search(r"午後|夜", rest) and hour < 12:
            hour += 12
    else:
        m = TIME_JA.search(rest)
        if m:
            hour = int(m.group(2))
            minute = 30 if m.group(3) else int(m.group(4) or 0)
            second = int(m.group(5) or 0)
            if (m.group(1) in ("午後", "夜", "夕方") or any(w in value for w in EVENING_WORDS)) and hour < 12:
                hour += 12
    if hour is None:
        return None, "datetime_no_time"
    if hour > 23 or minute > 59 or second > 59:
        return None, "datetime_format"
    when = day.replace(hour=hour, minute=minute, second=second)
    if when > now + CLOCK_SKEW:
        return None, "datetime_future"
    if when < now - WINDOW:
        return None, "datetime_too_old"
    return when, None


def format_datetime(when: datetime, template: str) -> str:
    """Fill a format from domain.yml, e.g. "{year}年{month}月{day}日 {hour:02d}時…"."""
    return template.format(year=when.year, month=when.month, day=when.day, hour=when.hour, minute=when.minute, second=when.second)
