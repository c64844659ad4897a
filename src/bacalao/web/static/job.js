// One job: its state and a stop button, executions with their nodes and
// states, the history as a timeline, the output as it streams, the results
// (a download link, and the CID where IPFS published them), the spec.

import { api, authorizedFetch, token } from "./api.js";
import {
  TERMINAL, badge, cell, copyButton, dataRow, desiredState, errorBox, executionState, h, headRow,
  heading, jobState, nodeName, replace, shortId, timeElement,
} from "./dom.js";
import { follow } from "./live.js";
import { openLogs } from "./logs.js";

const JOBS = "/api/v1/orchestrator/jobs";
const COLUMNS = ["Execution", "Node", "State", "Desired", "Exit", "Updated"];
const RAN = new Set(["Running", "Publishing", "Completed", "Failed", "Cancelled"]);

function executionRow(execution) {
  const output = execution.RunOutput;
  const state = executionState(execution.ComputeState.StateType);
  const message = execution.ComputeState.Message;
  return dataRow({ dataset: { executionId: execution.ID } }, COLUMNS, [
    cell(shortId(execution.ID, 12), { title: execution.ID }),
    cell(h("a", { href: "#/nodes" }, nodeName(execution.NodeID)), { title: execution.NodeID }),
    cell([badge(state), message ? h("span", { class: "note" }, ` ${message}`) : ""]),
    cell(desiredState(execution.DesiredState.StateType)),
    cell(output ? String(output.ExitCode) : ""),
    cell(timeElement(execution.ModifyTime)),
  ]);
}

function historyItem(item) {
  const change = item.ExecutionState || item.JobState;
  const states = change && item.ExecutionState
    ? `${executionState(change.Previous)} → ${executionState(change.New)}`
    : change ? `${change.Previous} → ${change.New}` : "";
  const who = item.ExecutionID ? `execution ${shortId(item.ExecutionID, 12)} on ${nodeName(item.NodeID)}` : "job";
  return h(
    "li",
    { class: item.ExecutionID ? "execution" : "job" },
    timeElement(item.Time),
    h("span", { class: "topic" }, item.Event.Topic || ""),
    h("span", { class: "message" }, item.Event.Message || states),
    h("span", { class: "who" }, who, states && item.Event.Message ? ` · ${states}` : ""),
  );
}

