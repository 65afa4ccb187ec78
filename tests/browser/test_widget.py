"""The embeddable widget on the demo host page (web/dist/faq.html: the FAQ itself with
one script tag), as a person uses it, and as a screen reader and axe-core see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"  # pinned in web/package-lock.json
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LAUNCHER = "#egov-login-help >> button.launcher"


class Host:
    """One tab on the demo host page, with the widget's parts at hand."""

    def __init__(self, chat) -> None:
        self.chat, self.page = chat, chat.page

    def open_page(self) -> Host:
        self.page.goto(self.chat.site.url + "faq.html")
        self.page.wait_for_function("() => document.getElementById('egov-login-help')?.dataset.open !== undefined")
        return self

    def launcher(self):
        return self.page.locator(LAUNCHER)

    def panel(self):
        return self.page.locator("#egov-login-help >> #egov-panel")

    def open(self) -> None:
        self.launcher().click()
        self.page.locator("#text-input").wait_for()
        self.page.wait_for_function(
            "() => document.getElementById('egov-login-help').shadowRoot.getElementById('chat').dataset.turns !== undefined"
        )

    def turns(self) -> int:
        return int(self.page.evaluate("() => document.getElementById('egov-login-help').shadowRoot.getElementById('chat').dataset.turns"))

    def answered(self, action) -> None:
        before = self.turns()
        action()
        self.page.wait_for_function(
            "(n) => Number(document.getElementById('egov-login-help').shadowRoot.getElementById('chat').dataset.turns) >= n",
            arg=before + 1,
            timeout=60_000,
        )

    def say(self, text: str) -> None:
        self.page.locator("#text-input").click()
        self.page.keyboard.type(text)
        self.answered(lambda: self.page.keyboard.press("Enter"))

    def click_reply(self, title: str) -> None:
        self.answered(self.page.locator("button.egov-qr", has_text=title).last.click)

    def bot_texts(self) -> list[str]:
        return self.page.evaluate(
            """() => [...document.getElementById('egov-login-help').shadowRoot.getElementById('chat-widget').shadowRoot
                 .querySelectorAll('.outer-message-container[class*=role-ai] .egov-text')].map((e) => e.innerText.trim())"""
        )

    def live_text(self) -> str:
        return self.page.evaluate("() => document.getElementById('egov-login-help').shadowRoot.querySelector('[role=status]').textContent")

    def active(self) -> str:
        """What has the keyboard focus, looking through shadow roots: id or class of the element."""
        return self.page.evaluate(
            """() => { let e = document.activeElement;
                       while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
                       return e ? (e.id || e.className) : ''; }"""
        )

    def settled(self) -> None:
        """The panel's opening animation is over (axe measures colours as they are drawn)."""
        self.page.wait_for_function(
            "() => document.getElementById('egov-login-help').shadowRoot.getElementById('egov-panel').getAnimations().length === 0"
        )

    def axe(self) -> list[str]:
        self.settled()
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })", WCAG_21_AA
        )
        return [f"{v['id']}: {v['help']} ({len(v['nodes'])}×: {v['nodes'][0]['target']})" for v in result["violations"]]


@pytest.fixture
def open_host(new_tab) -> Iterator:
    """open_host(width, height, reduced_motion) → a Host tab with axe-core loaded before the page's scripts."""

    def opener(width: int = 1280, height: int = 800, reduced_motion: str = "no-preference") -> Host:
        tab = new_tab(init_script=AXE, viewport={"width": width, "height": height}, reduced_motion=reduced_motion)
        return Host(tab).open_page()

    yield opener


def test_closed_launcher_bottom_right_with_a_japanese_label_and_no_violations(open_host):
    host = open_host()
    launcher = host.launcher()
    assert launcher.get_attribute("aria-expanded") == "false" and "ログイン" in launcher.inner_text()
    box, size = launcher.bounding_box(), host.page.viewport_size
    assert box["x"] + box["width"] > size["width"] - 40 and box["y"] + box["height"] > size["height"] - 40
    assert not host.panel().is_visible()
    assert host.axe() == []
    host.page.screenshot(path=str(SCREENSHOTS / "widget-closed-1280.png"))


def test_opening_moves_focus_to_the_input_and_esc_closes_back_to_the_launcher(open_host):
    host = open_host()
    host.open()
    assert host.panel().is_visible() and host.page.locator(LAUNCHER).get_attribute("aria-expanded") == "true"
    host.page.wait_for_function(
        """() => { let e = document.activeElement;
                   while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
                   return e && e.id === 'text-input'; }"""
    )
    assert host.axe() == []
    host.page.keyboard.press("Escape")
    assert not host.panel().is_visible()
    assert "launcher" in host.active()


def test_a_person_solves_a_login_problem_by_chatting_and_clicking(open_host):
    host = open_host()
    host.open()
    host.say("アカウントロック中ですと表示されてログインできません")
    assert any("30分以上経過したあとにログインを行ってください" in t for t in host.bot_texts())
    host.click_reply("いいえ、ログインできました")
    host.click_reply("はい")
    assert "解決してよかったです" in host.bot_texts()[-1]
    assert host.axe() == []  # mid-conversation, with quick replies and links
    host.page.screenshot(path=str(SCREENSHOTS / "widget-open-1280.png"))


