"""NLU components of the baseline pipelines `make bench` measures (bench/nlu.py), not
of config.yml: the pre-issue-6 route to GiNZA through Rasa's SpacyNLP, and the
dictionary-free tokenizer of "Rasa without GiNZA".

GinzaNLP + DropSpacyDoc: Rasa's SpacyNLP runs every ja_ginza component except the
parser (about 29 ms for a long sentence here). The tokenizer (SudachiPy, which also
sets lemma and POS) and the static word vectors are all SpacyTokenizer and
SpacyFeaturizer read, and cost about 2 ms. GinzaNLP keeps Rasa's behaviour and only
changes what is loaded. config.yml's components.ginza.GinzaVectors replaced the four
steps.

ScriptTokenizer: Rasa's WhitespaceTokenizer refuses `language: ja` (Japanese has no
spaces, so it would return the whole sentence as one token anyway). This one splits
at spaces and wherever the script changes (kanji / hiragana / katakana / Latin
letters / digits / anything else), e.g. 「GビズIDでログインできない」 → G | ビズ | ID |
で | ログイン | できない. No model, no dictionary, no spaCy: the character n-gram
featurizers then carry all of the lexical signal.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.training_data.message import Message

from components.each_message import EachMessage
from components.ginza import DEFAULT_EXCLUDE

# --- GiNZA through Rasa's SpacyNLP ---------------------------------------------------------


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="GinzaNLP",
)
class GinzaNLP(SpacyNLP):
    """SpacyNLP that loads ja_ginza without the pipes listed in `exclude`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SpacyNLP.get_default_config(), "exclude": DEFAULT_EXCLUDE}

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> GinzaNLP:
        import spacy

        config = {**cls.get_default_config(), **config}
        name = config.get("model") or "ja_ginza"
        nlp = spacy.load(name, exclude=list(config["exclude"]))
        cls.ensure_proper_language_model(nlp)
        return cls(SpacyModel(model=nlp, model_name=f"{name}-{'-'.join(sorted(config['exclude']))}"), config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class DropSpacyDoc(EachMessage, GraphComponent):
    """Removes the spaCy Doc from each message once the features are computed.

    A Doc holds a reference to the vocab with its word vectors. Rasa deep-copies
    parse results in places (rasa test nlu copies every fallback prediction),
    which copied the vectors too: about 3 s per message instead of 20 ms.
    Nothing after the featurizers reads the Doc.
    """

    def _apply(self, messages: list[Message]) -> None:
        for message in messages:
            for key in SPACY_DOCS.values():
                message.data.pop(key, None)


# --- no GiNZA at all -----------------------------------------------------------------------


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
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> ScriptTokenizer:
        return cls({**cls.get_default_config(), **config})

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        words = split_scripts(text) or [(text, 0)]
        return self._apply_token_pattern([Token(word, start) for word, start in words])


# Components that exist only to feed GiNZA features (dropped for "Rasa without GiNZA").
GINZA_ONLY = {
    "bench.baselines.GinzaNLP",
    "components.ginza.GinzaVectors",
    "SpacyNLP",
    "SpacyTokenizer",
    "SpacyFeaturizer",
    "bench.baselines.DropSpacyDoc",
}
