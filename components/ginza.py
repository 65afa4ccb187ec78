"""GiNZA loaded with only what the features use.

Rasa's SpacyNLP runs every ja_ginza component except the parser (about 29 ms for a
long sentence here). The tokenizer (SudachiPy, which also sets lemma and POS) and
the static word vectors are all SpacyTokenizer and SpacyFeaturizer read, and cost
about 2 ms. This subclass keeps Rasa's behaviour and only changes what is loaded.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

# ja_ginza's pipeline components; none of them changes tokens or vectors.
DEFAULT_EXCLUDE: List[str] = [
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
    def get_default_config() -> Dict[Text, Any]:
        return {**SpacyNLP.get_default_config(), "exclude": DEFAULT_EXCLUDE}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
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
