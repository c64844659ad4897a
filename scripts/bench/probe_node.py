#!/usr/bin/env python3
"""Bench-only node launcher: `bacalao serve` plus a gossip probe topic.

    python scripts/bench/probe_node.py --repo DIR [serve's flags ...]

Builds the node's config exactly as `bacalao serve` does (defaults <
config.yaml < BACALAO_* env < flags), runs `bacalao.node.Node` and prints
the same banner. On top, it subscribes to the topic `bacalao-bench-probe`
(through the node's own `swarm.gossip`, so probes travel the same
gossipsub mesh and signing/validation path as node-info and heartbeats):

- a line `probe ID` on stdin publishes one probe and prints
  `probe-sent ID UNIXTIME`;
- every probe received prints `probe-recv ID UNIXTIME`.

The swarm figures (5, 6, 7) start these instead of `bacalao serve` so the
gossip figure can see deliveries without a hook in the product.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
import trio
from pydantic import BaseModel

from bacalao.config import load_config
from bacalao.node import Node, NodeHandle
from bacalao.p2p.gossip import Topic


class Probe(BaseModel):
    ID: str
    SentAt: float


PROBE = Topic("bacalao-bench-probe", Probe)


def _say(text: str) -> None:
    print(text, flush=True)


async def _commands(node: Node) -> None:
    """Publish a probe for each `probe ID` line on stdin, until EOF."""
    stream = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    async with stream:
        while chunk := await stream.receive_some(4096):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                word, _, probe_id = line.decode().strip().partition(" ")
                if word != "probe" or not probe_id:
                    continue
                sent = time.time()
                await node.swarm.gossip.publish(PROBE, Probe(ID=probe_id, SentAt=sent))
                _say(f"probe-sent {probe_id} {sent:.6f}")


def _received(_sender: str, probe: Probe) -> None:
    _say(f"probe-recv {probe.ID} {time.time():.6f}")


async def _main(config: Any) -> None:
    async with trio.open_nursery() as nursery:
        node = Node(config)
        handle: NodeHandle = await nursery.start(node.run)
        await nursery.start(node.swarm.gossip.serve, PROBE, _received)
        _say(f"bacalao node {handle.node_id}")
        _say(f"  API:   {handle.api_url}")
        for addr in handle.swarm_addrs:
            _say(f"  swarm: {addr}")
        nursery.start_soon(_commands, node)
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break


@click.command()
@click.option("--repo", type=click.Path(path_type=Path), required=True)
@click.option("--peer", "peers", multiple=True)
@click.option("--swarm-host", default=None)
@click.option("--swarm-port", type=int, default=None)
@click.option("--api-port", type=int, default=None)
@click.option("--compute/--no-compute", default=None)
@click.option("--allow-noop", is_flag=True, default=None)
@click.option("--engines", default=None)
def main(
    repo: Path,
    peers: tuple[str, ...],
    swarm_host: str | None,
    swarm_port: int | None,
    api_port: int | None,
    compute: bool | None,
    allow_noop: bool | None,
    engines: str | None,
) -> None:
    config = load_config(
        repo,
        peers=list(peers) or None,
        swarm_host=swarm_host,
        swarm_port=swarm_port,
        api_host="127.0.0.1",
        api_port=api_port,
        compute=compute,
        allow_noop=allow_noop,
        engines=engines.split(",") if engines else None,
    )
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    trio.run(_main, config)


if __name__ == "__main__":
    main()
