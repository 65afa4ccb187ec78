// The chat, wherever it is shown (the help page, app.js; the embeddable widget,
// widget.js): deep-chat draws the conversation and the input; this module talks to
// the Rasa REST channel, keeps the conversation in sessionStorage, announces each
// reply to screen readers once, and renders every message as plain text (render.js).
import "./vendor/deep-chat.js";
import { literalMarkdown, messageHtml, spokenText } from "./render.js";

const STORE_KEY = "egov-login-help-chat";
const REQUEST_TIMEOUT_MS = 60000;
const FONT = "'Noto Sans JP', 'Noto Sans CJK JP', 'Hiragino Kaku Gothic ProN', 'Hiragino Sans', Meiryo, sans-serif";
const TEXT = {
  intro:
    "こんにちは。e-Govログインヘルプです。\nお困りの状況やエラーメッセージをお書きいただくか、「よくあるご質問」から項目をお選びください。",
  placeholder: "ご質問を入力してください",
  inputLabel: "メッセージを入力（Enterキーで送信、Shift+Enterキーで改行）",
  submitLabel: "送信",
  unreachable:
    "サーバーに接続できませんでした。通信環境をご確認のうえ、「再送信する」を押してください。入力された内容は保持されています。",
  failed: "回答を取得できませんでした（エラー {status}）。しばらく待ってから「再送信する」を押してください。",
  retried: "再送信しました。",
  restarted: "会話を最初からやり直しました。",
  waiting: "回答を準備しています。",
};

// --- conversation state, mirrored in sessionStorage ---------------------------

function newSender() {
  const id = crypto.randomUUID
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `web-${id}`;
}

function loadState() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages)) return saved;
  } catch {
    // a broken entry starts a new conversation
  }
  return { sender: newSender(), messages: [] };
}

// The user's words go through deep-chat's own text bubble, escaped to show literally;
// the bot's messages (with buttons and links) as HTML built in render.js.
const toDeepChat = (message, index) =>
  message.role === "user"
    ? { role: "user", text: literalMarkdown(message.text) }
    : { role: message.role, html: messageHtml({ ...message, index }) };

// --- one chat ----------------------------------------------------------------------

