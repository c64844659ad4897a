// Talking to this node's v1 API: the bearer token, JSON calls, the event
// stream (read with fetch, so it carries the Authorization header), and
// the logs WebSocket (which cannot carry headers: the token goes in the
// `access_token` query parameter the API accepts on upgrades only).

const TOKEN_KEY = "bacalao.apiToken";

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && body.Message) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.hint = (body && body.Hint) || "";
    this.code = (body && body.Code) || "";
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let askingForToken = null;

// Resolves once the user has given a token (one dialog for every caller).
function askForToken(reason) {
  if (askingForToken) return askingForToken;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  document.getElementById("token-error").textContent = reason;
  askingForToken = new Promise((resolve) => {
    form.addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        setToken(input.value.trim());
        input.value = "";
        dialog.close();
        askingForToken = null;
        resolve();
      },
      { once: true },
    );
  });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return askingForToken;
}

function headers(extra = {}) {
  const all = { Accept: "application/json", ...extra };
  const current = token();
  if (current) all.Authorization = `Bearer ${current}`;
  return all;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return new ApiError(response.status, body);
}

// fetch() with the token; a 401 asks for a (new) token and tries again.
export async function authorizedFetch(path, options = {}) {
  for (;;) {
    const response = await fetch(path, {
      ...options,
      headers: headers(options.headers || {}),
    });
    if (response.status !== 401) return response;
    const error = await errorOf(response);
    await askForToken(token() ? error.message : "");
  }
}

// A JSON API call: the parsed body, or an ApiError with the API's message.
export async function api(path, options = {}) {
  const init = { ...options };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers = { "Content-Type": "application/json" };
    delete init.json;
  }
  const response = await authorizedFetch(path, init);
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

// Parse a text/event-stream body, calling onEvent(name, data) per event
// (and onEvent("open", null) once connected). Resolves when the stream
// ends; rejects with ApiError if it cannot start.
export async function readEvents(path, onEvent, signal) {
  const response = await authorizedFetch(path, {
    signal,
    headers: { Accept: "text/event-stream" },
  });
  if (!response.ok) throw await errorOf(response);
  onEvent("open", null);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return;
  try {
    onEvent(name, JSON.parse(data.join("\n")));
  } catch (error) {
    console.warn("event stream: bad event", error);
  }
}

// The URL of a WebSocket route of this node, with the token if there is one.
export function socketUrl(path, query = {}) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  if (token()) url.searchParams.set("access_token", token());
  return url.toString();
}

// The token is needed before opening a WebSocket (it cannot answer a 401
// with a dialog): a cheap authorized call makes sure we have a good one.
export async function ensureToken() {
  await api("/api/v1/agent/node");
}