def test_each_reply_is_announced_once_not_the_history(open_host):
    host = open_host()
    host.open()
    host.say("秘密の質問の答えを忘れました")
    host.page.wait_for_function(
        "() => document.getElementById('egov-login-help').shadowRoot.querySelector('[role=status]').textContent.includes('手順 1/7')"
    )
    first = host.live_text()
    assert "こんにちは" not in first and "秘密の質問の答えを忘れました" not in first  # the reply, not the history
    host.page.locator("button.egov-qr", has_text="できました").last.click()
    host.page.wait_for_function(
        "() => document.getElementById('egov-login-help').shadowRoot.querySelector('[role=status]').textContent.includes('手順 2/7')"
    )
    assert "手順 1/7" not in host.live_text()


def test_quick_replies_are_buttons_named_by_their_text_and_reachable_by_keyboard(open_host):
    host = open_host()
    host.launcher().focus()
    host.page.keyboard.press("Enter")  # the launcher, by keyboard
    host.page.locator("#text-input").wait_for()
    host.page.wait_for_function(
        """() => { let e = document.activeElement;
                   while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
                   return e && e.id === 'text-input'; }"""
    )
    host.page.keyboard.type("アカウントロック中と出ます")
    host.answered(lambda: host.page.keyboard.press("Enter"))
    reply = host.page.get_by_role("button", name="はい、ロックされたままです", exact=True)
    assert reply.count() >= 1
    for _ in range(40):  # Tab through the panel until the quick reply has the focus
        host.page.keyboard.press("Tab")
        if host.page.evaluate(
            """() => { let e = document.activeElement;
                       while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
                       return e && e.textContent === 'はい、ロックされたままです'; }"""
        ):
            break
    else:
        pytest.fail("the quick reply is not reachable with Tab")
    host.answered(lambda: host.page.keyboard.press("Enter"))
    assert any("問い合わせフォームからアカウントのロック解除を依頼してください" in t for t in host.bot_texts())


def test_the_conversation_and_the_open_panel_survive_navigation(open_host):
    host = open_host()
    host.open()
    host.say("パスワードを忘れました")
    before = host.bot_texts()
    host.open_page()  # another page load within the site
    host.page.locator("#text-input").wait_for()
    assert host.panel().is_visible() and host.bot_texts() == before
    host.page.locator("#egov-login-help >> .panel-header button", has_text="閉じる").click()
    assert "launcher" in host.active()
    host.open_page()
    assert not host.panel().is_visible()  # closed stays closed


@pytest.mark.parametrize("width,height", [(360, 740)], ids=["360px"])
def test_full_screen_on_a_phone_without_horizontal_scroll(open_host, width, height):
    host = open_host(width, height)
    host.open()
    host.settled()
    box = host.panel().bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == pytest.approx((0, 0, width, height), abs=1)
    assert host.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert host.axe() == []
    host.page.screenshot(path=str(SCREENSHOTS / "widget-open-360.png"))


def test_readable_at_200_percent_zoom(open_host):
    """1280 × 800 at 200 % is a 640 × 400 CSS-pixel viewport: the panel fits and its input shows."""
    host = open_host(640, 400)
    host.open()
    host.settled()
    box = host.panel().bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 640 and box["y"] + box["height"] <= 400
    assert host.page.locator("#text-input").is_visible()
    assert host.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_reduced_motion_opens_without_animation(open_host):
    animated = open_host()
    animated.open()
    still = open_host(reduced_motion="reduce")
    still.open()
    duration = "() => getComputedStyle(document.getElementById('egov-login-help').shadowRoot.getElementById('egov-panel')).animationName"
    assert animated.page.evaluate(duration) != "none" and still.page.evaluate(duration) == "none"


def test_the_host_page_keeps_its_styles_and_gets_one_global(open_host, browser, site):
    host = open_host()
    host.open()
    styles = "() => ['body', 'h2', 'p'].map((s) => { const c = getComputedStyle(document.querySelector(s)); return [c.fontSize, c.color, c.lineHeight, c.fontFamily]; })"
    with_widget = host.page.evaluate(styles)
    added = host.page.evaluate("() => Object.keys(window).filter((k) => k.startsWith('Egov') || k.toLowerCase().includes('deep'))")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route("**/widget.js", lambda route: route.abort())
    page.goto(site.url + "faq.html")
    without = page.evaluate(styles)
    baseline = set(page.evaluate("() => Object.keys(window)"))
    context.close()
    assert with_widget == without
    assert added == ["EgovLoginHelp"]
    new_globals = set(host.page.evaluate("() => Object.keys(window)")) - baseline - {"axe"}  # axe: the test's own tool
    assert new_globals == {"EgovLoginHelp"}, new_globals
