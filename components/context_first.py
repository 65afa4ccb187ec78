"""Context first: while the bot waits for the answer to one of its own questions,
the user's next message is read as that answer before it is read as a new topic.

Rules map intents to actions; they cannot say "whatever the intent, if it answers
the question". This policy can: when a guided flow waits at a question (a branch
question, 「解決しましたか？」, the resume offer, the second-topic offer), it sends
the message to `action_guide` if it names one of the question's buttons
(actions/answers.py: typed title, number, ①/(1), own words, yes/no with content,
「わからない」), or if it is not clearly something else. A clear new FAQ topic or a
clear request (help, support contact, greeting…) is left to the rules, so a new
topic still interrupts and the flow can be resumed as before. Forms are loops
and read their own answers (actions/forms.py), so the policy stays out of them.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from actions.actions import PENDING_FORM_SLOT, STATE_SLOT, ActionGuide
from actions.answers import fold, read_reply
from actions.content import load_flows
from actions.guide_state import GuideState, is_question

GUIDE_ACTION = ActionGuide().name()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ContextFirstPolicy(Policy):
    """Routes answers to the bot's pending question to action_guide (see module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Above RulePolicy (6): at equal confidence the higher priority wins.
            "priority": 7,
            # A message is a new topic or request only with at least this NLU confidence...
            "new_topic_confidence": 0.6,
            # ...and more than this many characters: 「2」, 「あ」, 「はい」 are never a new topic.
            "max_answer_length": 3,
            # Intents that are answers, not topics: they always go to the question.
            "answer_intents": ["affirm", "deny", "inform", "skip_field", "out_of_scope", "nlu_fallback", "guide_unsure"],
        }

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: the questions come from content/flows.yml at run time

    def predict_action_probabilities(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: dict[str, Any] | None = None, **kwargs: Any
    ) -> PolicyPrediction:
        action = self.next_action(tracker)
        probabilities = self._default_predictions(domain)
        if action:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    def next_action(self, tracker: DialogueStateTracker) -> str | None:
        """action_guide for an answer, action_listen after it; None to let the rules decide."""
        if tracker.active_loop_name:
            return None
        if tracker.latest_action_name == GUIDE_ACTION:
            # action_guide after an intent no rule names: wait for the user, unless a form starts.
            return None if tracker.get_slot(PENDING_FORM_SLOT) else ACTION_LISTEN_NAME
        state = tracker.get_slot(STATE_SLOT)
        if tracker.latest_action_name != ACTION_LISTEN_NAME or not tracker.latest_message or not is_question(state):
            return None
        return GUIDE_ACTION if self.is_answer(tracker, tracker.latest_message, state) else None

    def is_answer(self, tracker: DialogueStateTracker, message: UserUttered, state: GuideState) -> bool:
        text = message.text or ""
        if text.startswith("/"):
            return False  # a click: its intent says what it is, and the rules know it
        intent = message.intent.get("name")
        if read_reply(text, tracker.events, state, load_flows(), intent) is not None:
            return True
        if intent in self.config["answer_intents"] or intent == state.get("flow"):
            return True  # not a topic: action_guide asks again, differently
        if len(fold(text)) <= self.config["max_answer_length"]:
            return True
        return (message.intent.get("confidence") or 0.0) < self.config["new_topic_confidence"]
