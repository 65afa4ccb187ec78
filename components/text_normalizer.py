"""NFKC text normalisation, first in the NLU pipeline.

Users paste ＨＴＴＰ５００, type ﾛｸﾞｲﾝ on phones, or write ＧビＩＤ in full width.
NFKC folds all of them into one form before tokenisation, so the examples,
regexes and word vectors see one spelling (usertext.nfkc, the spelling every
part of the project compares in).
"""

from __future__ import annotations

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.each_message import EachMessage
from usertext import nfkc


def normalize_text(text: str | None) -> str | None:
    """NFKC-fold and trim; keeps None as None."""
    if text is None:
        return None
    return nfkc(text).strip()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class NFKCNormalizer(EachMessage, GraphComponent):
    """Rewrites the message text to its NFKC form."""

    def _apply(self, messages: list[Message]) -> None:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(TEXT, normalize_text(text), add_to_output=True)
