// Builds web/dist: the help page with the FAQ topics from content/flows.yml, the
// embeddable widget (widget.js, topics.json), the demo host page faq.html made from
// the FAQ itself (content/faq/login.txt), our scripts and styles, and the deep-chat
// bundle copied from node_modules (nothing from a CDN).
// Skips the work when no input changed since the last build.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = join(WEB, "..");
const SRC = join(WEB, "src");
const DIST = join(WEB, "dist");
const FLOWS = join(ROOT, "content", "flows.yml");
const FAQ = join(ROOT, "content", "faq", "login.txt");
const TEMPLATES = ["index.html", "faq.html"];
const DEEP_CHAT = join(WEB, "node_modules", "deep-chat", "dist", "deepChat.bundle.js");
const STAMP = join(DIST, ".build-hash");

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function inputsHash() {
  const hash = createHash("sha256");
  const files = [FLOWS, FAQ, DEEP_CHAT, fileURLToPath(import.meta.url), ...readdirSync(SRC).sort().map((f) => join(SRC, f))];
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest("hex");
}

// The topics, in the order of flows.yml: intent id and title.
export function readTopics(text) {
  const flows = parse(text)?.flows ?? {};
  return Object.entries(flows).map(([intent, flow]) => {
    if (!/^[a-z0-9_]+$/.test(intent)) throw new Error(`flows.yml: unexpected intent name ${JSON.stringify(intent)}`);
    if (!flow?.title) throw new Error(`flows.yml: ${intent} has no title`);
    return { intent, title: String(flow.title) };
  });
}

function topicsHtml(topics) {
  return topics
    .map(
      ({ intent, title }) =>
        `<li><button type="button" class="topic" data-payload="/${intent}">${escapeHtml(title)}</button></li>`,
    )
    .join("\n          ");
}

// The FAQ page as HTML: 「Q.」 lines become headings, the lines after them paragraphs.
export function faqHtml(text) {
  const out = [];
  let open = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+-\s*$/, "").trim();
    if (!line || line === "-") continue;
    if (line.startsWith("Q.")) {
      if (open) out.push("</section>");
      out.push("<section>", `<h2>${escapeHtml(line)}</h2>`);
      open = true;
    } else if (!open) {
      out.push(`<h1>よくあるご質問（${escapeHtml(line)}）</h1>`);
    } else {
      out.push(`<p>${escapeHtml(line.replace(/^A\.\s*/, ""))}</p>`);
    }
  }
  if (open) out.push("</section>");
  return out.join("\n      ");
}

function fill(template, marker, content) {
  const page = readFileSync(join(SRC, template), "utf8");
  if (!page.includes(marker)) throw new Error(`src/${template} lacks the ${marker} marker`);
  writeFileSync(join(DIST, template), page.replace(marker, content));
}

function build() {
  const hash = inputsHash();
  if (existsSync(STAMP) && readFileSync(STAMP, "utf8") === hash) {
    console.log("web/dist is up to date");
    return;
  }
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(join(DIST, "vendor"), { recursive: true });
  const topics = readTopics(readFileSync(FLOWS, "utf8"));
  for (const file of readdirSync(SRC)) {
    if (!TEMPLATES.includes(file)) copyFileSync(join(SRC, file), join(DIST, file));
  }
  fill("index.html", "<!--TOPICS-->", topicsHtml(topics));
  fill("faq.html", "<!--FAQ-->", faqHtml(readFileSync(FAQ, "utf8")));
  writeFileSync(join(DIST, "topics.json"), JSON.stringify(topics));
  copyFileSync(DEEP_CHAT, join(DIST, "vendor", "deep-chat.js"));
  copyFileSync(join(WEB, "node_modules", "deep-chat", "LICENSE"), join(DIST, "vendor", "deep-chat.LICENSE.txt"));
  writeFileSync(STAMP, hash);
  console.log(`web/dist built: ${topics.length} topics`);
}

build();
