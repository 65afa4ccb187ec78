"""The help page (web/) in Debian's headless Chromium, driven by Playwright, against the
page server web/serve.py and real Rasa and action servers.

Chromium is the system one (apt-get install chromium): Playwright's own browser
download cannot work on a machine without internet, and is never used here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from serving.harness import ROOT, WEBHOOK, Stack, free_port, wait_until_up

WEB = ROOT / "web"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# No internet here: without these, Chromium keeps trying Google's services at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@dataclass
class Site:
    url: str  # the help page, ending in "/"
    rasa_url: str
    servers: Stack  # talk() and texts() through the REST channel


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    subprocess.run([str(WEB / "build.sh")], check=True)  # seconds at most when nothing changed
    workdir = tmp_path_factory.mktemp("browser")
    page_port = free_port()
    origin = f"http://127.0.0.1:{page_port}"
    # Rasa's CORS allow-list: the page's origin only.
    with Stack(workdir, cors=[origin]) as servers:
        log = workdir / "page.log"
        env = {**os.environ, "PAGE_PORT": str(page_port), "PAGE_HOST": "127.0.0.1", "RASA_URL": servers.rasa_url}
        page_server = subprocess.Popen([sys.executable, str(WEB / "serve.py")], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            wait_until_up(f"{origin}/config.json", lambda: page_server.poll() is None, log.read_text, "page server", seconds=30)
            yield Site(f"{origin}/", servers.rasa_url, servers)
        finally:
            page_server.terminate()
            page_server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM).")
    with sync_playwright() as playwright:
        # launch() starts Chromium with a new, empty user-data-dir of its own each time.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Chat:
    """One browser tab on the help page, with what it sent and what went wrong."""

    page: Page
    site: Site
    sent: list[dict] = field(default_factory=list)  # bodies POSTed to the webhook
    dialogs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", self._on_request)
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._on_console)

    def _on_request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.site.url) or url.startswith(self.site.rasa_url) or url.startswith("data:")):
            self.problems.append(f"request outside the page and Rasa: {url}")
        if url.endswith(WEBHOOK) and request.method == "POST":
            self.sent.append(json.loads(request.post_data or "{}"))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP violation: {message.text}")

    # --- actions ---
    def open(self) -> Chat:
        self.page.goto(self.site.url)
        self.page.locator("#text-input").wait_for()
        self.page.wait_for_function("() => document.getElementById('chat').dataset.turns !== undefined")
        return self

    def reload(self) -> None:
        self.page.reload()
        self.page.locator("#text-input").wait_for()
        self.page.wait_for_function("() => document.getElementById('chat').dataset.turns !== undefined")

    def turns(self) -> int:
        return int(self.page.locator("#chat").get_attribute("data-turns") or 0)

    def answered(self, action, count: int = 1) -> None:
        """Does `action` and waits until the page has shown `count` answers (or errors)."""
        before = self.turns()
        action()
        # A function, not an expression: the page's CSP forbids eval.
        self.page.wait_for_function("(n) => Number(document.getElementById('chat').dataset.turns) >= n", arg=before + count, timeout=60_000)

    def type(self, text: str) -> None:
        box = self.page.locator("#text-input")
        box.click()
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if i:
                self.page.keyboard.press("Shift+Enter")
            self.page.keyboard.type(line)

    def say(self, text: str) -> None:
        self.type(text)
        self.answered(lambda: self.page.keyboard.press("Enter"))

    def click_topic(self, title: str) -> None:
        self.answered(self.page.locator(".topics").get_by_role("button", name=title, exact=True).click)

    def click_reply(self, title: str) -> None:
        self.answered(self.page.locator("button.egov-qr", has_text=title).last.click)

    # --- what the page shows ---
    def messages(self) -> list[dict]:
        """Each message shown, without the intro and the typing indicator: role, text, buttons."""
        return self.page.evaluate(
            """() => [...document.getElementById('chat-widget').shadowRoot
                  .querySelectorAll('.outer-message-container:not(.deep-chat-intro)')]
                .filter((c) => !c.querySelector('.deep-chat-loading-message-bubble'))
                .map((c) => {
                  const bubble = c.querySelector('.message-bubble');
                  const text = bubble.querySelector('.egov-text, .egov-note') || bubble;
                  return { role: c.className.includes('role-user') ? 'user' : 'ai',
                           text: text.innerText.trim(),
                           buttons: [...bubble.querySelectorAll('button.egov-qr')].map((b) => b.textContent) };
                })"""
        )

    def stored(self) -> dict:
        return self.page.evaluate("JSON.parse(sessionStorage.getItem('egov-login-help-chat'))")


@pytest.fixture
def open_chat(browser: Browser, site: Site) -> Iterator:
    """open_chat(width=1280) opens the page in a new browser context (own sessionStorage)."""
    chats: list[Chat] = []

    def opener(width: int = 1280, height: int = 900) -> Chat:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
        chat = Chat(context.new_page(), site)
        chats.append(chat)
        return chat.open()

    yield opener
    problems = [p for chat in chats for p in chat.problems]
    for chat in chats:
        chat.page.context.close()
    assert not problems, problems


@pytest.fixture
def chat(open_chat) -> Chat:
    return open_chat()


@pytest.fixture
def rest_reply(site: Site):
    """rest_reply(message) is what the REST channel answers a new sender, as (text, button titles) per message."""

    def reply(message: str) -> list[tuple[str, list[str]]]:
        sender = f"browser-rest-{uuid.uuid4().hex[:12]}"
        return [(m.get("text", ""), [b["title"] for b in m.get("buttons", [])]) for m in site.servers.talk(sender, message)]

    return reply


@pytest.fixture
def new_tab(browser: Browser, site: Site) -> Iterator:
    """new_tab(init_script=None, **context options) → a Chat on a fresh, not yet loaded page
    in a context of its own; its problems (CSP, page errors, outside requests) fail the test."""
    chats: list[Chat] = []

    def make(init_script: Path | None = None, **options: Any) -> Chat:
        context = browser.new_context(locale="ja-JP", **options)
        if init_script:
            context.add_init_script(path=str(init_script))  # through the browser's protocol: not subject to the page's CSP
        chat = Chat(context.new_page(), site)
        chats.append(chat)
        return chat

    yield make
    problems = [p for chat in chats for p in chat.problems]
    for chat in chats:
        chat.page.context.close()
    assert not problems, problems
