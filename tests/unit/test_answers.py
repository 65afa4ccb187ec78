"""Reading typed answers (actions/answers.py) on small fixture questions and words."""

from __future__ import annotations

import pytest

from actions.answers import Choice, Vocabulary, choice_payload, fold, read, read_reply, similarity, turn_buttons

WORDS = Vocabulary(
    yes_words=("はい", "うん"),
    no_words=("いいえ", "いや"),
    dont_know=("わからない", "わかりません", "覚えていない"),
    first_words=("最初",),
    last_words=("最後",),
    number_fillers=("です", "で", "番目", "番", "つ目", "の", "のほう"),
    negations=("ない", "ません", "だめ"),
    examples_by_payload={},
)

YES_NO = [
    Choice("はい、ロックされたままです", "/yes", ("ロックが解けません", "まだロックされています", "だめでした"), "affirm", "unlock"),
    Choice("いいえ、ログインできました", "/no", ("ログインできました", "入れました", "ロックが解けました"), "deny", "end"),
]
MARKED = [
    Choice("①e-Govアカウント", "/a", ("e-Govアカウント",), None, "a"),
    Choice("②過去に使用していた別のGビズID", "/b", ("昔のGビズID",), None, "b"),
    Choice("③Microsoftアカウント", "/c", ("マイクロソフト",), None, "c"),
    Choice("③Googleアカウント", "/d", ("グーグル",), None, "c"),  # same place as ③Microsoft
]
PARENS = [
    Choice("(1)e-Govアカウントで登録済み", "/p1", (), None, "case1"),
    Choice("(1)Microsoftアカウントで登録済み", "/p2", (), None, "case1"),
    Choice("(2)以前に別のGビズID[旧]で使用", "/p3", ("再利用しました",), None, "case2"),
]
PLAIN = [
    Choice("秘密の質問と答えがわからない", "/secret", ("秘密の質問",), None, "secret"),
    Choice("ワンタイムコードが確認できない", "/code", ("コードがわからない", "機種変更"), None, "code"),
    Choice("わからない", "/guide_unsure", (), None, "unsure", fuzzy=False),
]


def title(choices, text, intent=None):
    reading = read(text, choices, WORDS, intent)
    if reading is None:
        return None
    return "?" if reading.kind == "unsure" else choices[reading.index].title


@pytest.mark.parametrize(
    "text,expected",
    [
        ("はい、ロックされたままです", "はい、ロックされたままです"),  # the title itself
        ("いいえ　ログインできました", "いいえ、ログインできました"),  # full-width space, no comma
        ("1", "はい、ロックされたままです"),
        ("２", "いいえ、ログインできました"),
        ("(2)", "いいえ、ログインできました"),  # a marker where the options have none: the position
        ("2番です", "いいえ、ログインできました"),
        ("最後の", "いいえ、ログインできました"),
        ("2時間たってもロックが解けません", "はい、ロックされたままです"),
        ("待ってみたけどだめでした", "はい、ロックされたままです"),
        ("はい、そのメッセージが出ました", "はい、ロックされたままです"),  # a leading yes decides
        ("いいえ、入れました", "いいえ、ログインできました"),
        ("ロックが解けました", "いいえ、ログインできました"),  # not negative: not 「解けません」
        ("わからない", "?"),
        ("覚えていないです", "?"),
        ("3", None),  # no third option
        ("あ", None),
        ("こんにちは", None),
    ],
)
def test_yes_no_question(text, expected):
    assert title(YES_NO, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("③です", "③Microsoftアカウント"),  # ③ names two options that lead to the same place
        ("3", "③Microsoftアカウント"),
        ("４", "③Googleアカウント"),  # no ④: the position
        ("②", "②過去に使用していた別のGビズID"),
        ("（１）", "①e-Govアカウント"),
        ("二つ目", "②過去に使用していた別のGビズID"),
        ("Microsoftアカウント", "③Microsoftアカウント"),  # the title without its marker
        ("グーグルのアカウントです", "③Googleアカウント"),
        ("昔のGビズIDのアドレスを使ってました", "②過去に使用していた別のGビズID"),
        ("⑤", None),
    ],
)
def test_options_with_the_faqs_markers(text, expected):
    assert title(MARKED, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("(1)", "(1)e-Govアカウントで登録済み"),  # both (1) options lead to the same place
        ("2", "(2)以前に別のGビズID[旧]で使用"),  # a bare digit is the FAQ's (2), not the second button
        ("(2)のほうです", "(2)以前に別のGビズID[旧]で使用"),
        ("二つ目", "(1)Microsoftアカウントで登録済み"),  # an ordinal counts buttons
        ("最初", "(1)e-Govアカウントで登録済み"),
        ("昔のGビズIDのメールアドレスを再利用しました", "(2)以前に別のGビズID[旧]で使用"),
    ],
)
def test_options_marked_in_parentheses(text, expected):
    assert title(PARENS, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("コードがわからない", "ワンタイムコードが確認できない"),  # an option's words beat 「わからない」
        ("秘密の質問がわからないです", "秘密の質問と答えがわからない"),
        ("わからない", "わからない"),  # the way-out button's title
        ("どれかわからない", "?"),
        ("スマホを機種変更しました", "ワンタイムコードが確認できない"),
    ],
)
def test_dont_know_against_option_words(text, expected):
    assert title(PLAIN, text) == expected


