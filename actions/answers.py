"""Reads a typed answer to the question the bot asked last.

Users type instead of clicking: a button's title, an option number in any form
(2, ２, ②, (2), 2番, 二つ目, 最後の), the option's own words, a yes or a no with
content, or that they cannot say (「わからない」). `read` turns such a message into
the button the user meant, so a typed answer and a click take the same path.

Pure functions over plain data (button dicts, the engine state, the flows), used
by the Rasa server's ContextFirstPolicy to decide where a message goes and by the
actions to act on it. The words live in content/answers.yml, the option examples
in content/flows.yml: editors extend both without retraining.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.content import PROJECT_ROOT, Flow, Node
from actions.guide_state import GuideState
from usertext import nfkc

ANSWERS_FILE = PROJECT_ROOT / "content" / "answers.yml"

# Similarity an example must reach to be taken as the answer, and the lead it
# needs over an example of another option (tuned on tests/dialogues/tuning).
MIN_SCORE = 0.55
STRONG_SCORE = 0.75  # close enough to win over 「わからない」 inside the same message
MIN_LEAD = 0.1
NEGATION_PENALTY = 0.4

CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ①..⑳
KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
KANA_COUNTS = {"ひと": 1, "ふた": 2, "みっ": 3, "よっ": 4, "いつ": 5}
MARKER = re.compile(r"^\s*(?:([\u2460-\u2473])|[(（]\s*([0-9０-９]{1,2})\s*[)）])")
NUMBER = re.compile(r"^(?:([0-9]{1,2})|([一二三四五六七八九十]))(?:つ目|つめ|番目|番|個目|こめ)?")
KANA_NUMBER = re.compile(r"^(ひと|ふた|みっ|よっ|いつ)つ(?:目|め)")
PUNCTUATION = re.compile(r"[\s、。，．,.!！?？・「」『』()（）\[\]【】\"'“”‘’〜~…:：;；/／]+")


@dataclass(frozen=True)
class Choice:
    """One button of the question, with what else counts as choosing it."""

    title: str
    payload: str
    examples: tuple[str, ...] = ()
    polarity: str | None = None  # "affirm" / "deny" when the button is a yes / a no
    target: str = ""  # where it leads: options that lead to the same place are one answer
    fuzzy: bool = True  # False: only its exact title selects it (「わからない」 is read as such anyway)


@dataclass(frozen=True)
class Reading:
    """What a typed message answers: a button (`index`), or "unsure"."""

    kind: str  # "choice" | "unsure"
    index: int = -1
    how: str = ""  # title | marker | number | ordinal | yes_no | example | intent


@dataclass(frozen=True)
class Vocabulary:
    yes_words: tuple[str, ...]
    no_words: tuple[str, ...]
    dont_know: tuple[str, ...]
    first_words: tuple[str, ...]
    last_words: tuple[str, ...]
    number_fillers: tuple[str, ...]
    negations: tuple[str, ...]
    examples_by_payload: dict[str, tuple[str, ...]]
    topic_joiners: tuple[str, ...] = ()


# --- text ----------------------------------------------------------------------


def fold(text: str | None) -> str:
    """One spelling for comparison: NFKC, lower case, hiragana, no spaces or punctuation."""
    value = nfkc(text).lower()
    value = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in value)
    return PUNCTUATION.sub("", value)


def marker_of(title: str) -> int | None:
    """The FAQ's own option marker at the start of a title: ① → 1, (1) → 1."""
    m = MARKER.match(title)
    if not m:
        return None
    return CIRCLED[m.group(1)] if m.group(1) else int(nfkc(m.group(2)))


def without_marker(title: str) -> str:
    return MARKER.sub("", title)


def parse_payload(payload: str) -> tuple[str, dict[str, Any]]:
    """'/intent{"key": "value"}' → ("intent", {"key": "value"})."""
    body = (payload or "").lstrip("/")
    name, brace, rest = body.partition("{")
    try:
        entities = json.loads(brace + rest) if brace else {}
    except json.JSONDecodeError:
        entities = {}
    return name.strip(), entities if isinstance(entities, dict) else {}


@lru_cache(maxsize=2)
def _vocabulary(path: str, mtime: float) -> Vocabulary:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}

    def words(key: str) -> tuple[str, ...]:
        return tuple(str(w) for w in raw.get(key) or [])

    by_payload = {str(k): tuple(str(e) for e in v or []) for k, v in (raw.get("examples_by_payload") or {}).items()}
    return Vocabulary(
        words("yes_words"),
        words("no_words"),
        words("dont_know"),
        words("first_words"),
        words("last_words"),
        words("number_fillers"),
        words("negations"),
        by_payload,
        words("topic_joiners"),
    )


def load_vocabulary(path: Path = ANSWERS_FILE) -> Vocabulary:
    """content/answers.yml; re-read when the file changes."""
    return _vocabulary(str(path), path.stat().st_mtime)


# --- which buttons the user is answering ----------------------------------------------


def choice_payload(node_id: str, index: int) -> str:
    """The payload of a guided flow's option button."""
    return "/guide_choose" + json.dumps({"guide_option": f"{node_id}:{index}"})


