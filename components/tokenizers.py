"""A dictionary-free Japanese tokenizer: the "Rasa without GiNZA" baseline of
`make bench` (tools/bench.py).

Rasa's WhitespaceTokenizer refuses `language: ja` (Japanese has no spaces, so it
would return the whole sentence as one token anyway). This one splits at spaces and
wherever the script changes (kanji / hiragana / katakana / Latin letters / digits /
anything else), e.g. 「GビズIDでログインできない」 → G | ビズ | ID | で | ログイン | できない.
No model, no dictionary, no spaCy: the character n-gram featurizers then carry all
of the lexical signal.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message


def script_of(char: str) -> str:
    """The script class of one character; a change of class starts a new token."""
    if char.isspace():
        return "space"
    if char == "ー" or char == "々":  # long-vowel mark and repetition mark join the run before
        return "join"
    name = unicodedata.name(char, "")
    if name.startswith("CJK UNIFIED IDEOGRAPH"):
        return "kanji"
    if name.startswith("HIRAGANA"):
        return "hiragana"
    if name.startswith("KATAKANA"):
        return "katakana"
    if char.isdigit():
        return "digit"
    if char.isalpha():
        return "latin"
    return "symbol"


def split_scripts(text: str) -> list[tuple[str, int]]:
    """(word, start offset) runs of one script; spaces and symbols are dropped."""
    words: list[tuple[str, int]] = []
    start, current = 0, None
    for i, char in enumerate(text):
        kind = script_of(char)
        if kind == "join" and current not in (None, "space", "symbol"):
            continue
        if kind != current:
            if current not in (None, "space", "symbol"):
                words.append((text[start:i], start))
            start, current = i, kind
    if current not in (None, "space", "symbol"):
        words.append((text[start:], start))
    return words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ScriptTokenizer(Tokenizer):
    """Splits Japanese text at script changes; no dictionary or model."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent_tokenization_flag": False, "intent_split_symbol": "_", "token_pattern": None, "prefix_separator_symbol": None}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScriptTokenizer:
        return cls({**cls.get_default_config(), **config})

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        words = split_scripts(text) or [(text, 0)]
        return self._apply_token_pattern([Token(word, start) for word, start in words])