def test_the_nlus_yes_or_no_is_the_last_resort():
    assert title(YES_NO, "そうですね", intent="affirm") == "はい、ロックされたままです"
    assert title(MARKED, "そうですね", intent="affirm") is None  # no yes/no option to map it to


def test_fold_makes_one_spelling():
    assert fold("ﾛｸﾞｲﾝ　できません！") == fold("ろぐいんできません") == "ろぐいんできません"


def test_similarity_prefers_containment_then_bigrams():
    assert similarity("ろっくがとけません", "ろっくがとけません") == 1.0
    assert similarity("2じかんたってもろっくがとけません", "ろっくがとけません") > 0.8
    assert similarity("わからない", "こどがわからない") < 0.75  # a fragment is only as strong as it is long
    assert similarity("", "x") == 0.0


def events(*turns):
    """Rasa-SDK style events: (bot messages with buttons, user text) pairs."""
    out = []
    for bot, user in turns:
        for buttons in bot:
            out.append({"event": "bot", "text": "q", "data": {"buttons": buttons}})
        out.append({"event": "user", "text": user})
    return out


def test_turn_buttons_are_the_last_bot_turn_last_message_first():
    old = [{"title": "古い", "payload": "/old"}]
    fix = [{"title": "メールアドレス", "payload": '/correct_field{"field":"email"}'}]
    summary = [{"title": "この内容で作成する", "payload": "/affirm"}]
    evts = events(([old], "x"), ([fix, [], summary], "メールアドレス"))
    assert turn_buttons(evts) == [summary, [], fix]


def test_read_reply_finds_earlier_buttons_by_title_but_never_by_number(monkeypatch):
    monkeypatch.setattr("actions.answers.load_vocabulary", lambda: WORDS)
    fix = [{"title": "メールアドレス", "payload": "/fix_email"}, {"title": "氏名", "payload": "/fix_name"}]
    summary = [{"title": "この内容で作成する", "payload": "/affirm"}, {"title": "修正する", "payload": "/deny"}]
    evts = events(([fix, summary], "メールアドレス"))
    reading, choice = read_reply("メールアドレス", evts, None, {})
    assert choice.payload == "/fix_email"
    _, choice = read_reply("2", events(([fix, summary], "2")), None, {})
    assert choice.payload == "/deny"  # a number answers the question, the turn's last message
    assert read_reply("/affirm", evts, None, {}) is None  # a click is not re-read


def test_read_reply_uses_the_flow_question_when_no_buttons_were_recorded(monkeypatch, flows):
    monkeypatch.setattr("actions.answers.load_vocabulary", lambda: WORDS)
    state = {"flow": "gbizid_http500", "node": "ask_other_account", "awaiting": "choice"}
    _, choice = read_reply("③", [{"event": "user", "text": "③"}], state, flows)
    assert choice.payload == choice_payload("ask_other_account", 2)


# --- the real content: every option of every question can be typed ----------------------


def real_choice_nodes():
    from actions.content import load_flows

    flows = load_flows()
    return [(flow.id, node) for flow in flows.values() for node in flow.nodes.values() if node.type == "choice"]


@pytest.mark.parametrize("flow_id,node", real_choice_nodes(), ids=[f"{f}.{n.id}" for f, n in real_choice_nodes()])
def test_every_option_is_read_from_its_title_number_and_examples(flow_id, node):
    from actions.answers import load_vocabulary, option_choices

    vocab = load_vocabulary()
    choices = option_choices(flow_id, node)
    for i, option in enumerate(node.options):
        target = choices[i].target
        ways = [option.label, f"{i + 1}番", *option.examples]
        for text in ways:
            reading = read(text, choices, vocab)
            assert reading and reading.kind == "choice" and choices[reading.index].target == target, (text, option.label)


def test_a_leading_no_wins_over_words_that_sound_like_yes():
    offer = [
        Choice("はい", "/affirm", ("大丈夫です", "お願いします"), "affirm", "/affirm"),
        Choice("いいえ", "/deny", ("結構です",), "deny", "/deny"),
    ]
    assert title(offer, "いいえ、そっちは大丈夫です") == "いいえ"
    assert title(offer, "大丈夫です、お願いします") == "はい"
