"""The NLU components of config.yml (and the baselines' tokenizer), on small inputs.

The trained model depends on these components: what they compute is pinned here,
and the hand-written TF-IDF against scikit-learn's own transform.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from actions.answers import Vocabulary
from actions.content import parse_flows
from bench.baselines import split_scripts
from components import two_topics
from components.ginza import GinzaVectors
from components.linear import CharNgramFeaturizer, LinearIntentClassifier
from components.nonsense import NonsenseGuard
from components.text_normalizer import NFKCNormalizer, normalize_text
from components.two_topics import TwoTopicDetector

FIXTURE_FLOWS = Path(__file__).parent / "fixtures" / "dialogue_flows.yml"


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "t")


# --- NFKCNormalizer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ＨＴＴＰ５００", "HTTP500"),
        ("ﾛｸﾞｲﾝできない", "ログインできない"),
        ("  ＧビズＩＤ　", "GビズID"),  # trimmed, full-width space included
        ("ログインできない", "ログインできない"),
        ("", ""),
    ],
)
def test_nfkc_normalizer_rewrites_the_text_at_prediction_and_in_training(text, expected):
    normalizer = NFKCNormalizer.create({}, None, None, context())
    message = Message({TEXT: text})
    normalizer.process([message])
    example = Message({TEXT: text, INTENT: "x"})
    normalizer.process_training_data(TrainingData([example]))
    assert message.get(TEXT) == expected and example.get(TEXT) == expected


def test_nfkc_normalizer_leaves_a_message_without_text():
    message = Message({INTENT: "x"})
    NFKCNormalizer.create({}, None, None, context()).process([message])
    assert message.get(TEXT) is None and normalize_text(None) is None


# --- CharNgramFeaturizer: the TF-IDF scikit-learn computes -----------------------------------

TRAINING_TEXTS = ["ログインできない", "パスワードを忘れた", "ロックされた", "はい", "いいえ", "ログインできない ロック"]
CONFIG = {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}


def sklearn_rows(texts: list[str]) -> np.ndarray:
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True, min_df=1)
    vectorizer.fit(TRAINING_TEXTS)
    return vectorizer.transform(texts).toarray()


def sentence_rows(messages: list[Message]) -> np.ndarray:
    return np.vstack([m.get_sparse_features(TEXT)[1].features.toarray() for m in messages])


@pytest.fixture
def featurizers(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("ngrams")
    trained = CharNgramFeaturizer.create(CONFIG, storage, resource, context())
    trained.train(TrainingData([Message({TEXT: t, INTENT: "x"}) for t in TRAINING_TEXTS]))
    loaded = CharNgramFeaturizer.load(CONFIG, storage, resource, context())  # from the persisted vocabulary and idf
    return trained, loaded


@pytest.mark.parametrize("which", [0, 1], ids=["trained", "loaded"])
def test_char_ngram_features_are_sklearns_tfidf_transform(featurizers, which):
    texts = ["ログインできない", "ロックされたままログインできない", "ＡＢＣ", "はいはい", "知らない文字列"]
    messages = [Message({TEXT: t}) for t in texts]
    featurizers[which].process(messages)
    assert np.allclose(sentence_rows(messages), sklearn_rows(texts), atol=1e-6)


def test_char_ngram_training_examples_get_the_same_features(featurizers):
    examples = [Message({TEXT: t, INTENT: "x"}) for t in TRAINING_TEXTS]
    featurizers[1].process_training_data(TrainingData(examples))
    assert np.allclose(sentence_rows(examples), sklearn_rows(TRAINING_TEXTS), atol=1e-6)


def test_char_ngram_featurizer_without_training_adds_nothing(tmp_path):
    untrained = CharNgramFeaturizer.load(CONFIG, LocalModelStorage(tmp_path), Resource("none"), context())
    message = Message({TEXT: "ログイン"})
    untrained.process([message])
    assert not message.features


# --- LinearIntentClassifier ------------------------------------------------------------------


def test_linear_classifier_learns_and_ranks(tmp_path, featurizers):
    examples = [Message({TEXT: t, INTENT: i}) for t, i in (("ログインできない", "login"), ("ロックされた", "locked"), ("はい", "affirm"))]
    examples += [
        Message({TEXT: t, INTENT: i}) for t, i in (("ログインできません", "login"), ("ロック中", "locked"), ("はいそうです", "affirm"))
    ]
    featurizers[0].process_training_data(TrainingData(examples))
    classifier = LinearIntentClassifier.create({"C": 100}, LocalModelStorage(tmp_path), Resource("linear"), context())
    classifier.train(TrainingData(examples))
    message = Message({TEXT: "ログインできないです"})
    featurizers[0].process([message])
    classifier.process([message])
    ranking = message.get(INTENT_RANKING_KEY)
    assert message.get(INTENT)["name"] == "login" == ranking[0]["name"]
    assert [r["name"] for r in ranking] and abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


# --- GinzaVectors: the mean of the words' vectors ----------------------------------------------


class _Morpheme:
    def __init__(self, surface: str) -> None:
        self._surface = surface

    def surface(self) -> str:
        return self._surface


class _Vectors(dict):
    shape = (3, 2)


def ginza_stub(vectors: dict[str, list[float]]):
    """What GinzaVectors reads of ja_ginza: the SudachiPy tokenizer and the vector table (by string hash)."""
    from types import SimpleNamespace

    from spacy.strings import get_string_id

    table = _Vectors({get_string_id(w): np.array(v, dtype=np.float32) for w, v in vectors.items()})
    sudachi = SimpleNamespace(tokenize=lambda text: [_Morpheme(w) for w in text.split("|")])
    return SimpleNamespace(tokenizer=SimpleNamespace(tokenizer=sudachi), vocab=SimpleNamespace(vectors=table))


@pytest.fixture
def ginza() -> GinzaVectors:
    nlp = ginza_stub({"ログイン": [1.0, 3.0], "できない": [3.0, 1.0], "が": [0.0, 0.0]})
    return GinzaVectors({**GinzaVectors.get_default_config()}, "ginza", nlp)


def test_ginza_sentence_vector_averages_the_known_words(ginza):
    # unknown words and zero vectors (particles in ja_ginza) do not count
    assert ginza.sentence_vector("ログイン|が|未知語|できない").tolist() == [[2.0, 2.0]]
    assert ginza.sentence_vector("未知語").tolist() == [[0.0, 0.0]]


def test_ginza_vectors_feature_every_message_with_text(ginza):
    with_text, empty = Message({TEXT: "ログイン"}), Message({TEXT: ""})
    ginza.process([with_text, empty])
    example = Message({TEXT: "できない", INTENT: "x"})
    ginza.process_training_data(TrainingData([example]))
    assert with_text.get_dense_features(TEXT)[1].features.tolist() == [[1.0, 3.0]]
    assert example.get_dense_features(TEXT)[1].features.tolist() == [[3.0, 1.0]]
    assert not empty.features


# --- NonsenseGuard ---------------------------------------------------------------------------


@pytest.fixture
def guard(tmp_path) -> NonsenseGuard:
    storage, resource = LocalModelStorage(tmp_path), Resource("guard")
    trained = NonsenseGuard.create({}, storage, resource, context())
    trained.train(TrainingData([Message({TEXT: "次", INTENT: "guide_next"}), Message({TEXT: "はい", INTENT: "affirm"})]))
    return NonsenseGuard.load({}, storage, resource, context())


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


# --- TwoTopicDetector ------------------------------------------------------------------------


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


@pytest.fixture
def small_world(monkeypatch):
    """The fixture flows (a triage with two topics) and a handful of joining words."""
    vocabulary = Vocabulary((), (), (), (), (), (), (), {}, topic_joiners=("それと", "。"))
    monkeypatch.setattr(two_topics, "load_flows", lambda: parse_flows(FIXTURE_FLOWS))
    monkeypatch.setattr(two_topics, "load_vocabulary", lambda: vocabulary)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Aのメッセージが出ます。それとBの手順だけ知りたい", ["topic_a", "topic_b"]),
        ("Bの手順だけ知りたい。Aのメッセージも出ます", ["topic_b", "topic_a"]),
        ("Aのメッセージが出ます。Aのメッセージです", ["topic_a"]),  # the same topic twice is one
        ("Aのメッセージが出ます", []),  # one clause: one problem
        ("こんにちは。よろしく", []),  # clauses that name no topic
    ],
)
def test_two_topics_on_small_flows(detector, small_world, text, expected):
    assert detector.topics(text, None, []) == expected


def test_the_classifier_names_what_the_triage_has_no_words_for(detector, small_world):
    assert detector.topics("Aのメッセージが出ます。ほかにも困っています", "topic_b", []) == ["topic_a", "topic_b"]
    assert detector.topics("Aのメッセージが出ます。ほかにも", "triage", []) == ["topic_a"]  # the triage is no topic


def test_a_torn_classifier_needs_enough_of_both(detector, small_world):
    torn = ranked(("topic_a", 0.45), ("topic_b", 0.3))
    assert detector.topics("何か。別の何か", None, torn) == ["topic_a", "topic_b"]
    assert detector.topics("何か。別の何か", None, ranked(("topic_a", 0.5), ("topic_b", 0.1))) == []  # second too weak
    assert detector.topics("何か。別の何か", None, ranked(("topic_a", 0.3), ("topic_b", 0.3))) == []  # both too weak


def test_one_topic_changes_nothing(detector, small_world):
    message = Message({TEXT: "Aのメッセージが出ます", INTENT: {"name": "topic_a", "confidence": 0.9}})
    detector.process([message])
    assert message.get(INTENT) == {"name": "topic_a", "confidence": 0.9} and not message.get(ENTITIES)


# --- the baselines' tokenizer (bench/baselines.py) -------------------------------------------


@pytest.mark.parametrize(
    "text,words",
    [
        ("GビズIDでログインできない", ["G", "ビズ", "ID", "で", "ログイン", "できない"]),
        ("ユーザー登録々", ["ユーザー", "登録々"]),  # ー and 々 join the run before
        ("HTTP500 エラー！", ["HTTP", "500", "エラー"]),  # spaces and symbols dropped
        ("", []),
    ],
)
def test_script_tokenizer_splits_where_the_script_changes(text, words):
    assert [w for w, _ in split_scripts(text)] == words
    assert all(text[start : start + len(w)] == w for w, start in split_scripts(text))
