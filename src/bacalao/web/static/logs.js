// A job's output as it streams: the node's logs WebSocket, one
// {"value": {"Type": 1|2, "Line": ...}} frame a line (2 = stderr), and a
// last {"error": ...} frame if the stream failed.

import { ensureToken, socketUrl } from "./api.js";
import { h } from "./dom.js";

const MOST_LINES = 5000;

export function openLogs(element, jobId, followOn) {
  let socket = null;
  let closed = false;
  element.textContent = "";
  element.dataset.status = "connecting";

  function add(line, stderr) {
    const pinned = element.scrollTop + element.clientHeight >= element.scrollHeight - 4;
    element.append(stderr ? h("span", { class: "stderr" }, line) : line);
    while (element.childNodes.length > MOST_LINES) element.firstChild.remove();
    if (pinned) element.scrollTop = element.scrollHeight;
  }

  ensureToken()
    .then(() => {
      if (closed) return;
      const path = `/api/v1/orchestrator/jobs/${encodeURIComponent(jobId)}/logs`;
      socket = new WebSocket(socketUrl(path, { follow: followOn ? "true" : "false" }));
      socket.addEventListener("open", () => (element.dataset.status = "streaming"));
      socket.addEventListener("message", (event) => {
        const frame = JSON.parse(event.data);
        if (frame.error) add(`\n[${frame.error}]\n`, true);
        else if (frame.value) add(frame.value.Line, frame.value.Type === 2);
      });
      socket.addEventListener("close", () => {
        element.dataset.status = "ended";
        if (!element.textContent) element.textContent = "(no output)";
      });
    })
    .catch((error) => add(`[${error.message}]`, true));

  return () => {
    closed = true;
    if (socket) socket.close();
  };
}
