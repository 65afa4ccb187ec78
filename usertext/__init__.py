"""What the project does to text a user typed, in one place: one spelling (NFKC),
control characters, API keys found and redacted, personal values found for masking.

Used by the NLU components, the actions, the input channel, the log masking and the
insight report, so a rule changed here changes everywhere at once. Standard library
only: the action server imports it and must stay light.
"""

from __future__ import annotations

import re
import unicodedata

# --- one spelling ----------------------------------------------------------------------------


def nfkc(text: str | None) -> str:
    """The NFKC form, "" for None: ＨＴＴＰ５００ → HTTP500, ﾛｸﾞｲﾝ → ログイン, ＧビズＩＤ → GビズID.

    Not trimmed: a value that is stored or compared whole adds .strip()."""
    return unicodedata.normalize("NFKC", text or "")


def squash(text: str | None) -> str:
    """Comparison form of quoted text: NFKC, no white space (line breaks and indents do not count)."""
    return "".join(nfkc(text).split())


# --- control characters ----------------------------------------------------------------------

# Every C0 and C1 control character and DEL, tab and line breaks included: none belongs
# in a one-line value (a form field, a conversation id).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The C0 controls and DEL but tab, line feed and carriage return: removed from a chat
# message, which keeps its line breaks.
CONTROL_BUT_TAB_AND_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# --- secrets ---------------------------------------------------------------------------------

# An API key: one token of 32 or more key characters (letters, digits, - _ + / =) with at
# least one letter and one digit. The FAQ sends keys to the desk's form, never to the
# chat: the input channel redacts them, the forms refuse them, the logs mask them.
SECRET = re.compile(
    r"(?<![A-Za-z0-9_\-+/=])(?=[A-Za-z0-9_\-+/=]*[0-9])(?=[A-Za-z0-9_\-+/=]*[A-Za-z])[A-Za-z0-9_\-+/=]{32,}(?![A-Za-z0-9_\-+/=])"
)
# What the input channel leaves where a user typed something shaped like an API key.
REDACTED_SECRET = "[REDACTED_SECRET]"


def looks_like_secret(text: str | None) -> bool:
    """True for text containing something shaped like an API key (or its redaction marker)."""
    value = nfkc(text)
    return REDACTED_SECRET in value or bool(SECRET.search(value))


def redact_secrets(text: str, mark: str = REDACTED_SECRET) -> str:
    """The NFKC text with every API-key-shaped token replaced by `mark`."""
    return SECRET.sub(mark, nfkc(text))


# --- personal values -------------------------------------------------------------------------
# Found here, replaced by each user with its own mark: [EMAIL] / [NUMBER] in logs
# (serving/log_masking.py), ＊＊＊ in the insight report (insights/text.py).

# An e-mail address, ASCII or full-width (ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ), also with letters of
# any script (山田@example.jp). The union of what the logs and the report each masked
# before: masking too much of 「メールはtaro@example.jpです」 is better than too little.
EMAIL = re.compile(r"[\w._%+\-＿．－＋]+[@＠][\w\-－]+(?:[.．][\w\-－]+)+")

# A personal number: 到達番号, 受付番号, a phone or card number, a one-time code. One
# definition and one threshold for logs and the report: 6 or more digits (any script),
# single separators allowed between them. 6, not 7, because the one-time codes of
# authenticator apps and SMS (2要素認証) have 6 digits and must not be shown; 5 digits
# or fewer are what users ask about (HTTP500, 30分, 2023/3/12) and stay readable.
# A run glued to an ASCII letter, an underscore or a decimal point is part of a code,
# an id or a measurement, not a number on its own: 0.98765432 (a confidence) and hex
# ids (0x7f18d2c0, Rasa's message ids) stay readable in logs; 到達番号123456789012345678
# does not. (The report used to mask such runs too, ID1234567 included; one rule for
# both means the report now shows them, as the logs always did.)
MIN_PERSONAL_DIGITS = 6
NUMBER_SEPARATORS = r"\-‐‑‒–—―−－ー\u3000 "
PERSONAL_NUMBER = re.compile(rf"(?<![A-Za-z0-9_.])\d(?:[{NUMBER_SEPARATORS}]?\d){{{MIN_PERSONAL_DIGITS - 1},}}")

_DASH = r"[-‐‑‒–—―−ー－]"
# A phone number written with its parts: 03-1234-5678, 090 1234 5678, (03)1234-5678,
# +81-90-1234-5678, 0120-123-456 (the whole of it, brackets and country code included).
PHONE_NUMBER = re.compile(rf"(?:\+\d{{1,3}}\s?{_DASH}?\s?)?[(（]?\d{{2,4}}[)）]?\s?{_DASH}?\s?\d{{2,4}}\s?{_DASH}\s?\d{{3,4}}(?!\d)")
# A postal code, with or without its mark: 〒100-0013.
POSTAL_CODE = re.compile(rf"〒?\s?\d{{3}}{_DASH}\d{{4}}(?!\d)")