def option_choices(flow_id: str, node: Any) -> list[Choice]:
    """A choice node's options as choices (payload and target name where each leads)."""
    return [
        Choice(o.label, o.goto or o.next, o.examples, o.match.get("intent"), f"{o.goto}:{o.at or ''}" if o.goto else f"{flow_id}:{o.next}")
        for o in node.options
    ]


def _choice_node(state: GuideState | None, flows: dict[str, Flow]) -> Node | None:
    if state and state.get("awaiting") == "choice" and state.get("flow") in flows:
        return flows[state["flow"]].nodes.get(state.get("node") or "")
    return None


def choices_for(buttons: list[dict[str, Any]], state: GuideState | None, flows: dict[str, Flow], vocab: Vocabulary) -> list[Choice]:
    """The buttons of the bot's last question, with each option's examples and yes/no
    meaning from content/flows.yml (guide options) or content/answers.yml (others)."""
    node = _choice_node(state, flows)
    choices = []
    for button in buttons:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        intent, entities = parse_payload(payload)
        examples = vocab.examples_by_payload.get(payload, ())
        polarity = intent if intent in ("affirm", "deny") else None
        target = payload
        if intent == "guide_choose" and node is not None:
            node_id, _, index = str(entities.get("guide_option", "")).partition(":")
            if node_id == node.id and index.isdigit() and int(index) < len(node.options):
                option = node.options[int(index)]
                examples = option.examples
                polarity = option.match.get("intent") if option.match.get("intent") in ("affirm", "deny") else None
                target = f"{option.goto}:{option.at or ''}" if option.goto else option.next
        choices.append(Choice(title, payload, tuple(examples), polarity, target, fuzzy=intent != "guide_unsure"))
    return choices


# --- reading ----------------------------------------------------------------------------


def _only_fillers(rest: str, vocab: Vocabulary) -> bool:
    for filler in sorted((fold(f) for f in vocab.number_fillers), key=len, reverse=True):
        if filler:
            rest = rest.replace(filler, "")
    return rest == ""


MARKED, DIGIT, ORDINAL = "marker", "number", "ordinal"


def _number(text: str, count: int, vocab: Vocabulary) -> tuple[int, str] | None:
    """(n, kind) when the whole message is an option number: an explicit marker
    (②, (2)), a bare digit (2, ２) or an ordinal (2番目, 二つ目, 最後の)."""
    m = MARKER.match(text)
    if m:
        n = CIRCLED[m.group(1)] if m.group(1) else int(nfkc(m.group(2)))
        return (n, MARKED) if _only_fillers(fold(text[m.end() :]), vocab) else None
    folded = fold(text)
    for words, position in ((vocab.first_words, 1), (vocab.last_words, count)):
        for word in words:
            w = fold(word)
            if w and folded.startswith(w) and _only_fillers(folded[len(w) :], vocab):
                return position, ORDINAL
    m = NUMBER.match(folded)
    if m:
        n = int(m.group(1)) if m.group(1) else KANJI_DIGITS[m.group(2)]
        kind = DIGIT if m.group(1) and m.end() == len(m.group(1)) else ORDINAL
        return (n, kind) if _only_fillers(folded[m.end() :], vocab) else None
    m = KANA_NUMBER.match(folded)
    if m:
        return (KANA_COUNTS[m.group(1)], ORDINAL) if _only_fillers(folded[m.end() :], vocab) else None
    return None


def _one(indices: list[int], choices: list[Choice]) -> int | None:
    """The answer when the matching buttons all lead to the same place."""
    if not indices or len({choices[i].target for i in indices}) != 1:
        return None
    return indices[0]


def _negative(folded: str, vocab: Vocabulary) -> bool:
    return any(fold(n) in folded for n in vocab.negations)


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


def similarity(answer: str, example: str) -> float:
    """How close a folded answer is to a folded example (0..1): containment first, then bigram Dice."""
    if not answer or not example:
        return 0.0
    if answer == example:
        return 1.0
    if example in answer:
        return 0.7 + 0.3 * len(example) / len(answer)
    if answer in example and len(answer) >= 2:
        return 0.3 + 0.6 * len(answer) / len(example)  # a fragment of the example: only as strong as it is long
    a, b = _bigrams(answer), _bigrams(example)
    return 2 * len(a & b) / (len(a) + len(b))


def _score(folded: str, choice: Choice, vocab: Vocabulary, polar: bool) -> float:
    negative = _negative(folded, vocab)
    best = 0.0
    for example in (without_marker(choice.title), *choice.examples):
        e = fold(example)
        s = similarity(folded, e)
        if polar and negative != _negative(e, vocab):
            s *= NEGATION_PENALTY
        best = max(best, s)
    return best


def _leading_yes_no(text: str, vocab: Vocabulary) -> str | None:
    value = nfkc(text).strip().lower()
    for polarity, words in (("affirm", vocab.yes_words), ("deny", vocab.no_words)):
        for word in sorted(words, key=len, reverse=True):
            w = nfkc(word).lower()
            if value.startswith(w) and (len(value) == len(w) or PUNCTUATION.match(value[len(w)]) or value[len(w)] in "!！"):
                return polarity
    return None


