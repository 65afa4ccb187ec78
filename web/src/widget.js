// The embeddable assistant: one script tag adds a launcher button (bottom right) that
// opens the chat in a panel (a side panel; full screen below 600 px).
//
//   <script type="module" src="https://…/widget.js"
//           data-rasa-url="https://…" data-title="…" data-topics="login_trouble account_locked"></script>
//
// Everything lives in one element's shadow root, so the host page's styles and ours
// never meet; the only global is window.EgovLoginHelp. No inline script, no eval:
// works under a strict Content-Security-Policy (web/README.md lists the lines).
import { mountChat } from "./chat.js";

const BASE = new URL(".", import.meta.url);
const OPEN_KEY = "egov-login-help-open";
const DEFAULTS = {
  title: "e-Gov ログインヘルプ",
  launcher: "ログインでお困りですか？",
  hint: "Enterキーで送信、Shift+Enterキーで改行します。パスワードなどの個人情報は入力しないでください。",
  close: "閉じる",
  restart: "最初から",
  topicCount: 4,
};

const tag = [...document.querySelectorAll("script[src]")].find((s) => s.src === import.meta.url);
const data = tag?.dataset ?? {};

async function json(name) {
  return fetch(new URL(name, BASE), { cache: "no-store" })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
}

async function settings() {
  const [config, topics] = await Promise.all([data.rasaUrl ? null : json("config.json"), json("topics.json")]);
  const all = Array.isArray(topics) ? topics : [];
  const wanted = (data.topics || "").split(/[\s,]+/).filter(Boolean);
  const chosen = wanted.length ? wanted.map((id) => all.find((t) => t.intent === id)).filter(Boolean) : all.slice(0, DEFAULTS.topicCount);
  return {
    rasaUrl: data.rasaUrl || config?.rasaUrl || "http://localhost:5005",
    title: data.title || DEFAULTS.title,
    launcher: data.launcherLabel || DEFAULTS.launcher,
    topics: chosen.map((t) => ({ title: t.title, payload: `/${t.intent}` })),
  };
}

function element(tagName, attributes = {}, text = "") {
  const node = document.createElement(tagName);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

async function mount() {
  const options = await settings();
  const host = element("div", { id: "egov-login-help" });
  const root = host.attachShadow({ mode: "open" });
  root.append(element("link", { rel: "stylesheet", href: new URL("widget.css", BASE).href }));

  const launcher = element("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "egov-panel" }, options.launcher);
  const panel = element("section", { id: "egov-panel", class: "panel", role: "dialog", "aria-labelledby": "egov-title", hidden: "" });
  const header = element("div", { class: "panel-header" });
  const title = element("h2", { id: "egov-title" }, options.title);
  const restartButton = element("button", { type: "button", class: "text-button" }, DEFAULTS.restart);
  const closeButton = element("button", { type: "button", class: "text-button", "aria-label": `${options.title}を${DEFAULTS.close}` }, DEFAULTS.close);
  header.append(title, restartButton, closeButton);
  const hint = element("p", { class: "hint" }, DEFAULTS.hint);
  const frame = element("div", { id: "chat", class: "chat-frame", tabindex: "-1" });
  const status = element("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  panel.append(header, hint, frame, status);
  root.append(launcher, panel);
  document.body.append(host);

  const { restart, focus } = mountChat({ frame, status, rasaUrl: options.rasaUrl, topics: options.topics });

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.dataset.open = "true";
    sessionStorage.setItem(OPEN_KEY, "1");
    requestAnimationFrame(() => focus());
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    host.dataset.open = "false";
    sessionStorage.setItem(OPEN_KEY, "0");
    launcher.focus();
  }
  const toggle = () => (panel.hidden ? open() : close());

  launcher.addEventListener("click", toggle);
  closeButton.addEventListener("click", close);
  restartButton.addEventListener("click", restart);
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.isComposing) {
      e.preventDefault();
      close();
    }
  });
  if (sessionStorage.getItem(OPEN_KEY) === "1") {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.dataset.open = "true";
  } else {
    host.dataset.open = "false";
  }
  window.EgovLoginHelp = Object.freeze({ open, close, toggle });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", mount, { once: true });
} else {
  mount();
}