// Mounts a chat into `frame` (its live region: `status`). `topics` ({title, payload})
// are offered as buttons in the first message. Returns what the page needs to drive it.
export function mountChat({ frame, status, rasaUrl, topics = [] }) {
  const webhook = `${rasaUrl.replace(/\/$/, "")}/webhooks/rest/webhook`;
  let state = loadState();
  const save = () => sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
  save();

  // state.messages[i] is always shown as chat.getMessages()[i].
  const remember = (message) => {
    state.messages.push(message);
    save();
    return state.messages.length - 1;
  };

  const chat = document.createElement("deep-chat");
  chat.id = "chat-widget";
  // A font on the element itself stops deep-chat from loading its default web font.
  chat.style.fontFamily = FONT;
  chat.chatStyle = { width: "100%", height: "100%", border: "none", fontFamily: FONT, fontSize: "16px", backgroundColor: "#ffffff" };
  chat.introMessage = topics.length ? { html: messageHtml({ role: "ai", text: TEXT.intro, buttons: topics }) } : { text: TEXT.intro };
  chat.history = state.messages.map(toDeepChat);
  chat.displayLoadingBubble = { toggle: () => {} }; // we show and hide it ourselves
  chat.textInput = {
    placeholder: { text: TEXT.placeholder, style: { color: "#5f6368" } },
    styles: {
      container: { width: "100%", margin: "0", border: "1px solid #8a8f98", borderRadius: "8px", boxShadow: "none" },
      text: { padding: "10px 12px", fontSize: "16px", lineHeight: "1.6", color: "#1a1a1a" },
      focus: { border: "2px solid #0b57d0" },
    },
  };
  chat.inputAreaStyle = { padding: "10px", boxSizing: "border-box", borderTop: "1px solid #d7dbe0", backgroundColor: "#ffffff" };
  const bubble = { maxWidth: "88%", padding: "10px 14px", lineHeight: "1.7", fontSize: "16px", borderRadius: "14px", marginTop: "4px" };
  const roleStyles = {
    shared: { bubble },
    user: { bubble: { backgroundColor: "#0b57d0", color: "#ffffff" } },
    ai: { bubble: { backgroundColor: "#f1f3f6", color: "#1a1a1a" } },
  };
  chat.messageStyles = { default: roleStyles, html: roleStyles, intro: { bubble: { ...bubble, backgroundColor: "#f1f3f6", color: "#1a1a1a" } } };
  chat.auxiliaryStyle = `
    .egov-text { white-space: normal; overflow-wrap: anywhere; }
    .egov-replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 10px; }
    .egov-qr, .egov-retry {
      font: inherit; font-size: 15px; line-height: 1.5; min-height: 44px; padding: 8px 14px; max-width: 100%;
      color: #0b57d0; background: #ffffff; border: 1px solid #0b57d0; border-radius: 22px; cursor: pointer; text-align: left;
    }
    .egov-qr:hover, .egov-retry:hover { background: #e8f0fe; }
    .egov-qr:focus-visible, .egov-retry:focus-visible, .egov-link:focus-visible { outline: 3px solid #e37400; outline-offset: 2px; }
    .egov-qr:disabled { color: #5f6368; border-color: #b0b5bc; cursor: default; background: #ffffff; }
    .egov-link { color: #0b57d0; text-decoration: underline; overflow-wrap: anywhere; }
    .egov-error { color: #a50e0e; }
    .egov-error .egov-retry { margin-top: 10px; color: #a50e0e; border-color: #a50e0e; }
    .egov-note { color: #5f6368; font-size: 14px; }
    #text-input:focus-visible { outline: none; }
    #messages .inner-message-container { margin-left: 10px; margin-right: 10px; }
    .input-button:focus-visible { outline: 3px solid #e37400; outline-offset: 2px; border-radius: 6px; }
  `;
  chat.htmlClassUtilities = {
    "egov-qr": {
      events: {
        click: (e) => {
          const button = e.target.closest("button");
          choose(button?.textContent, button?.dataset.payload, e);
        },
      },
    },
    "egov-retry": { events: { click: (e) => retry(e.target.closest("button")) } },
  };
  chat.connect = { handler: (body, signals) => onUserMessage(body, signals) };
  // deep-chat renders late (in a hidden panel: when shown) and redraws its input area: name
  // its controls whenever its shadow tree changes.
  let watching = false;
  chat.onComponentRender = () => {
    improveAccessibility();
    if (!watching && chat.shadowRoot) {
      watching = true;
      new MutationObserver(improveAccessibility).observe(chat.shadowRoot, { childList: true, subtree: true });
    }
  };
  frame.append(chat);

  // deep-chat's input is a contenteditable div and its submit button an icon: give both
  // a Japanese name, and let the keyboard press the icon.
  function improveAccessibility() {
    const root = chat.shadowRoot;
    const input = root?.getElementById("text-input");
    if (input) {
      input.setAttribute("role", "textbox");
      input.setAttribute("aria-multiline", "true");
      input.setAttribute("aria-label", TEXT.inputLabel);
    }
    const submit = root?.querySelector(".input-button");
    if (submit && submit.getAttribute("aria-label") !== TEXT.submitLabel) {
      submit.setAttribute("role", "button");
      submit.setAttribute("tabindex", "0");
      submit.setAttribute("aria-label", TEXT.submitLabel);
    }
    if (submit && !submit.dataset.egovKeys) {
      submit.dataset.egovKeys = "1";
      submit.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          submit.click();
        }
      });
    }
  }

  // Enter that confirms an IME conversion must not send. deep-chat tracks composition
  // events; this also covers browsers that report it only as isComposing / keyCode 229.
  const imeGuard = (e) => {
    if (e.key === "Enter" && (e.isComposing || e.keyCode === 229) && e.composedPath().includes(chat)) {
      e.stopImmediatePropagation();
    }
  };
  window.addEventListener("keydown", imeGuard, true);


  // --- talking to Rasa ------------------------------------------------------------

  let busy = false;
  let generation = 0; // bumped by a restart, so late answers to the old conversation are dropped
  let turns = 0;

  // While a message is on its way: the typing indicator, aria-busy, and no second message.
  function startTurn() {
    busy = true;
    frame.setAttribute("aria-busy", "true");
    chat.displayLoadingBubble.toggle({});
    announce(TEXT.waiting);
  }

  function stopTyping() {
    const last = chat.shadowRoot?.querySelector("#messages > :last-child .deep-chat-loading-message-bubble");
    if (last) chat.displayLoadingBubble.toggle();
  }

  function endTurn() {
    busy = false;
    turns += 1;
    frame.setAttribute("aria-busy", "false");
    frame.dataset.turns = String(turns); // lets tests wait for an answer
  }

  function announce(text) {
    status.textContent = "";
    // set after a pause so that a repeated message is read again
    setTimeout(() => (status.textContent = text), 50);
  }

  function botMessages(data) {
    return (Array.isArray(data) ? data : [])
      .map((m) => ({
        role: "ai",
        text: typeof m?.text === "string" ? m.text : "",
        buttons: (Array.isArray(m?.buttons) ? m.buttons : [])
          .map((b) => ({ title: String(b?.title ?? ""), payload: String(b?.payload ?? "") }))
          .filter((b) => b.title && b.payload),
      }))
      .filter((m) => m.text || m.buttons.length);
  }

  // Sends one message and stores what to show: the bot's messages, or an error with a
  // retry button. Returns them as deep-chat messages, or null for a restarted conversation.
  async function exchange(payload, text) {
    const mine = generation;
    let replies;
    try {
      const response = await fetch(webhook, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: state.sender, message: payload }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!response.ok) {
        // 429 (too many messages) and 503 (a store is down) carry the assistant's own
        // polite explanation; other errors get the page's.
        const said = await response.json().then(botMessages, () => []);
        throw Object.assign(new Error("HTTP"), { status: response.status, said: said.map((m) => m.text).filter(Boolean).join("\n") });
      }
      replies = botMessages(await response.json());
    } catch (err) {
      const message = err.said || (err.status ? TEXT.failed.replace("{status}", err.status) : TEXT.unreachable);
      replies = [{ role: "ai", kind: "error", retry: true, text: message, pending: { payload, text } }];
    }
    if (mine !== generation) return null;
    stopTyping();
    announce(replies.map(spokenText).join(" "));
    return replies.map((m) => toDeepChat(m, remember(m)));
  }

  async function onUserMessage(body, signals) {
    const sent = body?.messages?.[0] ?? {};
    const text = typeof sent.text === "string" ? sent.text : "";
    const payload = typeof sent.custom?.payload === "string" ? sent.custom.payload : text;
    const index = remember({ role: "user", text });
    // deep-chat renders typed text as Markdown; show exactly what was typed instead.
    const literal = literalMarkdown(text);
    if (literal !== text) chat.updateMessage({ text: literal }, index);
    startTurn();
    const replies = await exchange(payload, text);
    await signals.onResponse(replies ?? []);
    if (replies) endTurn();
  }

  // A quick reply or a topic: the title is shown as the user's message, the payload is sent.
  function choose(title, payload, event) {
    if (busy || !title || !payload) return;
    chat.submitUserMessage({ text: title, custom: { payload } });
    if (event?.detail === 0) chat.focusInput(); // pressed with the keyboard: carry on typing there
  }

  async function retry(button) {
    const index = Number(button?.dataset.index);
    const failed = state.messages[index];
    if (busy || !failed || failed.kind !== "error" || !failed.pending) return;
    // The error and its button give way to a short note; the user's message stays above it.
    const note = { role: "ai", kind: "note", text: TEXT.retried };
    state.messages[index] = note;
    save();
    chat.updateMessage({ html: messageHtml(note) }, index);
    chat.disableSubmitButton(true); // a typed message waits until this answer is in
    startTurn();
    const replies = await exchange(failed.pending.payload, failed.pending.text);
    for (const message of replies ?? []) chat.addMessage(message);
    chat.disableSubmitButton(false);
    if (replies) endTurn();
  }

  function restart() {
    const old = state.sender;
    generation += 1;
    stopTyping();
    state = { sender: newSender(), messages: [] };
    save();
    chat.clearMessages(true);
    chat.disableSubmitButton(false);
    endTurn();
    announce(TEXT.restarted);
    // Let the server forget the old conversation too; nothing depends on the answer.
    fetch(webhook, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: old, message: "/restart" }),
    }).catch(() => {});
  }

  frame.setAttribute("aria-busy", "false");
  frame.dataset.turns = "0";
  return { chat, choose, restart, focus: () => chat.focusInput() };
}
