// A picture of the swarm: the nodes on a circle, a line between two nodes
// when either says it holds a connection to the other (each node names
// its connected peers in its signed node info: NodeInfo.ConnectedPeers).

import { nodeName, svg } from "./dom.js";

const SIZE = 360;
const RADIUS = 140;
const DOT = 14;

// How many of the known nodes each node is linked to (per `edges`).
export function linkCounts(nodes) {
  const counts = new Map(nodes.map((n) => [n.Info.NodeID, 0]));
  for (const [a, b] of edges(nodes)) {
    counts.set(a, counts.get(a) + 1);
    counts.set(b, counts.get(b) + 1);
  }
  return counts;
}

// Undirected edges between known nodes, each once.
export function edges(nodes) {
  const known = new Set(nodes.map((n) => n.Info.NodeID));
  const seen = new Set();
  const pairs = [];
  for (const node of nodes) {
    for (const peer of node.Info.ConnectedPeers || []) {
      if (!known.has(peer)) continue;
      const key = [node.Info.NodeID, peer].sort().join(" ");
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push([node.Info.NodeID, peer]);
    }
  }
  return pairs;
}

export function swarmPicture(nodes, selfId) {
  const sorted = [...nodes].sort((a, b) => a.Info.NodeID.localeCompare(b.Info.NodeID));
  const center = SIZE / 2;
  const place = new Map();
  sorted.forEach((node, i) => {
    const angle = (2 * Math.PI * i) / Math.max(sorted.length, 1) - Math.PI / 2;
    const r = sorted.length === 1 ? 0 : RADIUS;
    place.set(node.Info.NodeID, [center + r * Math.cos(angle), center + r * Math.sin(angle)]);
  });
  const links = edges(sorted);
  const lines = links.map(([a, b]) => {
    const [x1, y1] = place.get(a);
    const [x2, y2] = place.get(b);
    return svg("line", { x1, y1, x2, y2, class: "link" });
  });
  const dots = sorted.map((node) => {
    const [x, y] = place.get(node.Info.NodeID);
    const up = node.Connection === "CONNECTED";
    const classes = ["peer", up ? "up" : "down", node.Info.NodeID === selfId ? "self" : ""].join(" ");
    const below = y > center || sorted.length === 1;
    return svg(
      "g",
      { class: classes, "data-node-id": node.Info.NodeID },
      svg("title", {}, `${node.Info.NodeID} (${up ? "connected" : "disconnected"})`),
      svg("circle", { cx: x, cy: y, r: DOT }),
      svg("text", { x, y: below ? y + DOT + 14 : y - DOT - 6, "text-anchor": "middle" }, nodeName(node.Info.NodeID)),
    );
  });
  const summary = `${sorted.length} nodes, ${links.length} connections between them`;
  const ys = [...place.values()].map(([, y]) => y);
  const top = Math.max(0, Math.min(...ys, center) - DOT - 28);
  const bottom = Math.min(SIZE, Math.max(...ys, center) + DOT + 28);
  return svg(
    "svg",
    { viewBox: `0 ${top} ${SIZE} ${bottom - top}`, role: "img", "aria-labelledby": "swarm-title", class: "swarm" },
    svg("title", { id: "swarm-title" }, `The swarm: ${summary}`),
    ...lines,
    ...dots,
  );
}
