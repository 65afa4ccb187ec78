"""NFKC text normalisation, first in the NLU pipeline.

Users paste ＨＴＴＰ５００, type ﾛｸﾞｲﾝ on phones, or write ＧビＩＤ in full width.
NFKC folds all of them into one form before tokenisation, so the examples,
regexes and word vectors see one spelling.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def normalize_text(text: str | None) -> str | None:
    """NFKC-fold and trim; keeps None as None."""
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).strip()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class NFKCNormalizer(GraphComponent):
    """Rewrites the message text to its NFKC form."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NFKCNormalizer:
        return cls()

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(TEXT, normalize_text(text), add_to_output=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example)
        return training_data
