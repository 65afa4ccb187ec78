"""The part every message-by-message component shares: the same work on the
messages at prediction as on the training examples, so a model is trained on
exactly what it will see."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class EachMessage:
    """`process` and `process_training_data` of a GraphComponent; the subclass writes
    `_apply`, and `create` when it needs its config or a model."""

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> EachMessage:
        return cls()

    def _apply(self, messages: list[Message]) -> None:
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        self._apply(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._apply(training_data.training_examples)
        return training_data
