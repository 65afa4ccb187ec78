"""The help page as a person uses it: topics, quick replies, typing in Japanese,
errors and retry, reload and restart, a phone-sized screen and the keyboard alone."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from serving.harness import ROOT, WEBHOOK

SCREENSHOTS = ROOT / "docs" / "screenshots"
TOPICS = {
    intent: flow["title"] for intent, flow in yaml.safe_load((ROOT / "content" / "flows.yml").read_text(encoding="utf-8"))["flows"].items()
}


def fresh_sender() -> str:
    return f"browser-{uuid.uuid4().hex[:12]}"


def shown(chat, start: int = 0) -> list[tuple[str, list[str]]]:
    """The bot's messages from the start-th message on, as (text, button titles)."""
    return [(m["text"], m["buttons"]) for m in chat.messages()[start:] if m["role"] == "ai"]


def test_page_lists_every_topic(chat):
    buttons = chat.page.locator(".topics button.topic")
    assert buttons.all_text_contents() == list(TOPICS.values())
    assert [buttons.nth(i).get_attribute("data-payload") for i in range(buttons.count())] == [f"/{i}" for i in TOPICS]


@pytest.mark.parametrize("intent", list(TOPICS))
def test_clicking_a_topic_starts_its_flow(chat, rest_reply, intent):
    chat.click_topic(TOPICS[intent])
    assert chat.sent[-1]["message"] == f"/{intent}"
    assert chat.messages()[0] == {"role": "user", "text": TOPICS[intent], "buttons": []}
    assert shown(chat) == rest_reply(f"/{intent}")


def test_question_typed_in_japanese_gets_the_answer(chat, rest_reply):
    question = "アカウントがロックされてしまってログインできません"
    chat.say(question)
    assert chat.sent[-1]["message"] == question
    assert chat.messages()[0]["text"] == question
    answer = shown(chat)
    assert answer == rest_reply(question)
    assert answer and answer[0][0]


def test_quick_replies_walk_a_procedure_to_its_last_step(chat):
    chat.click_topic(TOPICS["phone_changed"])
    clicks = 0
    while "できました（次へ）" in chat.messages()[-1]["buttons"] and clicks < 20:
        chat.click_reply("できました（次へ）")
        clicks += 1
        assert chat.sent[-1]["message"] == "/guide_next"
        assert [m for m in chat.messages() if m["role"] == "user"][-1]["text"] == "できました（次へ）"
    steps = [m["text"].split("\n")[0] for m in chat.messages() if m["text"].startswith("手順 ")]
    total = len(steps)
    assert total > 1 and clicks == total
    assert steps == [f"手順 {i}/{total}" for i in range(1, total + 1)]
    # Past the last step the flow closes: no step, and no "next" any more.
    assert not chat.messages()[-1]["text"].startswith("手順 ")
    assert chat.messages()[-1]["buttons"], "the flow should end with a question to answer"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chat.page.locator("#chat").scroll_into_view_if_needed()
    chat.page.screenshot(path=str(SCREENSHOTS / "help-page-finished-procedure.png"))


def test_choice_buttons_send_their_payload(chat):
    chat.click_topic(TOPICS["login_failed"])
    question = chat.messages()[-1]
    assert len(question["buttons"]) >= 2
    title = question["buttons"][0]
    payload = chat.page.locator("button.egov-qr", has_text=title).last.get_attribute("data-payload")
    chat.click_reply(title)
    assert chat.sent[-1]["message"] == payload
    assert chat.messages()[2] == {"role": "user", "text": title, "buttons": []}


def test_enter_during_ime_composition_does_not_send(chat):
    page = chat.page
    box = page.locator("#text-input")
    chat.type("ろぐいん")
    for init in ({"isComposing": True, "keyCode": 229}, {"isComposing": False, "keyCode": 229}, {"isComposing": True}):
        box.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "bubbles": True, "composed": True, "cancelable": True, **init})
    page.wait_for_timeout(500)
    assert chat.sent == [] and chat.messages() == []
    assert box.inner_text() == "ろぐいん"
    # Shift+Enter makes a new line; Enter then sends both lines as one message.
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("できません")
    page.wait_for_timeout(300)
    assert chat.sent == []
    # The same synthetic keydown without composition sends: it is the composition that held it back.
    enter = {"key": "Enter", "code": "Enter", "keyCode": 13, "bubbles": True, "composed": True, "cancelable": True}
    chat.answered(lambda: box.dispatch_event("keydown", enter))
    assert chat.sent[-1]["message"] == "ろぐいん\nできません"
    assert chat.messages()[0]["text"] == "ろぐいん\nできません"


