// Keeping a view current: the node's event stream when it serves one
// (GET /api/v1/orchestrator/events), polling the REST routes otherwise.
//
// follow(path, handlers, refresh) loads the view once with refresh(), then
// applies each event with handlers[eventName](data). When the stream ends
// or breaks, it reloads with refresh() and reconnects (1 s, doubling to
// 10 s); a node without the route (404) is polled every 2 s instead.
// It returns a function that stops it all.

import { ApiError, readEvents } from "./api.js";

const POLL_EVERY = 2000;
const RETRY_FIRST = 1000;
const RETRY_MOST = 10000;

function showLive(text, mode) {
  const element = document.getElementById("live");
  if (!element) return;
  element.textContent = text;
  element.dataset.mode = mode;
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function safely(refresh) {
  try {
    await refresh();
  } catch (error) {
    console.warn("refresh failed", error);
  }
}

export function follow(path, handlers, refresh) {
  const controller = new AbortController();
  const { signal } = controller;

  async function poll() {
    showLive("polling every 2 s", "poll");
    while (!signal.aborted) {
      await sleep(POLL_EVERY, signal);
      if (!signal.aborted) await safely(refresh);
    }
  }

  async function stream() {
    let retry = RETRY_FIRST;
    await safely(refresh);
    while (!signal.aborted) {
      try {
        await readEvents(
          path,
          (name, data) => {
            showLive("live", "live");
            retry = RETRY_FIRST;
            const handler = handlers[name];
            if (handler) handler(data);
          },
          signal,
        );
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
          return poll();
        }
      }
      if (signal.aborted) return;
      showLive("reconnecting…", "down");
      await sleep(retry, signal);
      retry = Math.min(retry * 2, RETRY_MOST);
      await safely(refresh);
    }
  }

  showLive("connecting…", "down");
  stream();
  return () => controller.abort();
}
