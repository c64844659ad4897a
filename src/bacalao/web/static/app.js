// The dashboard's entry point: a hash router (#/jobs, #/jobs/ID, #/nodes,
// #/submit) that mounts one view at a time and stops the one it replaces.

import { api } from "./api.js";
import { jobView } from "./job.js";
import { jobsView } from "./jobs.js";
import { nodesView } from "./nodes.js";
import { nodeName } from "./dom.js";
import { submitView } from "./submit.js";

let unmount = () => {};

function route() {
  const [, section = "jobs", id] = (window.location.hash || "#/jobs").split("/");
  const root = document.getElementById("view");
  unmount();
  if (section === "jobs" && id) unmount = jobView(root, decodeURIComponent(id));
  else if (section === "nodes") unmount = nodesView(root);
  else if (section === "submit") unmount = submitView(root);
  else unmount = jobsView(root);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function showNode() {
  try {
    const info = await api("/api/v1/agent/node");
    const element = document.getElementById("node-name");
    element.textContent = `node ${nodeName(info.NodeID)}`;
    element.title = info.NodeID;
  } catch (error) {
    console.warn("node info", error);
  }
}

window.addEventListener("hashchange", () => {
  route();
  document.getElementById("view").focus();
});
route();
showNode();