def test_html_and_markdown_typed_by_the_user_show_as_text(chat):
    attack = "<img src=x onerror=alert(1)> <script>alert(2)</script> **太字** 1. [link](javascript:alert(3))"
    chat.say(attack)
    assert chat.messages()[0]["text"] == attack
    assert chat.sent[-1]["message"] == attack
    inside = chat.page.evaluate(
        "document.getElementById('chat-widget').shadowRoot.querySelectorAll('#messages img, #messages script, #messages a, #messages strong').length"
    )
    assert inside == 0
    assert chat.dialogs == []


def test_bot_text_is_escaped_and_links_open_safely(chat):
    """A bot message (restored from the session) with markup, a URL and line breaks."""
    bot_text = "詳しくは https://www.e-gov.go.jp/help/ をご覧ください。\n<img src=x onerror=alert(1)> javascript:alert(1)"
    stored = {
        "sender": fresh_sender(),
        "messages": [
            {"role": "user", "text": "リンク"},
            {"role": "ai", "text": bot_text, "buttons": [{"title": "<b>はい</b>", "payload": "/affirm"}]},
        ],
    }
    chat.page.evaluate("(s) => sessionStorage.setItem('egov-login-help-chat', JSON.stringify(s))", stored)
    chat.reload()
    message = chat.messages()[1]
    assert message["text"] == bot_text
    assert message["buttons"] == ["<b>はい</b>"]
    links = chat.page.evaluate(
        """() => [...document.getElementById('chat-widget').shadowRoot.querySelectorAll('#messages a')]
               .map((a) => ({href: a.href, text: a.textContent, target: a.target, rel: a.rel}))"""
    )
    assert links == [
        {"href": "https://www.e-gov.go.jp/help/", "text": "https://www.e-gov.go.jp/help/", "target": "_blank", "rel": "noopener noreferrer"}
    ]
    assert chat.page.evaluate("document.getElementById('chat-widget').shadowRoot.querySelectorAll('#messages img').length") == 0
    assert chat.page.evaluate("document.getElementById('chat-widget').shadowRoot.querySelectorAll('.egov-text br').length") == 1
    assert chat.dialogs == []


def test_typing_indicator_shows_while_waiting(chat):
    held = []
    chat.page.route(f"**{WEBHOOK}", lambda route: held.append(route))
    chat.type("パスワードを忘れました")
    chat.page.keyboard.press("Enter")
    chat.page.locator(".deep-chat-loading-message-bubble").wait_for()
    assert chat.page.locator("#chat").get_attribute("aria-busy") == "true"
    for _ in range(100):  # the held request reaches the route handler
        if held:
            break
        chat.page.wait_for_timeout(50)
    chat.answered(lambda: held[0].continue_())
    assert chat.page.locator(".deep-chat-loading-message-bubble").count() == 0
    assert chat.page.locator("#chat").get_attribute("aria-busy") == "false"


def test_unreachable_server_shows_an_error_and_retry_sends_the_same_message(chat, rest_reply):
    page = chat.page
    page.route(f"**{WEBHOOK}", lambda route: route.abort("connectionrefused"))
    question = "ログインできません"
    chat.say(question)
    error = page.locator(".egov-error")
    assert "サーバーに接続できませんでした" in error.inner_text()
    assert chat.messages()[0]["text"] == question  # the user's message stays
    # Still down: retrying shows the error again, nothing is lost.
    chat.answered(page.get_by_role("button", name="再送信する").click)
    assert page.locator(".egov-error").count() == 1
    # The error survives a reload too.
    chat.reload()
    assert page.locator(".egov-error").count() == 1
    page.unroute(f"**{WEBHOOK}")
    chat.answered(page.get_by_role("button", name="再送信する").click)
    assert page.locator(".egov-error").count() == 0
    assert [m["message"] for m in chat.sent] == [question] * 3
    messages = chat.messages()
    assert messages[0]["text"] == question
    assert [m["text"] for m in messages[1:3]] == ["再送信しました。", "再送信しました。"]
    assert shown(chat, 3) == rest_reply(question)


def test_too_many_messages_shows_the_assistants_own_words_and_retry(chat, domain):
    """HTTP 429 from the channel (serving/rate_limit.py) carries utter_too_many_messages:
    the page shows it, not a bare error number, and keeps the message for 「再送信する」."""
    page, said = chat.page, domain["responses"]["utter_too_many_messages"][0]["text"]
    body = json.dumps([{"recipient_id": "x", "text": said}], ensure_ascii=False)
    page.route(
        f"**{WEBHOOK}", lambda route: route.fulfill(status=429, headers={"Retry-After": "30"}, content_type="application/json", body=body)
    )
    chat.say("ログインできません")
    error = page.locator(".egov-error").inner_text()
    assert said in error and "回答を取得できませんでした" not in error
    page.unroute(f"**{WEBHOOK}")
    chat.answered(page.get_by_role("button", name="再送信する").click)
    assert page.locator(".egov-error").count() == 0
    assert [m["message"] for m in chat.sent] == ["ログインできません"] * 2


