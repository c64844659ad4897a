// Building the page: elements from data (never innerHTML, so nothing a job
// or node says can become markup), and the formats every view shares.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

// A table row whose cells carry their column's name (data-label), which
// the phone layout shows beside each value when rows become cards.
export function dataRow(attrs, columns, cells) {
  const td = (one, i) => h("td", { "data-label": columns[i], ...one.attrs }, h("div", {}, one.content));
  return h("tr", attrs, cells.map(td));
}

export const cell = (content, attrs = {}) => ({ content, attrs });

export function headRow(columns) {
  return h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c))));
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

export const JOB_STATES = ["Pending", "Queued", "Running", "Completed", "Failed", "Stopped"];
export const TERMINAL = new Set(["Completed", "Failed", "Stopped"]);
const EXECUTION_STATES = [
  "Undefined", "New", "AskForBid", "AskForBidAccepted", "AskForBidRejected",
  "BidAccepted", "Running", "Publishing", "BidRejected", "Completed", "Failed",
  "Cancelled",
];
const DESIRED_STATES = ["Pending", "Running", "Stopped"];

const named = (names, value) => (typeof value === "number" ? names[value] || String(value) : String(value));
export const executionState = (value) => named(EXECUTION_STATES, value);
export const desiredState = (value) => named(DESIRED_STATES, value);
export const jobState = (job) => String((job.State && job.State.StateType) || "Undefined");

export function badge(state) {
  return h("span", { class: `badge state-${state.toLowerCase()}` }, state);
}

export const shortId = (id, size = 10) => (id && id.length > size ? id.slice(0, size) : id || "");
export const nodeName = (id) => (id ? `…${id.slice(-8)}` : "");

// Job and execution times are Unix nanoseconds; history times are ISO text.
export function when(value) {
  if (!value) return "";
  const date = typeof value === "number" ? new Date(value / 1e6) : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

export function timeElement(value) {
  const text = when(value);
  if (!text) return "";
  const iso = (typeof value === "number" ? new Date(value / 1e6) : new Date(value)).toISOString();
  return h("time", { datetime: iso }, text);
}

export function bytes(value) {
  if (!value) return "0";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let size = Number(value);
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(size >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function copyButton(text, label) {
  const button = h("button", { type: "button", class: "small", "aria-label": label }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => (button.textContent = "Copy"), 1500);
  });
  return button;
}

export function errorBox(error) {
  const hint = error && error.hint ? h("p", { class: "hint" }, error.hint) : null;
  return h("div", { class: "error-box", role: "alert" }, h("p", {}, String(error.message || error)), hint);
}

export function labelsText(labels) {
  return Object.entries(labels || {}).map(([key, value]) => `${key}=${value}`).join(", ");
}

export function heading(text) {
  const title = h("h2", { id: "view-title" }, text);
  document.title = `${text} · bacalao`;
  return title;
}
