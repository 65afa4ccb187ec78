"""Personal values never reach a log line, in the Rasa server or the action server.

Installed by the logging configuration both servers are started with
(`--logging-config-file config/logging.yml`): `install()` is the filter factory named
there. It replaces the process's LogRecord factory, so every record, from any logger
and for any handler (Rasa's coloured console handler, structlog's JSON lines, a file
handler added later), is masked when it is created, before anything formats or writes it.

What is masked:
- e-mail addresses (ASCII and full-width), shown as [EMAIL];
- runs of 6 or more digits, hyphens or spaces allowed between them (到達番号, 受付番号,
  phone numbers, postal codes written with their prefix…), shown as [NUMBER];
- anything shaped like an API key (the same shape the input channel redacts), shown
  as [SECRET]; UUIDs (conversation ids of the help page, Rasa's model ids) and file
  paths in tracebacks are kept, they identify no one (these three shapes are usertext's,
  the ones the input channel and the insight report use);
- the values of the form slots that hold personal data, wherever Rasa or the SDK print
  a slot with its value (`email: …`, `'applicant_name': '…'`, `SlotSet(key: …, value: …)`,
  `"name": "email", "value": "…"`), shown as [SLOT:<name>]; each value seen that way is
  remembered for an hour (bounded) and masked wherever else it appears, e.g. inside
  the inquiry text a later turn shows;
- in the Rasa server, the text of the user message being handled (the input channel
  puts it in `CURRENT_USER_TEXT`): conversations are stored in the tracker store,
  under its access control and retention (insights/purge.py), not in logs. Button
  payloads (texts starting with "/") stay readable, their values masked as above.

Names typed into a form are only recognisable through the two last rules; a name
that appears nowhere as a slot value or as the current message would not be caught,
which is why the user text rule exists. Intents, confidences, actions and slot
*names* stay in the logs: that is what operators debug with.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from actions.fields import MASKED_SLOTS
from usertext import EMAIL, PERSONAL_NUMBER, SECRET

EMAIL_MASK, NUMBER_MASK, SECRET_MASK, TEXT_MASK = "[EMAIL]", "[NUMBER]", "[SECRET]", "[USER_TEXT]"

# The slots that hold what a person typed about themselves (actions/fields.py `personal`).
DEFAULT_PERSONAL_SLOTS = MASKED_SLOTS

UUID_SHAPE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# A UUID, also in its 32-hex form (Rasa's model and message ids), maybe behind a prefix like "web-".
UUID = re.compile(rf"^(?:[A-Za-z]+-)?(?:{UUID_SHAPE}|[0-9a-f]{{32}})$")
UUID_ANYWHERE = re.compile(rf"(?<![0-9a-fA-F]){UUID_SHAPE}(?![0-9a-fA-F])")

# The text of the user message the current task is handling (set by serving/channel.py).
CURRENT_USER_TEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar("egov_current_user_text", default=None)

MIN_REMEMBERED_CHARS = 2
TRIVIAL_VALUES = {"none", "null", "true", "false", "[]", "{}", "__skip__"}


# A file path in a traceback has the key shape too (python3.10/site-packages/redis/...).
PATH_WORD = re.compile(r"(?:^|/)(?:site-packages|dist-packages|lib|lib64|usr|home|tmp|work|opt|srv|var|venv|\.venv|bin|src)(?:/|$)")


def _secret(match: re.Match) -> str:
    token = match.group(0)
    return token if UUID.match(token) or PATH_WORD.search(token) else SECRET_MASK


def _escaped_forms(value: str) -> set[str]:
    """How a value may look inside a log line: as typed, JSON-escaped (once or twice), repr'd."""
    once = json.dumps(value)[1:-1]
    forms = {value, once, json.dumps(once)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1]}
    return {f for f in forms if len(f) >= MIN_REMEMBERED_CHARS}