def test_reload_keeps_the_conversation(chat):
    chat.click_topic(TOPICS["login_failed"])
    chat.click_reply("はい、登録済みです")
    before = chat.messages()
    sender = chat.sent[-1]["sender"]
    chat.reload()
    assert chat.messages() == before
    # Restored buttons work and the conversation goes on with the same sender.
    chat.click_reply("できました（次へ）")
    assert chat.sent[-1] == {"sender": sender, "message": "/guide_next"}
    assert chat.messages()[-1]["text"].startswith("手順 2/")


def test_restart_clears_the_conversation(chat):
    chat.click_topic(TOPICS["account_locked"])
    old_sender = chat.sent[-1]["sender"]
    with chat.page.expect_request(lambda r: r.url.endswith(WEBHOOK) and "/restart" in (r.post_data or "")):
        chat.page.get_by_role("button", name="最初からやり直す").click()
    assert chat.messages() == []
    assert chat.stored()["messages"] == []
    new_sender = chat.stored()["sender"]
    assert new_sender != old_sender
    chat.reload()
    assert chat.messages() == []
    chat.click_topic(TOPICS["unlock_account"])
    assert chat.sent[-1]["sender"] == new_sender
    assert {"sender": old_sender, "message": "/restart"} in chat.sent


def test_phone_width_has_no_horizontal_scroll(open_chat):
    chat = open_chat(width=360, height=780)
    chat.click_topic(TOPICS["gbizid_http500"])
    chat.click_topic(TOPICS["login_failed"])
    chat.click_reply("はい、登録済みです")
    chat.click_reply("できました（次へ）")
    widths = chat.page.evaluate(
        """() => { const root = document.getElementById('chat-widget').shadowRoot;
                   const messages = root.getElementById('messages');
                   return { page: document.documentElement.scrollWidth, view: window.innerWidth,
                            messages: messages.scrollWidth - messages.clientWidth,
                            input: root.getElementById('input').getBoundingClientRect().right,
                            frame: document.getElementById('chat').getBoundingClientRect().right }; }"""
    )
    assert widths["page"] <= widths["view"] == 360
    assert widths["messages"] <= 0
    assert widths["input"] <= widths["frame"] + 0.5
    # Every quick reply fits inside its bubble.
    overflow = chat.page.evaluate(
        """() => [...document.getElementById('chat-widget').shadowRoot.querySelectorAll('button.egov-qr')]
               .filter((b) => b.getBoundingClientRect().right > b.closest('.message-bubble').getBoundingClientRect().right + 0.5)
               .map((b) => b.textContent)"""
    )
    assert overflow == []


def test_keyboard_only(chat):
    page = chat.page
    # Tab from the top of the page to the message box.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.getElementById('chat-widget').shadowRoot.activeElement?.id") == "text-input":
            break
    else:
        pytest.fail("Tab never reached the message box")
    page.keyboard.type("秘密の質問の答えを忘れました")
    chat.answered(lambda: page.keyboard.press("Enter"))
    assert chat.messages()[0]["text"] == "秘密の質問の答えを忘れました"
    assert len(chat.messages()) >= 2
    # Shift+Tab back to the last quick reply and press it with Enter.
    buttons = chat.messages()[-1]["buttons"]
    assert buttons, "the answer should offer quick replies"
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.getElementById('chat-widget').shadowRoot.activeElement?.textContent")
    assert focused == buttons[-1]
    chat.answered(lambda: page.keyboard.press("Enter"))
    assert [m for m in chat.messages() if m["role"] == "user"][-1]["text"] == buttons[-1]
    # After a keyboard choice the focus is back in the message box.
    assert page.evaluate("document.getElementById('chat-widget').shadowRoot.activeElement?.id") == "text-input"


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 780)])
def test_screenshot_of_a_conversation(open_chat, width, height):
    chat = open_chat(width=width, height=height)
    chat.click_topic(TOPICS["login_failed"])
    chat.click_reply("はい、登録済みです")
    chat.say("パスワードの確認方法を教えてください")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chat.page.locator("#chat").scroll_into_view_if_needed()
    chat.page.screenshot(path=str(SCREENSHOTS / f"help-page-{width}.png"))
    assert len(chat.messages()) >= 5
