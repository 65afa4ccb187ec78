// Turns chat messages into the HTML that the deep-chat widget shows.
// Every text goes in through textContent / setAttribute in an inert document, so
// whatever the bot or the user wrote is shown as characters and never runs.

const URL_PATTERN = /https?:\/\/[^\s<>"'「」『』（）【】、。　]+/g;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

const doc = document.implementation.createHTMLDocument("");

function el(tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeHttpUrl(candidate) {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// Appends one line of text, with http(s) URLs turned into links that open safely.
function appendLinkified(parent, line) {
  let last = 0;
  for (const match of line.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING_PUNCTUATION, "");
    const href = safeHttpUrl(raw);
    if (!href) continue;
    parent.append(line.slice(last, match.index));
    const link = el("a", "egov-link", raw);
    link.setAttribute("href", href);
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
    parent.append(link);
    last = match.index + raw.length;
  }
  parent.append(line.slice(last));
}

// Plain text with newlines as line breaks; links only in the bot's messages.
function textBlock(text, linkify) {
  const block = el("div", "egov-text");
  String(text)
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (i > 0) block.append(el("br"));
      if (linkify) appendLinkified(block, line);
      else block.append(line);
    });
  return block;
}

function repliesBlock(buttons) {
  const group = el("div", "egov-replies");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "選択肢");
  for (const { title, payload } of buttons) {
    const button = el("button", "egov-qr", title);
    button.setAttribute("type", "button");
    button.dataset.payload = payload;
    group.append(button);
  }
  return group;
}

/**
 * @param {{role: string, text?: string, buttons?: {title: string, payload: string}[], kind?: string, retry?: boolean, index?: number}} message
 *   kind "error" with retry shows a 再送信 button that refers to the message's index.
 * @returns {string} HTML for deep-chat's `html` message field
 */
export function messageHtml(message) {
  const root = el("div");
  if (message.kind === "error") {
    const box = el("div", "egov-error");
    box.append(textBlock(message.text, false));
    if (message.retry) {
      const retry = el("button", "egov-retry", "再送信する");
      retry.setAttribute("type", "button");
      retry.dataset.index = String(message.index);
      box.append(retry);
    }
    root.append(box);
  } else if (message.kind === "note") {
    root.append(el("div", "egov-note", message.text));
  } else {
    if (message.text) root.append(textBlock(message.text, message.role !== "user"));
    const buttons = (message.buttons || []).filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
    if (buttons.length) root.append(repliesBlock(buttons));
  }
  return root.innerHTML;
}

/**
 * The user's own words for deep-chat's Markdown renderer: every ASCII punctuation mark
 * escaped and leading spaces kept, so "1. *a*" or "<b>" appear exactly as typed.
 */
export function literalMarkdown(text) {
  return String(text)
    .replace(/[\\!"#$%&'()*+,\-./:;<=>?@[\]^_`{|}~]/g, "\\$&")
    .replace(/^[ \t]+/gm, (space) => space.replace(/\t/g, "    ").replace(/ /g, "\u00a0"));
}

/** The text a screen reader hears for a bot message. */
export function spokenText(message) {
  const titles = (message.buttons || []).map((b) => b.title);
  return [message.text || "", titles.length ? `選択肢: ${titles.join("、")}` : ""].filter(Boolean).join(" ");
}
