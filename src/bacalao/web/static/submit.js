// The submit form: a simple Docker or WASM job, PUT to the node's jobs
// route; the API's own validation message (and hint) is shown as it is.

import { api } from "./api.js";
import { errorBox, h, heading, replace } from "./dom.js";

const JOBS = "/api/v1/orchestrator/jobs";
const WASM_DIR = "/app";
const CID = /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$/;

function field(id, label, input, help) {
  const describedBy = help ? `${id}-help` : undefined;
  input.id = id;
  input.name = id;
  if (describedBy) input.setAttribute("aria-describedby", describedBy);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, help ? h("p", { class: "help", id: describedBy }, help) : null);
}

const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function wasmEngine(form, args) {
  const file = form.querySelector("#module-file").files[0];
  const given = form.querySelector("#module-url").value.trim();
  let source;
  let name = "module.wasm";
  if (file) {
    name = file.name.replace(/[^A-Za-z0-9._-]/g, "_") || name;
    source = { Type: "inline", Params: { URL: `data:application/wasm;base64,${await readBase64(file)}` } };
  } else if (CID.test(given) || given.startsWith("ipfs://")) {
    const cid = given.replace(/^ipfs:\/\//, "");
    source = { Type: "ipfs", Params: { CID: cid } };
    name = `${cid}.wasm`;
  } else if (given) {
    source = { Type: "urlDownload", Params: { URL: given } };
    name = given.split("/").pop().split("?")[0] || name;
  } else {
    return { engine: { Type: "wasm", Params: { EntryModule: "" } }, inputs: [] };
  }
  const target = `${WASM_DIR}/${name}`;
  const engine = { Type: "wasm", Params: { EntryModule: target, Parameters: args } };
  return { engine, inputs: [{ Source: source, Target: target }] };
}

function dockerEngine(form, args) {
  const params = { Image: form.querySelector("#image").value.trim(), Parameters: args };
  const entrypoint = lines(form.querySelector("#entrypoint").value);
  if (entrypoint.length) params.Entrypoint = entrypoint;
  return { engine: { Type: "docker", Params: params }, inputs: [] };
}

function labels(text) {
  const out = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    out[at < 0 ? part : part.slice(0, at).trim()] = at < 0 ? "" : part.slice(at + 1).trim();
  }
  return out;
}

export async function buildJob(form) {
  const engineType = form.querySelector("input[name=engine]:checked").value;
  const args = lines(form.querySelector("#args").value);
  const { engine, inputs } = engineType === "wasm" ? await wasmEngine(form, args) : dockerEngine(form, args);
  const job = {
    Type: "batch",
    Count: 1,
    Labels: labels(form.querySelector("#labels").value),
    Tasks: [{ Name: "main", Engine: engine, InputSources: inputs }],
  };
  const name = form.querySelector("#name").value.trim();
  if (name) job.Name = name;
  return { Job: job };
}

function engineChoice() {
  const radio = (value, label, checked) =>
    h("label", { class: "choice" }, h("input", { type: "radio", name: "engine", value, checked }), ` ${label}`);
  return h("fieldset", {}, h("legend", {}, "Engine"), radio("docker", "Docker", true), radio("wasm", "WebAssembly (WASI)", false));
}

export function submitView(root) {
  const outcome = h("div", { "aria-live": "polite", id: "submit-outcome" });
  const dockerFields = h(
    "div",
    { class: "engine-fields", dataset: { engine: "docker" } },
    field("image", "Image", h("input", { autocomplete: "off", placeholder: "busybox:1.37.0" }), "A Docker image reference, e.g. ubuntu:24.04"),
    field("entrypoint", "Entrypoint (optional, one part a line)", h("textarea", { rows: 2 })),
  );
  const wasmFields = h(
    "div",
    { class: "engine-fields", dataset: { engine: "wasm" }, hidden: true },
    field("module-file", "Module file", h("input", { type: "file", accept: ".wasm,application/wasm" }), "Sent inline with the job (small modules)."),
    field("module-url", "…or module URL or IPFS CID", h("input", { autocomplete: "off", placeholder: "https://… or Qm…" })),
  );
  const form = h(
    "form",
    { class: "submit", "aria-labelledby": "view-title", novalidate: true },
    engineChoice(),
    dockerFields,
    wasmFields,
    field("args", "Arguments (one a line)", h("textarea", { rows: 3, placeholder: "echo\nhello" })),
    field("name", "Name (optional)", h("input", { autocomplete: "off" })),
    field("labels", "Labels (optional)", h("input", { autocomplete: "off", placeholder: "team=data, env=test" })),
    h("button", { type: "submit" }, "Submit job"),
  );
  form.addEventListener("change", (event) => {
    if (event.target.name !== "engine") return;
    dockerFields.hidden = event.target.value !== "docker";
    wasmFields.hidden = event.target.value !== "wasm";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    replace(outcome, h("p", {}, "Submitting…"));
    try {
      const answer = await api(JOBS, { method: "PUT", json: await buildJob(form) });
      const link = h("a", { href: `#/jobs/${encodeURIComponent(answer.JobID)}` }, answer.JobID);
      const warnings = (answer.Warnings || []).map((w) => h("li", {}, w));
      replace(outcome, h("p", { class: "ok", role: "status" }, "Submitted job ", link), warnings.length ? h("ul", { class: "warnings" }, warnings) : null);
    } catch (error) {
      replace(outcome, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  replace(root, heading("Submit a job"), form, outcome);
  const live = document.getElementById("live");
  live.textContent = "";
  live.dataset.mode = "";
  return () => {};
}