def _decode(raw: str) -> str:
    """A value as printed (quoted, JSON-escaped, maybe twice) → the value itself."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    for _ in range(2):
        if "\\" not in raw:
            break
        try:
            raw = json.loads(f'"{raw}"')
        except ValueError:
            break
    return raw


class Masker:
    """The masking rules, with the remembered personal values of this process."""

    def __init__(
        self, personal_slots: Iterable[str] = DEFAULT_PERSONAL_SLOTS, remember_seconds: float = 3600, remember_max: int = 2000
    ) -> None:
        self.personal_slots = tuple(personal_slots)
        self.remember_seconds, self.remember_max = remember_seconds, remember_max
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        names = "|".join(re.escape(s) for s in sorted(self.personal_slots, key=len, reverse=True))
        q = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""  # a quoted string, JSON or repr
        self._slot_rules = [
            # "name": "email", "value": "x"  (slot events as JSON)
            re.compile(rf'(?P<pre>"name":\s*"(?P<slot>{names})",\s*"value":\s*)(?P<val>{q})'),
            # SlotSet(key: email, value: x), also inside a JSON string
            re.compile(rf"(?P<pre>key:\s*(?P<slot>{names}),\s*value:\s*)(?P<val>.*?)(?=\)(?:\\?\"|'|,|\]|\s*$))", re.MULTILINE),
            # 'email': 'x' / "email": "x" (dicts, JSON objects)
            re.compile(rf"""(?P<pre>(?P<quote>['"])(?P<slot>{names})(?P=quote)\s*:\s*)(?P<val>{q})"""),
            # email: x  (Rasa's "Current slot values", one slot a line; inside JSON the
            # line breaks and tabs are the two characters \n and \t)
            re.compile(rf"(?P<pre>(?:(?<=\\t)|(?<=\\n)|(?<![\w\"'\\]))(?P<slot>{names}):[ \t]+)(?P<val>(?:(?!\\[nt])[^\n\"])+)"),
        ]

    # --- remembered values ------------------------------------------------------------
    def remember(self, value: str) -> None:
        value = value.strip().strip("'\"")
        if len(value) < MIN_REMEMBERED_CHARS or value.lower() in TRIVIAL_VALUES or value.startswith("["):
            return
        with self._lock:
            self._seen[value] = time.monotonic()
            self._seen.move_to_end(value)
            while len(self._seen) > self.remember_max:
                self._seen.popitem(last=False)

    def _remembered(self) -> list[str]:
        cutoff = time.monotonic() - self.remember_seconds
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < cutoff:
                self._seen.popitem(last=False)
            return list(self._seen)

    # --- masking ----------------------------------------------------------------------
    def _mask_slots(self, text: str) -> str:
        for rule in self._slot_rules:

            def repl(m: re.Match) -> str:
                raw = m.group("val").strip()
                if raw in ("None", "null", '""', "''") or raw.startswith(("[SLOT:", "[PERSONAL]")):
                    return m.group(0)
                self.remember(_decode(raw))
                return f"{m.group('pre')}[SLOT:{m.group('slot')}]"

            text = rule.sub(repl, text)
        return text

    def mask(self, text: str) -> str:
        if not text:
            return text
        text = self._mask_slots(text)  # first: learns the values before anything hides them
        current = CURRENT_USER_TEXT.get()
        if current and not current.startswith("/") and len(current.strip()) >= MIN_REMEMBERED_CHARS:
            for form in sorted(_escaped_forms(current), key=len, reverse=True):
                text = text.replace(form, TEXT_MASK)
        for value in self._remembered():
            for form in _escaped_forms(value):
                if form in text:
                    text = text.replace(form, "[PERSONAL]")
        text = EMAIL.sub(EMAIL_MASK, text)
        text = SECRET.sub(_secret, text)
        # Conversation ids (UUIDs) identify no one and are what operators search for.
        parts, last = [], 0
        for m in UUID_ANYWHERE.finditer(text):
            parts += [PERSONAL_NUMBER.sub(NUMBER_MASK, text[last : m.start()]), m.group(0)]
            last = m.end()
        return "".join([*parts, PERSONAL_NUMBER.sub(NUMBER_MASK, text[last:])])


_masker: Masker | None = None
_formatter = logging.Formatter()


def masker() -> Masker:
    global _masker
    if _masker is None:
        _masker = Masker()
    return _masker


def mask_record(record: logging.LogRecord, rules: Masker | None = None) -> logging.LogRecord:
    """Masks a record in place: its message (args merged in) and its traceback text."""
    if getattr(record, "_egov_masked", False):
        return record
    rules = rules or masker()
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what there is, masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = rules.mask(str(message)), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = rules.mask(record.exc_text)
    if record.stack_info:
        record.stack_info = rules.mask(record.stack_info)
    record._egov_masked = True
    return record


class MaskingFilter(logging.Filter):
    """Masks every record it sees; never drops one. Also usable on a single handler."""

    def __init__(self, rules: Masker | None = None) -> None:
        super().__init__()
        self.rules = rules or masker()

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record, self.rules)
        return True


_installed = False


def install(personal_slots: Iterable[str] | None = None) -> MaskingFilter:
    """Filter factory for logging.config.dictConfig (config/logging.yml).

    Besides returning the filter, makes every LogRecord of this process masked at
    creation, whichever handler ends up writing it.
    """
    global _masker, _installed
    if personal_slots is not None:
        _masker = Masker(personal_slots)
    rules = masker()
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            return mask_record(previous(*args, **kwargs), masker())

        logging.setLogRecordFactory(factory)
        _installed = True
    return MaskingFilter(rules)
