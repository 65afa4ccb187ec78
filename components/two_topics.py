"""Two problems in one message: 「ロックされたうえに秘密の質問も思い出せません」.

The classifier was trained on one problem per sentence and, given two, mostly
answers with one of them. This component splits a message at its joins (うえに,
それと, 。…: content/answers.yml) and reads each clause against the triage question's options
(content/flows.yml, login_trouble: the FAQ's messages and their examples), the
same reading typed answers get (actions/answers.py). When the clauses name two
different topics, or the classifier is torn between two, the first stays the
intent and the second becomes the entity `second_topic`; action_guide offers it
once the first topic's flow has ended.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.answers import load_vocabulary, option_choices, read
from actions.content import load_flows

ENTITY = "second_topic"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TwoTopicDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "min_second": 0.25,  # the classifier torn between two topics: the second's share...
            "min_both": 0.7,  # ...and both together
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @staticmethod
    def clauses(text: str, joiners: tuple[str, ...]) -> list[str]:
        """The message cut where one problem may end (content/answers.yml: topic_joiners, and line breaks)."""
        split = re.compile("|".join(re.escape(j) for j in (*joiners, "\n")))
        return [c for c in split.split(text or "") if c.strip()]

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> TwoTopicDetector:
        return cls(config)

    def topics(self, text: str, intent: str | None, ranking: list[dict[str, Any]]) -> list[str]:
        """The FAQ topics a message names, in the order it names them."""
        vocab = load_vocabulary()
        clauses = self.clauses(text, vocab.topic_joiners)
        if len(clauses) < 2:
            return []
        flows = load_flows()
        triage = next((f for f in flows.values() if f.triage), None)
        found: list[str] = []
        if triage:
            choices = option_choices(triage.id, triage.nodes[triage.start])
            for clause in clauses:
                reading = read(clause, choices, vocab, numbers=False) or read(clause, choices, vocab)
                if reading and reading.kind == "choice":
                    found.append(choices[reading.index].payload)
        topics = [t for t in dict.fromkeys(found) if t in flows and not flows[t].triage]
        if intent in flows and not flows[intent].triage and intent not in topics:
            topics.append(intent)  # the classifier names what the triage has no words for
        if len(topics) < 2:
            ranked = [r for r in ranking if r.get("name") in flows and not flows[r["name"]].triage][:2]
            if (
                len(ranked) == 2
                and ranked[1]["confidence"] >= self.config["min_second"]
                and ranked[0]["confidence"] + ranked[1]["confidence"] >= self.config["min_both"]
            ):
                topics = [ranked[0]["name"], ranked[1]["name"]]
        return topics

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            topics = self.topics(message.get(TEXT) or "", intent, message.get(INTENT_RANKING_KEY) or [])
            if len(topics) < 2:
                continue
            message.set(INTENT, {"name": topics[0], "confidence": 1.0}, add_to_output=True)
            entities = list(message.get(ENTITIES) or [])
            entities.append({"entity": ENTITY, "value": topics[1], "extractor": self.__class__.__name__})
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
