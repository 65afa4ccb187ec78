// Builds web/dist: the page with the FAQ topics from content/flows.yml, our script
// and style, and the deep-chat bundle copied from node_modules (nothing from a CDN).
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
const DEEP_CHAT = join(WEB, "node_modules", "deep-chat", "dist", "deepChat.bundle.js");
const STAMP = join(DIST, ".build-hash");

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function inputsHash() {
  const hash = createHash("sha256");
  const files = [FLOWS, DEEP_CHAT, fileURLToPath(import.meta.url), ...readdirSync(SRC).sort().map((f) => join(SRC, f))];
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
    if (file === "index.html") continue;
    copyFileSync(join(SRC, file), join(DIST, file));
  }
  const page = readFileSync(join(SRC, "index.html"), "utf8");
  if (!page.includes("<!--TOPICS-->")) throw new Error("src/index.html lacks the <!--TOPICS--> marker");
  writeFileSync(join(DIST, "index.html"), page.replace("<!--TOPICS-->", topicsHtml(topics)));
  copyFileSync(DEEP_CHAT, join(DIST, "vendor", "deep-chat.js"));
  copyFileSync(join(WEB, "node_modules", "deep-chat", "LICENSE"), join(DIST, "vendor", "deep-chat.LICENSE.txt"));
  writeFileSync(STAMP, hash);
  console.log(`web/dist built: ${topics.length} topics`);
}

build();
