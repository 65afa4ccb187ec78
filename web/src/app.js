// The standalone help page: the topic list beside the chat (chat.js).
import { mountChat } from "./chat.js";

const config = await fetch("config.json", { cache: "no-store" })
  .then((r) => r.json())
  .catch(() => ({ rasaUrl: "http://localhost:5005" }));

const frame = document.getElementById("chat");
const { choose, restart } = mountChat({ frame, status: document.getElementById("chat-status"), rasaUrl: config.rasaUrl });

for (const topic of document.querySelectorAll("button.topic")) {
  topic.addEventListener("click", (event) => {
    choose(topic.textContent.trim(), topic.dataset.payload, event);
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    frame.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
  });
}
document.getElementById("restart").addEventListener("click", restart);
