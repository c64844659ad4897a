// The nodes view: every node this node knows (type, engines, capacity and
// use, labels, liveness) and a picture of who is connected to whom, live.

import { api } from "./api.js";
import { bytes, cell, dataRow, h, headRow, heading, labelsText, nodeName, replace, timeElement } from "./dom.js";
import { follow } from "./live.js";
import { linkCounts, swarmPicture } from "./swarm.js";

const NODES = "/api/v1/orchestrator/nodes";
const COLUMNS = ["Node", "Type", "Engines", "Capacity in use", "Labels", "Liveness", "Links"];

function kind(info) {
  if (info.ComputeNodeInfo && info.Orchestrator) return "Hybrid";
  return info.ComputeNodeInfo ? "Compute" : "Requester";
}

function use(compute) {
  if (!compute) return "";
  const max = compute.MaxCapacity || {};
  const free = compute.AvailableCapacity || {};
  const cpu = `${((max.CPU || 0) - (free.CPU || 0)).toFixed(1)} / ${(max.CPU || 0).toFixed(1)} CPU`;
  const memory = `${bytes((max.Memory || 0) - (free.Memory || 0))} / ${bytes(max.Memory)} memory`;
  const gpu = max.GPU ? `, ${(max.GPU || 0) - (free.GPU || 0)} / ${max.GPU} GPU` : "";
  const running = `${compute.RunningExecutions || 0} running, ${compute.EnqueuedExecutions || 0} queued`;
  return [h("div", {}, cpu), h("div", {}, memory + gpu), h("div", { class: "note" }, running)];
}

function row(node, selfId, links) {
  const info = node.Info;
  const up = node.Connection === "CONNECTED";
  const compute = info.ComputeNodeInfo;
  const liveness = [
    h("span", { class: `badge ${up ? "state-completed" : "state-failed"}` }, up ? "connected" : "disconnected"),
    node.Membership !== "APPROVED" ? h("span", { class: "note" }, ` ${node.Membership.toLowerCase()}`) : "",
    h("div", { class: "note" }, "heartbeat ", timeElement(node.ConnectionState.LastHeartbeat)),
  ];
  const self = info.NodeID === selfId ? h("span", { class: "note" }, " (this node)") : "";
  return dataRow({ dataset: { nodeId: info.NodeID, connection: node.Connection } }, COLUMNS, [
    cell([h("code", {}, nodeName(info.NodeID)), self], { title: info.NodeID }),
    cell(kind(info)),
    cell(compute ? compute.ExecutionEngines.join(", ") : ""),
    cell(use(compute)),
    cell(labelsText(info.Labels), { class: "wrap" }),
    cell(liveness),
    cell(String(links.get(info.NodeID) || 0), { title: "nodes it is linked to in the picture below" }),
  ]);
}

export function nodesView(root) {
  const nodes = new Map();
  let selfId = "";
  const body = h("tbody");
  const picture = h("figure", { class: "swarm-figure" });
  const summary = h("p", { class: "summary", "aria-live": "polite", id: "nodes-summary" });
  replace(
    root,
    heading("Nodes"),
    summary,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "nodes cards", "aria-describedby": "nodes-summary" },
        headRow(COLUMNS),
        body,
      ),
    ),
    h("section", { "aria-labelledby": "h-swarm" }, h("h3", { id: "h-swarm" }, "Who is connected to whom"), picture),
  );

  let pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const all = [...nodes.values()].sort((a, b) => a.Info.NodeID.localeCompare(b.Info.NodeID));
      const links = linkCounts(all);
      replace(body, all.map((node) => row(node, selfId, links)));
      const up = all.filter((n) => n.Connection === "CONNECTED").length;
      summary.textContent = `${all.length} nodes, ${up} connected`;
      replace(picture, swarmPicture(all, selfId), h("figcaption", {}, "Lines join nodes that hold a connection to each other (as each node last announced); green is this node, grey a disconnected one."));
    });
  }

  async function refresh() {
    const [page, self] = await Promise.all([api(`${NODES}?limit=1000`), api("/api/v1/agent/node")]);
    selfId = self.NodeID;
    nodes.clear();
    for (const node of page.Nodes || []) nodes.set(node.Info.NodeID, node);
    render();
  }
  function onNode(node) {
    if (!node || !node.Info) return;
    nodes.set(node.Info.NodeID, node);
    render();
  }
  return follow("/api/v1/orchestrator/events", { node: onNode }, refresh);
}
