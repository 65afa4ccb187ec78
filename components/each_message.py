"""The part every message-by-message component shares: the same work on the
messages at prediction as on the training examples, so a model is trained on
exactly what it will see."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class EachMessage:
    """`process` and `process_training_data` of a GraphComponent; the subclass writes `_apply`."""

    def _apply(self, messages: list[Message]) -> None:
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        self._apply(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._apply(training_data.training_examples)
        return training_data
