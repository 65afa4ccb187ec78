"""GiNZA loaded with only what the features use.

Rasa's SpacyNLP runs every ja_ginza component except the parser (about 29 ms for a
long sentence here). The tokenizer (SudachiPy, which also sets lemma and POS) and
the static word vectors are all SpacyTokenizer and SpacyFeaturizer read, and cost
about 2 ms. This subclass keeps Rasa's behaviour and only changes what is loaded.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# ja_ginza's pipeline components; none of them changes tokens or vectors.
DEFAULT_EXCLUDE: list[str] = [
    "tok2vec",
    "parser",
    "ner",
    "morphologizer",
    "attribute_ruler",
    "compound_splitter",
    "bunsetu_recognizer",
]


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
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GinzaNLP:
        import spacy

        config = {**cls.get_default_config(), **config}
        name = config.get("model") or "ja_ginza"
        nlp = spacy.load(name, exclude=list(config["exclude"]))
        cls.ensure_proper_language_model(nlp)
        return cls(SpacyModel(model=nlp, model_name=f"{name}-{'-'.join(sorted(config['exclude']))}"), config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class DropSpacyDoc(GraphComponent):
    """Removes the spaCy Doc from each message once the features are computed.

    A Doc holds a reference to the vocab with its word vectors. Rasa deep-copies
    parse results in places (rasa test nlu copies every fallback prediction),
    which copied the vectors too: about 3 s per message instead of 20 ms.
    Nothing after the featurizers reads the Doc.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DropSpacyDoc:
        return cls()

    @staticmethod
    def _drop(message: Message) -> None:
        for key in SPACY_DOCS.values():
            message.data.pop(key, None)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._drop(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._drop(example)
        return training_data