def _by_number(n: int, kind: str, choices: list[Choice]) -> Reading | None:
    """Bare digits and explicit markers mean the FAQ's marker where the options carry
    one (「2」 at (1)(1)(2) is (2)); ordinals and unmarked options count positions."""
    marked = any(marker_of(c.title) is not None for c in choices)
    if kind != ORDINAL and marked:
        index = _one([i for i, c in enumerate(choices) if marker_of(c.title) == n], choices)
        if index is not None or kind == MARKED:
            return Reading("choice", index, "marker") if index is not None else None
    return Reading("choice", n - 1, kind) if 1 <= n <= len(choices) else None


def _by_examples(folded: str, choices: list[Choice], vocab: Vocabulary, minimum: float) -> Reading | None:
    polar = any(c.polarity for c in choices)  # negation tells a yes from a no only at yes/no questions
    scores = [_score(folded, c, vocab, polar) if c.fuzzy else 0.0 for c in choices]
    best = max(range(len(choices)), key=scores.__getitem__)
    rivals = [s for i, s in enumerate(scores) if choices[i].target != choices[best].target]
    if scores[best] >= minimum and scores[best] - max(rivals, default=0.0) >= MIN_LEAD:
        return Reading("choice", best, "example")
    return None


def read(text: str | None, choices: list[Choice], vocab: Vocabulary, intent: str | None = None, numbers: bool = True) -> Reading | None:
    """Which button a typed message means, that the user cannot say, or None.
    `numbers=False` for buttons of an earlier message of the same turn: only their
    titles and examples count there, never a number."""
    folded = fold(text)
    if not folded or not choices:
        return None
    # 1. the button's own title, typed (with or without its ①/(1) marker)
    exact = [i for i, c in enumerate(choices) if folded in (fold(c.title), fold(without_marker(c.title)))]
    if (index := _one(exact, choices)) is not None:
        return Reading("choice", index, "title")
    if not numbers:
        return _by_examples(folded, choices, vocab, STRONG_SCORE)
    # 2. an option number, ordinal or the FAQ's marker
    number = _number(text or "", len(choices), vocab)
    if number:
        return _by_number(*number, choices)
    # 3. a leading yes or no is the direct answer, whatever words follow (「いえ、そっちは大丈夫です」)
    polarity = _leading_yes_no(text or "", vocab)
    if polarity:
        index = _one([i for i, c in enumerate(choices) if c.polarity == polarity], choices)
        if index is not None:
            return Reading("choice", index, "yes_no")
    # 4. words that clearly name an option (「コードがわからない」 is an option, not 「わからない」)
    strong = _by_examples(folded, choices, vocab, STRONG_SCORE)
    if strong:
        return strong
    # 5. 「わからない」
    if any(fold(w) in folded for w in vocab.dont_know):
        return Reading("unsure", how="dont_know")
    # 6. the option's own words or an example editors listed for it, less closely
    loose = _by_examples(folded, choices, vocab, MIN_SCORE)
    if loose:
        return loose
    # 7. the NLU's yes/no
    if intent in ("affirm", "deny"):
        index = _one([i for i, c in enumerate(choices) if c.polarity == intent], choices)
        if index is not None:
            return Reading("choice", index, "intent")
    return None


def turn_buttons(events: Any) -> list[list[dict[str, Any]]]:
    """The buttons of each message of the bot's last turn before the latest user
    message, last message first (events as dicts from rasa_sdk or Rasa event objects)."""
    messages: list[list[dict[str, Any]]] = []
    current_seen = False
    for event in reversed(list(events)):
        kind = event.get("event") if isinstance(event, dict) else getattr(event, "type_name", None)
        if kind == "user":
            if current_seen:
                break
            current_seen = True
        elif kind == "bot" and current_seen:
            data = (event.get("data") if isinstance(event, dict) else getattr(event, "data", None)) or {}
            messages.append(list(data.get("buttons") or []))
    return messages


def read_reply(
    text: str | None, events: Any, state: GuideState | None, flows: dict[str, Flow], intent: str | None = None
) -> tuple[Reading, Choice | None] | None:
    """A typed message read against the buttons the user sees: the question (the
    turn's last message) fully, the turn's earlier buttons by title or example only."""
    if (text or "").startswith("/"):
        return None  # a click says what it is
    vocab = load_vocabulary()
    shown = turn_buttons(events)
    node = _choice_node(state, flows)
    if not any(shown) and node is not None:  # no buttons recorded (rasa test, a text-only channel): the question itself
        shown = [[{"title": o.label, "payload": choice_payload(node.id, i)} for i, o in enumerate(node.options)]]
    for position, buttons in enumerate(shown):
        choices = choices_for(buttons, state, flows, vocab)
        reading = read(text, choices, vocab, intent, numbers=position == 0)
        if reading:
            return reading, choices[reading.index] if reading.kind == "choice" else None
    return None
