"""Messages with no words: emoji only, symbols, a lone character, a bare number.

A classifier always picks some intent, and for 「あ」 or 「👍」 it picked a greeting
or 「次へ」. Such a message says nothing, so it gets no intent at all: nlu_fallback
with an empty ranking, which makes the bot ask the user to rephrase (or, at a
question, ask that question again). Single characters that are training examples
(「次」) are words and pass.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from usertext import nfkc

WORDS_FILE = "single_characters.txt"


def word_characters(text: str) -> str:
    """Letters, kana, kanji and digits of the NFKC text (emoji, symbols, marks dropped)."""
    return "".join(c for c in nfkc(text) if unicodedata.category(c)[0] in "LN")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NonsenseGuard(GraphComponent):
    def __init__(self, model_storage: ModelStorage, resource: Resource, known: set[str] | None = None) -> None:
        self._model_storage, self._resource = model_storage, resource
        self.known = known or set()

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> NonsenseGuard:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any
    ) -> NonsenseGuard:
        try:
            with model_storage.read_from(resource) as path:
                known = set((path / WORDS_FILE).read_text(encoding="utf-8").split())
        except (ValueError, FileNotFoundError):
            known = set()
        return cls(model_storage, resource, known)

    def train(self, training_data: TrainingData) -> Resource:
        self.known = {w for e in training_data.intent_examples if len(w := word_characters(e.get(TEXT))) == 1}
        with self._model_storage.write_to(self._resource) as path:
            (path / WORDS_FILE).write_text("\n".join(sorted(self.known)), encoding="utf-8")
        return self._resource

    def is_nonsense(self, text: str) -> bool:
        """No word: nothing but symbols or emoji, one unknown character, or a bare option
        number (「2」 means something only as the answer to a question, which the
        dialogue policy reads from the text itself)."""
        words = word_characters(text)
        if words.isdigit():
            return len(words) <= 2
        return not words or (len(words) == 1 and words not in self.known)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not text.startswith("/") and self.is_nonsense(text):
                message.set(INTENT, {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
