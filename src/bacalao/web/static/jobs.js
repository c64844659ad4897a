// The jobs view: every job this node knows, newest first, kept live, with
// filters by state, type and label and a search by ID prefix or name.

import { api } from "./api.js";
import {
  JOB_STATES, badge, cell, dataRow, h, headRow, heading, jobState, labelsText, replace, shortId, timeElement,
} from "./dom.js";
import { follow } from "./live.js";

const JOBS = "/api/v1/orchestrator/jobs";
const TYPES = ["batch", "ops", "daemon", "service"];
const SHOWN = 500;
const COLUMNS = ["ID", "Name", "Type", "State", "Created", "Labels"];

function select(id, label, values) {
  return [
    h("label", { for: id }, label),
    h("select", { id, name: id }, h("option", { value: "" }, "any"), values.map((v) => h("option", { value: v }, v))),
  ];
}

// "key=value, other" -> [[key, value], [other, null]]
function parseLabels(text) {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf("=");
      return at < 0 ? [part, null] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    });
}

function matches(job, filter) {
  if (filter.state && jobState(job) !== filter.state) return false;
  if (filter.type && job.Type !== filter.type) return false;
  const labels = job.Labels || {};
  for (const [key, value] of filter.labels) {
    if (!(key in labels) || (value !== null && labels[key] !== value)) return false;
  }
  const search = filter.search;
  if (search && !job.ID.startsWith(search) && !(job.Name || "").toLowerCase().includes(search.toLowerCase())) {
    return false;
  }
  return true;
}

function row(job) {
  const link = h("a", { href: `#/jobs/${encodeURIComponent(job.ID)}`, title: job.ID }, shortId(job.ID, 13));
  const engine = ((job.Tasks || [])[0] || {}).Engine || {};
  return dataRow({ dataset: { jobId: job.ID, state: jobState(job) } }, COLUMNS, [
    cell(link),
    cell(job.Name === job.ID ? "" : job.Name, { class: "wrap" }),
    cell([job.Type, engine.Type ? ` · ${engine.Type}` : ""]),
    cell(badge(jobState(job))),
    cell(timeElement(job.CreateTime)),
    cell(labelsText(job.Labels), { class: "wrap" }),
  ]);
}

export function jobsView(root) {
  const jobs = new Map();
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter jobs" },
    h("div", {}, ...select("filter-state", "State", JOB_STATES)),
    h("div", {}, ...select("filter-type", "Type", TYPES)),
    h("div", {}, h("label", { for: "filter-labels" }, "Labels"), h("input", { id: "filter-labels", placeholder: "env=prod, gpu" })),
    h("div", {}, h("label", { for: "filter-search" }, "ID prefix or name"), h("input", { id: "filter-search", type: "search" })),
  );
  const body = h("tbody");
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const table = h(
    "table",
    { class: "jobs cards", "aria-describedby": "jobs-summary" },
    h("caption", { class: "visually-hidden" }, "Jobs, newest first"),
    headRow(COLUMNS),
    body,
  );
  summary.id = "jobs-summary";
  replace(root, heading("Jobs"), form, summary, h("div", { class: "scroll" }, table));

  let pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const filter = {
        state: form.querySelector("#filter-state").value,
        type: form.querySelector("#filter-type").value,
        labels: parseLabels(form.querySelector("#filter-labels").value),
        search: form.querySelector("#filter-search").value.trim(),
      };
      const all = [...jobs.values()].sort((a, b) => b.CreateTime - a.CreateTime);
      const shown = all.filter((job) => matches(job, filter)).slice(0, SHOWN);
      replace(body, shown.map(row));
      summary.textContent = `${shown.length} of ${all.length} jobs shown`;
    });
  }
  form.addEventListener("input", render);
  form.addEventListener("submit", (event) => event.preventDefault());

  async function refresh() {
    const page = await api(`${JOBS}?limit=${SHOWN}&order_by=created_at&reverse=true`);
    jobs.clear();
    for (const job of page.Items || []) jobs.set(job.ID, job);
    render();
  }
  function onJob(data) {
    const job = data && data.Job;
    if (!job) return;
    const known = jobs.get(job.ID);
    if (!known || (job.Revision || 0) >= (known.Revision || 0)) jobs.set(job.ID, job);
    render();
  }
  return follow("/api/v1/orchestrator/events", { job: onJob }, refresh);
}
