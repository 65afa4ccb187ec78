"""NLU components that judge a whole message: no words at all, or two problems in one."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.nonsense import NonsenseGuard
from components.two_topics import TwoTopicDetector


@pytest.fixture
def guard(tmp_path) -> NonsenseGuard:
    storage, resource = LocalModelStorage(tmp_path), Resource("guard")
    trained = NonsenseGuard.create({}, storage, resource, ExecutionContext(GraphSchema({}), "t"))
    trained.train(TrainingData([Message({TEXT: "次", INTENT: "guide_next"}), Message({TEXT: "はい", INTENT: "affirm"})]))
    return NonsenseGuard.load({}, storage, resource, ExecutionContext(GraphSchema({}), "t"))


@pytest.mark.parametrize("text", ["あ", "👍", "😀😀😀", "！？", "。", "x", "2", "１２", "  "])
def test_no_words_is_nonsense(guard, text):
    assert guard.is_nonsense(text)


@pytest.mark.parametrize("text", ["次", "はい", "HTTP500", "500", "ログインできない", "/greet"])
def test_words_pass(guard, text):
    message = Message({TEXT: text, INTENT: {"name": "x", "confidence": 0.9}})
    guard.process([message])
    assert message.get(INTENT)["name"] == "x"


def test_nonsense_gets_no_intent_and_no_ranking(guard):
    message = Message({TEXT: "👍", INTENT: {"name": "guide_next", "confidence": 0.8}, INTENT_RANKING_KEY: [{"name": "guide_next"}]})
    guard.process([message])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 1.0} and message.get(INTENT_RANKING_KEY) == []


@pytest.fixture
def detector() -> TwoTopicDetector:
    return TwoTopicDetector(TwoTopicDetector.get_default_config())


def ranked(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        # content walk: the clauses are read against the real triage question's options
        ("ロックされたうえに秘密の質問も思い出せません", "secret_question_forgotten", ["account_locked", "secret_question_forgotten"]),
        (
            "GビズIDでHTTP500エラーが出ます。あとメールアドレスの大文字小文字って区別されますか",
            "email_case_sensitivity",
            ["gbizid_http500", "email_case_sensitivity"],
        ),
        ("アカウントロック中と表示されます。どうすればいいですか", "account_locked", ["account_locked"]),
        ("秘密の質問を忘れました", "secret_question_forgotten", []),  # one clause: one problem
    ],
)
def test_topics_in_the_order_the_user_names_them(detector, text, intent, expected):
    assert detector.topics(text, intent, ranked((intent, 0.9))) == expected


def test_a_classifier_torn_between_two_topics_counts_too(detector):
    topics = detector.topics(
        "同一メールアドレスと出ます。それと入れなくなりました",
        "x",
        ranked(("gbizid_duplicate_email", 0.45), ("egov_account_login_after_gbizid", 0.4)),
    )
    assert topics == ["gbizid_duplicate_email", "egov_account_login_after_gbizid"]


def test_the_second_topic_becomes_an_entity(detector):
    message = Message(
        {TEXT: "ロックされたうえに秘密の質問も思い出せません", INTENT: {"name": "secret_question_forgotten", "confidence": 0.87}}
    )
    message.set(INTENT_RANKING_KEY, ranked(("secret_question_forgotten", 0.87)))
    detector.process([message])
    assert message.get(INTENT) == {"name": "account_locked", "confidence": 1.0}
    assert {"entity": "second_topic", "value": "secret_question_forgotten", "extractor": "TwoTopicDetector"} in message.get(ENTITIES)