async function downloadWithToken(url, name) {
  const response = await authorizedFetch(url);
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

function resultItem(result, jobId) {
  const given = result.Params && result.Params.URL;
  // a compute node names this URL: only http(s) becomes a link
  const url = given && /^https?:\/\//i.test(given) ? given : "";
  if (!url) return h("li", {}, `${result.Type}: `, h("code", {}, JSON.stringify(result.Params)));
  const name = `${jobId}-results.tar.gz`;
  // the token goes only to this node (a pre-signed S3 URL needs none)
  const ours = new URL(url, window.location.href).origin === window.location.origin;
  if (!token() || !ours) return h("li", {}, h("a", { href: url, download: name, class: "download" }, "Download results"));
  const button = h("button", { type: "button", class: "download" }, "Download results");
  button.addEventListener("click", () => downloadWithToken(url, name).catch((e) => alert(e.message)));
  return h("li", {}, button);
}

function cidItems(executions) {
  return executions
    .filter((e) => e.PublishedResult && e.PublishedResult.Type === "ipfs" && e.PublishedResult.Params.CID)
    .map((e) => {
      const cid = e.PublishedResult.Params.CID;
      return h("li", {}, "IPFS CID ", h("code", { class: "cid" }, cid), " ", copyButton(cid, "Copy the CID"));
    });
}

export function jobView(root, jobId) {
  const title = heading(`Job ${shortId(jobId, 13)}`);
  const state = h("p", { class: "job-state", "aria-live": "polite" });
  const stop = h("button", { type: "button", class: "danger", hidden: true }, "Stop job");
  const message = h("div", {});
  const executions = h("tbody");
  const timeline = h("ol", { class: "timeline" });
  const logs = h("pre", { class: "logs", tabindex: "0", "aria-label": "Job output" });
  const results = h("ul", { class: "results" });
  const spec = h("pre", { class: "spec", tabindex: "0" });
  replace(
    root,
    h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")),
    title, state, stop, message,
    h("section", { "aria-labelledby": "h-exec" }, h("h3", { id: "h-exec" }, "Executions"),
      h("div", { class: "scroll" }, h("table", { class: "cards" }, headRow(COLUMNS), executions))),
    h("section", { "aria-labelledby": "h-logs" }, h("h3", { id: "h-logs" }, "Output"), logs),
    h("section", { "aria-labelledby": "h-results" }, h("h3", { id: "h-results" }, "Results"), results),
    h("section", { "aria-labelledby": "h-history" }, h("h3", { id: "h-history" }, "History"), timeline),
    h("details", {}, h("summary", {}, "Spec"), spec),
  );

  let job = null;
  let logStream = null;
  let resultsShown = false;
  const stopLogs = () => logStream && logStream();

  function show(data) {
    if (job && (data.Job.Revision || 0) < (job.Revision || 0)) return;
    job = data.Job;
    const current = jobState(job);
    title.textContent = `Job ${job.Name && job.Name !== job.ID ? job.Name : shortId(job.ID, 13)}`;
    replace(state, badge(current), " ", h("code", {}, job.ID), job.State.Message ? ` — ${job.State.Message}` : "");
    state.dataset.state = current;
    stop.hidden = TERMINAL.has(current);
    spec.textContent = JSON.stringify({ Type: job.Type, Count: job.Count, Labels: job.Labels, Tasks: job.Tasks }, null, 2);
    const list = (data.Executions && data.Executions.Items) || data.Executions || [];
    if (Array.isArray(list)) {
      replace(executions, list.map(executionRow));
      if (!logStream && list.some((e) => RAN.has(executionState(e.ComputeState.StateType)))) {
        logStream = openLogs(logs, job.ID, !TERMINAL.has(current));
      }
      if (TERMINAL.has(current) && !resultsShown) showResults(list);
    }
    if (data.History) replace(timeline, (data.History.Items || []).map(historyItem));
  }

  async function showResults(list) {
    resultsShown = true;
    try {
      const page = await api(`${JOBS}/${encodeURIComponent(jobId)}/results`);
      const items = (page.Items || []).map((r) => resultItem(r, jobId));
      replace(results, items, cidItems(list));
      if (!results.children.length) results.append(h("li", {}, "This job published no results."));
    } catch (error) {
      replace(results, h("li", {}, errorBox(error)));
    }
  }

  async function refresh() {
    try {
      show(await api(`${JOBS}/${encodeURIComponent(jobId)}?include=executions,history`));
      replace(message);
    } catch (error) {
      replace(message, errorBox(error));
    }
  }

  let historyTimer = null;
  function onJob(data) {
    if (!data || !data.Job || data.Job.ID !== (job ? job.ID : data.Job.ID)) return;
    show(data);
    clearTimeout(historyTimer);
    historyTimer = setTimeout(async () => {
      const page = await api(`${JOBS}/${encodeURIComponent(data.Job.ID)}/history`).catch(() => null);
      if (page) replace(timeline, (page.Items || []).map(historyItem));
    }, 200);
  }

  stop.addEventListener("click", async () => {
    if (!window.confirm(`Stop job ${job.ID}?`)) return;
    try {
      await api(`${JOBS}/${encodeURIComponent(job.ID)}`, { method: "DELETE", json: { reason: "stopped from the dashboard" } });
      await refresh();
    } catch (error) {
      replace(message, errorBox(error));
    }
  });

  const stopFollowing = follow(`/api/v1/orchestrator/events?job_id=${encodeURIComponent(jobId)}`, { job: onJob }, refresh);
  return () => {
    stopFollowing();
    stopLogs();
    clearTimeout(historyTimer);
  };
}
